/**
 * The stream rule engine: evaluates the compiled rules (rule-schema.ts) over enriched events and
 * metrics windows in event time, and keeps one state per rule and fingerprint:
 * inactive → pending → firing → resolved (inactive again), with `for` and `keep_firing_for`.
 * Each transition to firing or to resolved returns an `Alert` record (schemas/avro/alert.avsc).
 *
 * Time: the engine's clock is the highest event time it has seen (events and window ends), or a
 * later time given to {@link RuleEngine.advanceTo} (punctuation: absence and resolution when
 * traffic stops). Events are evaluated in the order given, so a replay of the same records fires
 * the same alerts at the same event times, every time. Time-driven changes (a pending alert
 * reaching `for`, a window sliding past its events, an absence, `keep_firing_for` running out)
 * are kept in a timer queue and evaluated when the clock passes them, before the event that
 * moved the clock is applied.
 *
 * Memory: per rule at most `maxGroupsPerRule` groups (default 10,000); when full, the
 * least recently touched group that is neither pending nor firing is dropped (its window data
 * is lost, counted in `stats().evictedGroups`); when none can be dropped the new group is not
 * created (`stats().refusedGroups`). Each group holds at most retention / step + 1 buckets.
 * A group that is inactive with no data left in its window is deleted at once.
 *
 * Fingerprint: the first 16 hex digits of SHA-256 over the rule id and the sorted
 * `label=value` pairs of the grouping labels (CONTRACTS.md section 3b): the same rule and label
 * values always give the same fingerprint, on any instance.
 */
import { createHash } from 'node:crypto'
import type { Alert, AgentMetricsWindow, EnrichedAgentEvent } from '../../schemas/index.ts'
import { eventContribution, evaluateWindowed, keepFromMs, stepMs, windowContribution, type Evaluation, type WindowFigures } from './conditions.ts'
import { formatDurationMs } from './duration.ts'
import { eventFacts, type EventFacts } from './event-facts.ts'
import { RuleIndex } from './rule-index.ts'
import type { Rule } from './rule-schema.ts'
import { TimerQueue } from './timer-queue.ts'
import { addToBuckets, emptyTotals, pruneBuckets, totalsOf, type Bucket, type Totals } from './window-buckets.ts'

/** Default cap of groups (fingerprints) per rule. */
export const DEFAULT_MAX_GROUPS_PER_RULE = 10_000

/** State of one rule and fingerprint (JSON-serialisable; part of the per-partition state). */
export interface GroupState {
  /** Grouping label values (labels the event did not have are left out). */
  labels: Record<string, string>
  buckets: Bucket[]
  /**
   * Running sum of `buckets` (window-buckets.ts): a sliding window read in O(1). Absent in
   * states saved before it was kept; rebuilt from the buckets on restore.
   */
  totals?: Totals
  /** Last matching event time, ms (absence and event rules). */
  lastSeenMs: number | null
  phase: 'inactive' | 'pending' | 'firing'
  /** When the condition started to hold (pending since), ms. */
  activeSinceMs: number | null
  /** When the alert fired (starts_at), ms. */
  firingSinceMs: number | null
  /** When the condition stopped holding while firing, ms. */
  clearedAtMs: number | null
  /** Last evaluation's figures. */
  value: number | null
  threshold: number
  window: { start: number; end: number } | null
  /** Whether the events behind this group come from replayed history. */
  replay: boolean
  /** Next event time at which the state may change without new input, ms. */
  dueMs: number | null
  /**
   * Engine tick of the last touch and of the (re)insertion into the rule's map (least recently
   * used order kept lazily: see evictOne). Absent in older saved states (read as 0).
   */
  touchedAt?: number
  insertedAt?: number
}

/** The engine's state, as saved with the partition's offsets. */
export interface EngineState {
  clockMs: number | null
  /** rule id → fingerprint → state. */
  groups: Record<string, Record<string, GroupState>>
}

/** Options of the engine. */
export interface EngineOptions {
  /** Cap of groups per rule (default {@link DEFAULT_MAX_GROUPS_PER_RULE}). */
  maxGroupsPerRule?: number
}

/** Counters of what the engine did (for metrics). */
export interface EngineStats {
  /** Condition evaluations, by rule id. */
  evaluations: Map<string, number>
  evictedGroups: number
  refusedGroups: number
}

/** Fingerprint of a rule and its grouping label values (see the module doc). */
export function fingerprint(ruleId: string, labels: Readonly<Record<string, string>>): string {
  const h = createHash('sha256').update(ruleId)
  for (const k of Object.keys(labels).sort()) h.update(`\n${k}=${labels[k]}`)
  return h.digest('hex').slice(0, 16)
}

