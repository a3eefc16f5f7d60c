/**
 * Per-connection subscriptions (pure: no I/O, no timers; the caller passes `nowMs` and asks for
 * {@link SubscriptionSet.nextDeadline} to set its one timer).
 *
 * - Routing: an event goes to a subscription whose channels include `events` or the event's
 *   channel (protocol.ts `channelOf`), and whose filters all match; metrics windows to `metrics`,
 *   alerts to `alerts` (both filtered by `agent_ids` only).
 * - Scope: a `viewer` gets only events whose `user_id` equals its `sub`; metrics and alerts hold
 *   every user's activity, so a viewer may not subscribe to them (FORBIDDEN).
 * - At most once per subscription: the last `dedupCapacity` keys (event_id) are remembered.
 * - Tiers (CONTRACTS.md section 3): `critical` → an `event` frame at once; `operational` →
 *   `batch` within 100 ms or 50 events; `analytical` → within 500 ms or 200 events. A batch is
 *   written `flushAfterMs` (60 ms, 450 ms) after the first event's `enriched_at` (the time it spent
 *   in Kafka counts), or on the next timer turn when it arrived later than that (so the events of one
 *   Kafka fetch still share a frame). With a client update interval, a tier is flushed at most
 *   once per interval (frames still hold at most the tier's batch size).
 */
import type { Role } from './auth.ts'
import type { StreamItem } from './event-json.ts'
import { channelOf, type Channel, type ClientMessage, type ProtocolError, type ServerMessage, type SubscriptionFilters } from './protocol.ts'

type BatchTier = 'operational' | 'analytical'

/**
 * Latency budget and batch size per batched tier (CONTRACTS.md section 3), and when a batch is
 * written: `flushAfterMs` after its first event's enrichment, ahead of the budget so that the
 * timer's lateness on a busy event loop, the write and the network fit in it: 40 ms for the
 * operational tier (at 10 ms ahead, fresh-clone runs on a 2-core machine running the whole stack
 * delivered single operational batches 32-37 ms past the 100 ms budget), 50 ms for the
 * analytical one.
 */
export const TIER_BUDGETS: Readonly<Record<BatchTier, { readonly maxDelayMs: number; readonly maxEvents: number; readonly flushAfterMs: number }>> = Object.freeze({
  operational: Object.freeze({ maxDelayMs: 100, maxEvents: 50, flushAfterMs: 60 }),
  analytical: Object.freeze({ maxDelayMs: 500, maxEvents: 200, flushAfterMs: 450 }),
})

/** A frame to write, with what the writer needs for its slow-client policy and metrics. */
export interface Outbound {
  readonly message: ServerMessage
  /** The events' tier (null for other frames). */
  readonly tier: 'critical' | BatchTier | null
  /** Latency starts of the events in the frame, epoch ms (event time, or record time of replayed events; event-json.ts). */
  readonly eventTimesMs: readonly number[]
}

export interface SubscriptionLimits {
  /** Most subscriptions per connection. */
  readonly maxSubscriptions: number
  /** Event ids remembered per subscription for dedup. */
  readonly dedupCapacity: number
  /** Most events buffered per subscription and tier; older ones are dropped beyond it. */
  readonly maxBufferedEvents: number
}

export const DEFAULT_SUBSCRIPTION_LIMITS: SubscriptionLimits = Object.freeze({ maxSubscriptions: 20, dedupCapacity: 10_000, maxBufferedEvents: 2_000 })

type Subscribe = Extract<ClientMessage, { type: 'subscribe' }>

interface Buffer {
  items: { json: Record<string, unknown>; timeMs: number; latencyFromMs: number }[]
  /** When the batch's budget started, epoch ms: the first event's enrichment time (see budgetStart). */
  since: number
}

class Subscription {
  readonly seen = new Set<string>()
  readonly buffers: Record<BatchTier, Buffer | null> = { operational: null, analytical: null }
  readonly lastFlushMs: Record<BatchTier, number> = { operational: -Infinity, analytical: -Infinity }
  constructor(
    readonly id: string,
    readonly channels: ReadonlySet<Channel>,
    readonly filters: SubscriptionFilters,
  ) {}

  /** Records `key`; false when it was seen already. */
  firstTime(key: string, capacity: number): boolean {
    if (this.seen.has(key)) return false
    this.seen.add(key)
    if (this.seen.size > capacity) this.seen.delete(this.seen.values().next().value as string)
    return true
  }