function formatNumber(v: number | null): string {
  if (v === null) return 'n/a'
  if (Number.isInteger(v)) return String(v)
  return String(Number(v.toPrecision(4)))
}

/** Fills `{{ labels.x }}`, `{{ value }}`, `{{ threshold }}`, `{{ window }}` in a template. */
export function renderTemplate(text: string, vars: { labels: Record<string, string>; value: number | null; threshold: number; windowMs: number | null }): string {
  return text.replace(/\{\{\s*([^}]*?)\s*\}\}/g, (_, expr: string) => {
    if (expr.startsWith('labels.')) return vars.labels[expr.slice(7)] ?? ''
    if (expr === 'value') return formatNumber(vars.value)
    if (expr === 'threshold') return formatNumber(vars.threshold)
    if (expr === 'window') return vars.windowMs === null ? '' : formatDurationMs(vars.windowMs)
    return ''
  })
}

/** The earlier of `next` and `t`, counting `t` only when it lies after `now`. */
function earliestAfter(now: number, next: number, t: number): number {
  return t > now && t < next ? t : next
}

/** Grouping label values of a group: the event's values of the rule's group_by (absent ones left out), or a window's agent. */
function groupLabels(rule: Rule, source: EventFacts | string): Record<string, string> {
  if (typeof source === 'string') return { agent: source }
  const labels: Record<string, string> = {}
  for (const l of rule.group_by) {
    const v = source.labels[l]
    if (v !== null) labels[l] = v
  }
  return labels
}

function windowLength(rule: Rule): number | null {
  const c = rule.condition
  if (c.kind === 'absence') return c.afterMs
  return 'windowMs' in c ? c.windowMs : null
}

/** The stream rule engine of one partition (see the module doc). */
export class RuleEngine {
  private readonly rules: readonly Rule[]
  private readonly byId: Map<string, number>
  private readonly groups: Map<string, GroupState>[]
  private readonly fpCache: Map<string, string>[]
  private readonly index: RuleIndex
  /** Group keys of the event being applied, by key slot (built on first use per event). */
  private readonly eventKeys: (string | undefined)[]
  /** Condition evaluations per rule index (stats()). */
  private readonly evaluationCounts: number[]
  /** Fingerprint of the group the last {@link group} call returned. */
  private groupFp = ''
  private readonly timers = new TimerQueue()
  private readonly maxGroups: number
  private clockMs: number | null = null
  /** Counter behind touchedAt / insertedAt. */
  private tick = 0
  private readonly statsData: { evictedGroups: number; refusedGroups: number } = { evictedGroups: 0, refusedGroups: 0 }

  /**
   * @param rules compiled rules (validateRuleFile)
   * @param state a saved state to resume from (groups of rules no longer present are dropped)
   */
  constructor(rules: readonly Rule[], options: EngineOptions = {}, state?: EngineState) {
    this.rules = rules
    this.maxGroups = options.maxGroupsPerRule ?? DEFAULT_MAX_GROUPS_PER_RULE
    this.byId = new Map(rules.map((r, i) => [r.id, i]))
    this.groups = rules.map(() => new Map())
    this.fpCache = rules.map(() => new Map())
    this.index = new RuleIndex(rules)
    this.eventKeys = this.index.keyLabels.map(() => undefined)
    this.evaluationCounts = rules.map(() => 0)
    if (state) {
      this.clockMs = state.clockMs
      for (const [ruleId, groups] of Object.entries(state.groups)) {
        const i = this.byId.get(ruleId)
        if (i === undefined) continue
        for (const [fp, saved] of Object.entries(groups)) {
          const g = structuredClone(saved)
          g.totals ??= totalsOf(g.buckets)
          this.tick = Math.max(this.tick, g.touchedAt ?? 0, g.insertedAt ?? 0)
          this.groups[i]!.set(fp, g)
          if (g.dueMs !== null) this.timers.push(g.dueMs, i, fp)
        }
      }
    }
  }

  /** The state to save (a deep copy). */
  snapshot(): EngineState {
    const groups: EngineState['groups'] = {}
    this.rules.forEach((r, i) => {
      const m = this.groups[i]!
      if (m.size > 0) groups[r.id] = Object.fromEntries([...m].map(([fp, g]) => [fp, structuredClone(g)]))
    })
    return { clockMs: this.clockMs, groups }
  }

  /** The state to save as JSON: `JSON.stringify(snapshot())` without the intermediate copy. */
  serialize(): string {
    const parts: string[] = []
    this.rules.forEach((r, i) => {
      const m = this.groups[i]!
      if (m.size === 0) return
      const entries: string[] = []
      for (const [fp, g] of m) entries.push(`${JSON.stringify(fp)}:${JSON.stringify(g)}`)
      parts.push(`${JSON.stringify(r.id)}:{${entries.join(',')}}`)
    })
    return `{"clockMs":${JSON.stringify(this.clockMs)},"groups":{${parts.join(',')}}}`
  }

  /** The event-time clock, ms (null before any input). */
  get clock(): number | null {
    return this.clockMs
  }

  /** Counters since construction. */
  stats(): EngineStats {
    const evaluations = new Map<string, number>()
    this.rules.forEach((r, i) => {
      if (this.evaluationCounts[i]! > 0) evaluations.set(r.id, this.evaluationCounts[i]!)
    })
    return { evaluations, evictedGroups: this.statsData.evictedGroups, refusedGroups: this.statsData.refusedGroups }
  }

  /** Number of groups (fingerprints) held, over all rules. */
  groupCount(): number {
    return this.groups.reduce((n, m) => n + m.size, 0)
  }

  /** Firing alerts per rule id (for `auren_alerts_firing{rule,severity}`). */
  firingByRule(): Map<string, { severity: string; firing: number }> {
    const out = new Map<string, { severity: string; firing: number }>()
    this.rules.forEach((r, i) => {
      let n = 0
      for (const g of this.groups[i]!.values()) if (g.phase === 'firing') n += 1
      out.set(r.id, { severity: r.severity, firing: n })
    })
    return out
  }

  /**
   * Applies an enriched event: first the time-driven changes up to its event time, then the
   * event to every rule whose selector it matches.
   * @param replay whether the event is replayed history (its alerts get `replay="true"`)
   * @returns the Alert records of the state changes, in order
   */
  onEvent(enriched: EnrichedAgentEvent, replay = false): Alert[] {
    const f = eventFacts(enriched)
    const out = this.advanceTo(f.timeMs)
    // Only the rules whose event types include this one (rule-index.ts), in rule order.
    const candidates = this.index.rulesFor(enriched.event.event_type)
    const keys = this.eventKeys
    keys.fill(undefined)
    for (const i of candidates) {
      if (!this.index.selectors[i]!(f)) continue
      const slot = this.index.keySlot[i]!
      const key = (keys[slot] ??= RuleIndex.groupKey(this.index.keyLabels[slot]!, f))
      this.applyEvent(this.rules[i]!, i, f, key, replay, out)
    }
    return out
  }

  /** Applies an AgentMetricsWindow (auren.agent-metrics.v1) at its window end to the window_sum rules. */
  onMetricsWindow(w: AgentMetricsWindow, replay = false): Alert[] {
    const endMs = Math.floor(w.window_end / 1000)
    const out = this.advanceTo(endMs)
    const figures: WindowFigures = {
      errors: w.errors,
      llm_calls_failed: w.llm_calls.failed,
      executions_failed: w.executions.failed,
      cost_usd: w.cost_usd,
      input_tokens: w.input_tokens,
      output_tokens: w.output_tokens,
      tool_calls: w.tool_calls,
    }
    this.rules.forEach((rule, i) => {
      if (rule.condition.kind !== 'window_sum') return
      if (rule.selector.agents && !rule.selector.agents.includes(w.agent_id)) return
      const state = this.group(rule, i, `agent\u0001${w.agent_id}\u0002`, w.agent_id, replay)
      if (!state) return
      const fp = this.groupFp
      const c = windowContribution(rule.condition, figures)
      // A window is counted at its last millisecond: it lies wholly inside any window ending after it.
      if (c) addToBuckets(state.buckets, stepMs(rule.condition), endMs - 1, c, (state.totals ??= emptyTotals()))
      this.evaluate(rule, i, fp, state, out)
    })
    return out
  }

  /**
   * Moves the clock forward to `timeMs` (never back) and applies every time-driven change due
   * up to it, in time order. Called with each input's time and by punctuation.
   */
  advanceTo(timeMs: number): Alert[] {
    const out: Alert[] = []
    if (this.clockMs !== null && timeMs <= this.clockMs) return out
    for (;;) {
      const next = this.timers.peek()
      if (!next || next.dueMs > timeMs) break
      this.timers.pop()
      const g = this.groups[next.rule]!.get(next.fp)
      if (!g || g.dueMs !== next.dueMs) continue // stale entry
      this.clockMs = Math.max(this.clockMs ?? next.dueMs, next.dueMs)
      this.evaluate(this.rules[next.rule]!, next.rule, next.fp, g, out)
    }
    this.clockMs = timeMs
    return out
  }