  matches(item: StreamItem, scopeUserId: string | null): boolean {
    const f = this.filters
    if (f.agent_ids && !item.agentIds.some((a) => f.agent_ids!.includes(a))) return false
    if (item.kind === 'metrics') return this.channels.has('metrics')
    if (item.kind === 'alert') return this.channels.has('alerts')
    if (scopeUserId !== null && item.userId !== scopeUserId) return false
    if (!this.channels.has('events') && !this.channels.has(channelOf(item.eventType))) return false
    if (f.event_types && !f.event_types.includes(item.eventType)) return false
    if (f.tiers && !f.tiers.includes(item.tier)) return false
    if (f.min_confidence !== undefined && (item.confidence === null || item.confidence < f.min_confidence)) return false
    return true
  }
}

/** Parsed `enriched_at` of event items, epoch ms (parsed once per item, not per subscription). */
const enrichedAtCache = new WeakMap<StreamItem, number | null>()

function enrichedAtMs(item: StreamItem): number | null {
  let ms = enrichedAtCache.get(item)
  if (ms === undefined) {
    const iso = item.json.enriched_at
    const parsed = typeof iso === 'string' ? Date.parse(iso) : Number.NaN
    ms = Number.isFinite(parsed) ? parsed : null
    enrichedAtCache.set(item, ms)
  }
  return ms
}

/**
 * When a new batch's budget starts: the first event's enrichment time (`enriched_at`), so that
 * the time the event spent in Kafka counts against the tier budget ("within 100 ms of
 * enrichment"); never later than `nowMs`, and at most `flushAfterMs` before it, so that an event
 * that arrives already overdue (consumer lag, or the enrichment host's clock ahead of this one)
 * is written on the next timer turn, together with the rest of its Kafka fetch, rather than
 * inline one frame per event. Events without `enriched_at` start at `nowMs`.
 */
function budgetStart(item: StreamItem, tier: BatchTier, nowMs: number): number {
  const enrichedAt = enrichedAtMs(item)
  if (enrichedAt === null) return nowMs
  return Math.min(nowMs, Math.max(nowMs - TIER_BUDGETS[tier].flushAfterMs, enrichedAt))
}

/** The subscriptions of one connection. */
export class SubscriptionSet {
  private readonly subs = new Map<string, Subscription>()
  private intervalMs: number | null = null
  private next = 1
  /** Events dropped because a buffer was full (read and reset by the caller for metrics). */
  droppedBufferFull = 0

  /**
   * @param principal the connection's user and roles
   * @param limits per-connection limits
   */
  constructor(
    private readonly principal: { readonly userId: string; readonly roles: readonly Role[] },
    private readonly limits: SubscriptionLimits = DEFAULT_SUBSCRIPTION_LIMITS,
  ) {}

  /** The user whose events only this connection may see, or null for all users. */
  get scopeUserId(): string | null {
    return this.principal.roles.includes('operator') || this.principal.roles.includes('admin') ? null : this.principal.userId
  }

  get size(): number {
    return this.subs.size
  }

  /** Adds a subscription, or refuses it (FORBIDDEN, TOO_MANY_SUBSCRIPTIONS). */
  subscribe(msg: Subscribe): { subscriptionId: string; reply: ServerMessage } | ProtocolError {
    const idPart = msg.id !== undefined ? { id: msg.id } : {}
    if (this.principal.roles.length === 0) return { error: { code: 'FORBIDDEN', message: 'token has no known role (roles must include viewer, operator or admin)', ...idPart } }
    if (this.scopeUserId !== null) {
      const shared = msg.channels.filter((c) => c === 'metrics' || c === 'alerts')
      if (shared.length > 0) {
        return { error: { code: 'FORBIDDEN', message: `channel ${shared.join(' and ')} holds every user's activity, so it needs role operator or admin; a viewer sees only its own events`, ...idPart } }
      }
    }
    if (this.subs.size >= this.limits.maxSubscriptions) {
      return { error: { code: 'TOO_MANY_SUBSCRIPTIONS', message: `a connection may hold at most ${this.limits.maxSubscriptions} subscriptions; unsubscribe one first`, ...idPart } }
    }
    const subscriptionId = `s${this.next++}`
    this.subs.set(subscriptionId, new Subscription(subscriptionId, new Set(msg.channels), msg.filters ?? {}))
    return { subscriptionId, reply: { type: 'subscribed', ...idPart, subscription_id: subscriptionId, channels: msg.channels } }
  }

  /** Removes a subscription (its buffered events are discarded); false when unknown. */
  unsubscribe(subscriptionId: string): boolean {
    return this.subs.delete(subscriptionId)
  }

  /** Caps how often batches are flushed, ms (protocol bounds checked by the parser). */
  setUpdateInterval(ms: number): void {
    this.intervalMs = ms
  }