  /**
   * The group of `rule` for an event's or a metrics window's label values, created when missing
   * (null when the cap refuses it); touching it makes it the most recent. Its fingerprint is left
   * in {@link groupFp} (no result object per call: this runs for every rule an event matches).
   * @param key the label values joined unambiguously (the fingerprint cache's key)
   * @param source the event's facts (labels of the rule's group_by), or a window's agent id
   */
  private group(rule: Rule, i: number, key: string, source: EventFacts | string, replay: boolean): GroupState | null {
    // The map is keyed by the fingerprint; a cache of label key → fingerprint spares a SHA-256 per
    // event (bounded: cleared when it outgrows the cap).
    const cache = this.fpCache[i]!
    let fp = cache.get(key)
    let built: Record<string, string> | undefined
    if (fp === undefined) {
      built = groupLabels(rule, source)
      fp = fingerprint(rule.id, built)
      if (cache.size >= 2 * this.maxGroups) cache.clear()
      cache.set(key, fp)
    }
    this.groupFp = fp
    const m = this.groups[i]!
    let state = m.get(fp)
    if (state) {
      state.touchedAt = ++this.tick // the map's order is brought up to date when evicting
      state.replay = replay
      return state
    }
    if (m.size >= this.maxGroups && !this.evictOne(m)) {
      this.statsData.refusedGroups += 1
      return null
    }
    state = { labels: built ?? groupLabels(rule, source), buckets: [], totals: emptyTotals(), lastSeenMs: null, phase: 'inactive', activeSinceMs: null, firingSinceMs: null, clearedAtMs: null, value: null, threshold: 0, window: null, replay, dueMs: null, touchedAt: ++this.tick }
    state.insertedAt = state.touchedAt
    m.set(fp, state)
    return state
  }

  /**
   * Drops the least recently touched inactive group. The map is in (re)insertion order; a group
   * touched since its insertion is moved to the end when met at the front, so the first
   * untouched one is the least recently used (at most 256 entries looked at per eviction).
   */
  private evictOne(m: Map<string, GroupState>): boolean {
    let scanned = 0
    for (const [fp, g] of m) {
      if (++scanned > 256) break
      if ((g.touchedAt ?? 0) > (g.insertedAt ?? 0)) {
        m.delete(fp)
        g.insertedAt = g.touchedAt
        m.set(fp, g)
        continue
      }
      if (g.phase === 'inactive') {
        m.delete(fp)
        this.statsData.evictedGroups += 1
        return true
      }
    }
    return false
  }


  /** @param key the event's group key for the rule (RuleIndex.groupKey) */
  private applyEvent(rule: Rule, i: number, f: EventFacts, key: string, replay: boolean, out: Alert[]): void {
    const s = this.group(rule, i, key, f, replay)
    if (!s) return
    const fp = this.groupFp
    const c = rule.condition
    if (c.kind === 'event') {
      s.lastSeenMs = Math.max(s.lastSeenMs ?? f.timeMs, f.timeMs)
      this.transition(rule, fp, s, { active: true, value: 1, threshold: 1, window: null }, f.timeMs, out)
      // The match is an instant: the condition clears right after it, keep_firing_for runs from there.
      this.transition(rule, fp, s, { active: false, value: 1, threshold: 1, window: null }, f.timeMs, out)
      this.schedule(rule, i, fp, s)
      return
    }
    if (c.kind === 'absence') {
      s.lastSeenMs = Math.max(s.lastSeenMs ?? f.timeMs, f.timeMs)
    } else {
      const add = eventContribution(c, f)
      if (!add) {
        if (s.buckets.length === 0 && s.phase === 'inactive') this.groups[i]!.delete(fp)
        return
      }
      addToBuckets(s.buckets, stepMs(c), f.timeMs, add, (s.totals ??= emptyTotals()))
    }
    this.evaluate(rule, i, fp, s, out)
  }