  /** Routes one live item to every matching subscription; returns the frames due now. */
  offer(item: StreamItem, nowMs: number): Outbound[] {
    const out: Outbound[] = []
    for (const sub of this.subs.values()) this.deliver(sub, item, nowMs, out)
    return out
  }

  /**
   * Replays history into one subscription (dedup applies), then flushes its buffers at once and
   * appends `recovered`.
   */
  replay(subscriptionId: string, items: readonly StreamItem[], complete: boolean, nowMs: number): Outbound[] {
    const sub = this.subs.get(subscriptionId)
    if (!sub) return []
    const out: Outbound[] = []
    for (const item of items) this.deliver(sub, item, nowMs, out, true)
    for (const tier of ['operational', 'analytical'] as const) this.flush(sub, tier, nowMs, out)
    out.push({ message: { type: 'recovered', subscription_id: sub.id, complete }, tier: null, eventTimesMs: [] })
    return out
  }

  /** Frames of every buffer whose deadline is at or before `nowMs`. */
  due(nowMs: number): Outbound[] {
    const out: Outbound[] = []
    for (const sub of this.subs.values()) {
      for (const tier of ['operational', 'analytical'] as const) {
        if (sub.buffers[tier] && this.deadline(sub, tier)! <= nowMs) this.flush(sub, tier, nowMs, out)
      }
    }
    return out
  }

  /** Earliest flush deadline of any buffer, epoch ms, or null when nothing is buffered. */
  nextDeadline(): number | null {
    let min: number | null = null
    for (const sub of this.subs.values()) {
      for (const tier of ['operational', 'analytical'] as const) {
        const d = this.deadline(sub, tier)
        if (d !== null && (min === null || d < min)) min = d
      }
    }
    return min
  }

  private deadline(sub: Subscription, tier: BatchTier): number | null {
    const buf = sub.buffers[tier]
    if (!buf) return null
    const byBudget = buf.since + TIER_BUDGETS[tier].flushAfterMs
    const full = buf.items.length >= TIER_BUDGETS[tier].maxEvents
    if (this.intervalMs === null) return full ? buf.since : byBudget
    const byInterval = sub.lastFlushMs[tier] + this.intervalMs
    return Math.max(full ? buf.since : byBudget, byInterval)
  }

  private deliver(sub: Subscription, item: StreamItem, nowMs: number, out: Outbound[], replaying = false): void {
    if (!sub.matches(item, this.scopeUserId) || !sub.firstTime(`${item.kind}:${item.key}`, this.limits.dedupCapacity)) return
    if (item.kind === 'metrics') {
      out.push({ message: { type: 'metrics', subscription_id: sub.id, window: item.json }, tier: null, eventTimesMs: [] })
      return
    }
    if (item.kind === 'alert') {
      out.push({ message: { type: 'alert', subscription_id: sub.id, alert: item.json }, tier: null, eventTimesMs: [] })
      return
    }
    if (item.tier === 'critical') {
      out.push({ message: { type: 'event', subscription_id: sub.id, event: item.json }, tier: 'critical', eventTimesMs: [item.latencyFromMs] })
      return
    }
    const tier = item.tier
    const buf = (sub.buffers[tier] ??= { items: [], since: budgetStart(item, tier, nowMs) })
    buf.items.push({ json: item.json, timeMs: item.timeMs, latencyFromMs: item.latencyFromMs })
    if (buf.items.length > this.limits.maxBufferedEvents) {
      buf.items.shift()
      this.droppedBufferFull++
    }
    // Written inline only when full; a batch due by time waits for the caller's timer, which runs
    // after the records being handled now (one frame per fetch, not per overdue event).
    if (!replaying && buf.items.length >= TIER_BUDGETS[tier].maxEvents && this.deadline(sub, tier)! <= nowMs) this.flush(sub, tier, nowMs, out)
  }

  private flush(sub: Subscription, tier: BatchTier, nowMs: number, out: Outbound[]): void {
    const buf = sub.buffers[tier]
    if (!buf) return
    sub.buffers[tier] = null
    sub.lastFlushMs[tier] = nowMs
    const size = TIER_BUDGETS[tier].maxEvents
    for (let i = 0; i < buf.items.length; i += size) {
      const chunk = buf.items.slice(i, i + size)
      out.push({
        message: { type: 'batch', subscription_id: sub.id, tier, events: chunk.map((c) => c.json) },
        tier,
        eventTimesMs: chunk.map((c) => c.latencyFromMs),
      })
    }
  }
}