  /** Evaluates a group at the clock, applies the transition, prunes, schedules or deletes it. */
  private evaluate(rule: Rule, i: number, fp: string, s: GroupState, out: Alert[]): void {
    const now = this.clockMs ?? 0
    const c = rule.condition
    this.evaluationCounts[i] = this.evaluationCounts[i]! + 1
    let ev: Evaluation
    if (c.kind === 'event') {
      ev = { active: false, value: s.value, threshold: 1, window: null }
    } else if (c.kind === 'absence') {
      const silent = s.lastSeenMs === null ? 0 : now - s.lastSeenMs
      ev = { active: s.lastSeenMs !== null && silent >= c.afterMs, value: silent / 1000, threshold: c.afterMs / 1000, window: s.lastSeenMs === null ? null : { start: s.lastSeenMs, end: now } }
    } else {
      const totals = (s.totals ??= totalsOf(s.buckets))
      pruneBuckets(s.buckets, stepMs(c), keepFromMs(c, now), totals)
      ev = evaluateWindowed(c, s.buckets, totals, now)
    }
    this.transition(rule, fp, s, ev, now, out)
    if (s.phase === 'inactive' && s.buckets.length === 0 && c.kind !== 'absence') {
      this.groups[i]!.delete(fp)
      return
    }
    this.schedule(rule, i, fp, s)
  }

  private transition(rule: Rule, fp: string, s: GroupState, ev: Evaluation, now: number, out: Alert[]): void {
    if (ev.value !== null) s.value = ev.value
    s.threshold = ev.threshold
    if (ev.window) s.window = ev.window
    if (ev.active) {
      s.clearedAtMs = null
      if (s.phase === 'inactive') {
        s.phase = 'pending'
        s.activeSinceMs = now
      }
      if (s.phase === 'pending' && now - s.activeSinceMs! >= rule.forMs) {
        s.phase = 'firing'
        s.firingSinceMs = now
        out.push(this.record(rule, fp, s, 'firing', now))
      }
      return
    }
    if (s.phase === 'pending') {
      s.phase = 'inactive'
      s.activeSinceMs = null
    } else if (s.phase === 'firing') {
      s.clearedAtMs ??= now
      if (now - s.clearedAtMs >= rule.keepFiringForMs) {
        out.push(this.record(rule, fp, s, 'resolved', now))
        s.phase = 'inactive'
        s.activeSinceMs = null
        s.firingSinceMs = null
        s.clearedAtMs = null
      }
    }
  }

  /** Next time the group's state may change with no new input. */
  private schedule(rule: Rule, i: number, fp: string, s: GroupState): void {
    const c = rule.condition
    const now = this.clockMs ?? 0
    let next = Infinity
    if (s.phase === 'pending') next = earliestAfter(now, next, s.activeSinceMs! + rule.forMs)
    if (s.phase === 'firing' && s.clearedAtMs !== null) next = earliestAfter(now, next, s.clearedAtMs + rule.keepFiringForMs)
    if (c.kind === 'absence') {
      if (s.lastSeenMs !== null && s.phase === 'inactive') next = earliestAfter(now, next, s.lastSeenMs + c.afterMs)
    } else if (c.kind !== 'event' && s.buckets.length > 0) {
      const step = stepMs(c)
      if (c.kind === 'baseline') next = earliestAfter(now, next, Math.floor(now / step) * step + step)
      else if (c.tumbling) next = earliestAfter(now, next, (Math.floor(now / c.windowMs) + 1) * c.windowMs)
      else next = earliestAfter(now, next, s.buckets[0]!.start + step + c.windowMs - 1)
    }
    const previous = s.dueMs
    s.dueMs = next === Infinity ? null : next
    // One timer entry per due time: an unchanged due time keeps its entry (no stale duplicates).
    if (s.dueMs !== null && s.dueMs !== previous) this.timers.push(s.dueMs, i, fp)
  }

  private record(rule: Rule, fp: string, s: GroupState, status: 'firing' | 'resolved', now: number): Alert {
    const labels: Record<string, string> = { ...rule.labels, ...s.labels, alertname: rule.id, severity: rule.severity }
    if (s.replay) labels.replay = 'true'
    const vars = { labels, value: s.value, threshold: s.threshold, windowMs: windowLength(rule) }
    return {
      fingerprint: fp,
      rule: rule.id,
      severity: rule.severity,
      status,
      labels,
      annotations: {
        summary: renderTemplate(rule.annotations.summary, vars),
        description: renderTemplate(rule.annotations.description, vars),
        runbook: rule.annotations.runbook_url ?? null,
      },
      value: s.value ?? 0,
      threshold: s.threshold,
      starts_at: (s.firingSinceMs ?? now) * 1000,
      ends_at: status === 'resolved' ? now * 1000 : null,
      source_window: s.window ? { start: s.window.start * 1000, end: s.window.end * 1000 } : null,
    }
  }
}
