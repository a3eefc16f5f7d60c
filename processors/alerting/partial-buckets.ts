/**
 * Stage 1 of the repartitioned rules (README "Co-location and scaling"): what one enriched-event
 * partition (the source) sends to the repartition topic `auren.alert-partials.v1`. Pure.
 *
 * A rule whose figures gather a group's events from every trace (every kind but `event`; the
 * enriched topic is keyed by trace) is not evaluated here. For each of its aggregations
 * (rule-index.ts `aggregationId`) and groups the source adds its events to open buckets of the
 * aggregation's partial step (conditions.ts `partialStepMs`): count, numerator count, sum,
 * latency histogram, last event time. At the end of a batch that moved the source's watermark
 * past a bucket's end ({@link PartialBuckets.dueWhileActive}, the runtime's stream-time
 * punctuation) and on each punctuation tick ({@link PartialBuckets.flush}) the buckets that the
 * source's watermark passed close: its event-time clock (the highest event
 * time it has read, or the idle watermark it follows) minus the allowed lateness (events that
 * much out of order in their partition still count in their bucket, wherever the partition's
 * other events put its clock). The source then sends every partition of the repartition topic
 * one AlertPartial record: the closed buckets whose aggregation and group key hash to that
 * partition (murmur2, as the producer partitions by key), so every source's buckets of one group
 * meet on one partition, where partial-merge.ts adds them up and evaluates the rules; and the
 * watermark, after those buckets. An event older than an already closed bucket (out of order in
 * its partition) opens that bucket again and is sent as a further partial of it (buckets add up).
 * The records are at most one per partition and batch or tick, whatever the number of events or groups.
 *
 * A merging partition evaluates a bucket only once every active source's watermark passed its
 * end, so the result does not depend on how the sources interleave. Idleness: a source caught
 * up and without records for the idle timeout (idle-watermark.ts) sends every bucket it still
 * holds and marks its watermark idle, so it no longer holds the merge back (a replay whose partitions end at different event times
 * still completes); its next record makes it active again.
 *
 * Sequence: every record carries the source's next sequence number (kept in the state, saved
 * with the records in one transaction), so the merge drops the duplicates of the outbox's
 * at-least-once publication.
 */
import type { AlertPartial, PartialBucket } from '../../schemas/index.ts'
import { partitionForKey } from '../runtime/kafka/murmur2-partitioner.ts'
import { eventContribution, partialStepMs } from './conditions.ts'
import type { EventFacts } from './event-facts.ts'
import { aggregationMapsJson, RuleIndex, type CompiledSelector } from './rule-index.ts'
import type { CompiledCondition, Rule } from './rule-schema.ts'
import type { Bucket } from './window-buckets.ts'
import { bucketOf } from '../../schemas/index.ts'

/**
 * Whether a rule needs a group's events from every partition: every kind but `event` (a match
 * fires at once, wherever it is read) and `window_sum` (its metrics windows are keyed by agent,
 * and the kind groups by agent only, so an agent's windows share a partition).
 */
export function needsColocation(rule: Rule): boolean {
  return rule.condition.kind !== 'event' && rule.condition.kind !== 'window_sum'
}

/** One open bucket of one aggregation and group: a window bucket with its last event time and replay mark (JSON-serialisable: part of the partition's state). */
export interface OpenBucket extends Bucket {
  /** Latest event time in the bucket, ms (absence rules read it). */
  lastSeenMs: number | null
  /** Whether every event in it is replayed history. */
  replay: boolean
}

/** The open buckets of one group. */
export interface OpenGroup {
  labels: Record<string, string>
  buckets: OpenBucket[]
}

/** The source's state, saved with its offsets. */
export interface PartialBucketsState {
  /** Sequence number of the next record. */
  seq: number
  /** The event-time clock, ms (null before any event). */
  clockMs: number | null
  /** The watermark (ms; null: a source without events) and idle mark last sent; null: none sent since the state began. */
  lastSent: { watermarkMs: number | null; idle: boolean } | null
  /** Aggregation id → group key → open group. */
  open: Record<string, Record<string, OpenGroup>>
}

/** A record for the repartition topic: its Kafka key (`<source>|<partition>`), its partition, the value. */
export interface PartialRecord {
  key: string
  /** Explicit partition of the repartition topic. */
  partition: number
  value: AlertPartial
}

/** Where the source is: its id, the partitions of its topic and of the repartition topic. */
export interface PartialSource {
  /** `<topic>:<partition>` of the enriched input partition. */
  id: string
  /** Partitions of the enriched topic. */
  sourcePartitions: number
  /** Partitions of the repartition topic. */
  mergePartitions: number
}

/** Stage 1 of one source partition (module doc). */
export class PartialBuckets {
  private readonly index: RuleIndex
  private readonly slotCondition: readonly CompiledCondition[]
  private readonly slotStep: readonly number[]
  private readonly slotGroupBy: readonly (readonly string[])[]
  /** Per aggregation slot: group key → open group. */
  private readonly open: Map<string, OpenGroup>[]
  private seq: number
  private clockMs: number | null
  private lastSent: PartialBucketsState['lastSent']
  /** Earliest end of an open bucket, ms (Infinity: none). */
  private nextCloseMs = Infinity
  private readonly slotSelector: readonly CompiledSelector[]
  private readonly slotKeySlot: readonly number[]
  /** The current event's group key per key slot, valid where keyStamp equals stamp (built once per event and grouping). */
  private readonly keyCache: string[]
  private readonly keyStamp: number[]
  private stamp = 0

  /**
   * @param rules the rules that need co-location ({@link needsColocation}), in rule-file order
   * @param allowedLatenessMs how far behind the clock the watermark stays, ms (≥ 0)
   * @param state a saved state (groups of aggregations no longer present are dropped)
   */
  constructor(rules: readonly Rule[], private readonly allowedLatenessMs: number, state?: PartialBucketsState) {
    this.index = new RuleIndex(rules)
    this.slotCondition = this.index.aggregationRules.map((list) => rules[list[0]!]!.condition)
    this.slotStep = this.slotCondition.map(partialStepMs)
    this.slotGroupBy = this.index.aggregationRules.map((list) => rules[list[0]!]!.group_by)
    this.open = this.index.aggregationIds.map(() => new Map())
    const first = this.index.aggregationRules.map((list) => list[0]!)
    this.slotSelector = first.map((i) => this.index.selectors[i]!)
    this.slotKeySlot = first.map((i) => this.index.keySlot[i]!)
    this.keyCache = this.index.keyLabels.map(() => '')
    this.keyStamp = this.index.keyLabels.map(() => 0)
    this.seq = state?.seq ?? 0
    this.clockMs = state?.clockMs ?? null
    this.lastSent = state?.lastSent ?? null
    if (state) {
      this.index.aggregationIds.forEach((id, slot) => {
        for (const [key, g] of Object.entries(state.open[id] ?? {})) {
          this.open[slot]!.set(key, structuredClone(g))
          for (const b of g.buckets) this.nextCloseMs = Math.min(this.nextCloseMs, b.start + this.slotStep[slot]!)
        }
      })
    }
  }

  /** The event-time clock, ms (null before any event). */
  get clock(): number | null {
    return this.clockMs
  }

  /** The state to save. */
  serialize(): string {
    return `{"seq":${this.seq},"clockMs":${JSON.stringify(this.clockMs)},"lastSent":${JSON.stringify(this.lastSent)},"open":${aggregationMapsJson(this.index.aggregationIds, this.open)}}`
  }

  /** Open buckets held, over all groups (for tests and metrics). */
  openBuckets(): number {
    let n = 0
    for (const m of this.open) for (const g of m.values()) n += g.buckets.length
    return n
  }

  /**
   * Adds an event to the open buckets of every aggregation whose rules it matches, and moves the
   * clock on to its time (never back). Nothing is sent until {@link flush}.
   * @param f the event's facts; `eventType` its type; `replay` whether it is replayed history
   */
  add(f: EventFacts, eventType: string, replay: boolean): void {
    const stamp = ++this.stamp
    for (const slot of this.index.aggregationSlotsFor(eventType)) {
      if (!this.slotSelector[slot]!(f)) continue
      const c = this.slotCondition[slot]!
      const add = c.kind === 'absence' ? null : eventContribution(c, f)
      if (c.kind !== 'absence' && !add) continue
      const keySlot = this.slotKeySlot[slot]!
      if (this.keyStamp[keySlot] !== stamp) {
        this.keyCache[keySlot] = RuleIndex.groupKey(this.index.keyLabels[keySlot]!, f)
        this.keyStamp[keySlot] = stamp
      }
      const key = this.keyCache[keySlot]!
      let g = this.open[slot]!.get(key)
      if (!g) {
        const labels: Record<string, string> = {}
        for (const l of this.slotGroupBy[slot]!) {
          const v = f.labels[l as keyof EventFacts['labels']]
          if (v !== null) labels[l] = v
        }
        g = { labels, buckets: [] }
        this.open[slot]!.set(key, g)
      }
      const step = this.slotStep[slot]!
      const start = Math.floor(f.timeMs / step) * step
      // Newest first: an event in order falls in the last bucket opened.
      let b: OpenBucket | undefined
      for (let j = g.buckets.length - 1; j >= 0; j--) {
        if (g.buckets[j]!.start === start) {
          b = g.buckets[j]
          break
        }
      }
      if (!b) {
        b = { start, n: 0, k: 0, sum: 0, lastSeenMs: null, replay: true }
        g.buckets.push(b)
        if (start + step < this.nextCloseMs) this.nextCloseMs = start + step
      }
      b.replay &&= replay
      b.lastSeenMs = b.lastSeenMs === null || f.timeMs > b.lastSeenMs ? f.timeMs : b.lastSeenMs
      if (add) {
        b.n += add.n ?? 0
        b.k += add.k ?? 0
        b.sum += add.sum ?? 0
        if (add.latencyMs !== undefined) {
          const idx = bucketOf(add.latencyMs)
          b.hist ??= {}
          b.hist[idx] = (b.hist[idx] ?? 0) + 1
        }
      } else {
        b.n += 1
      }
    }
    if (this.clockMs === null || f.timeMs > this.clockMs) this.clockMs = f.timeMs
  }

  /** Moves the clock on to `timeMs` (never back: the idle watermark a quiet partition follows). */
  advanceTo(timeMs: number): void {
    if (this.clockMs === null || timeMs > this.clockMs) this.clockMs = timeMs
  }

  /** The watermark, ms: the clock minus the allowed lateness (null before any event). */
  watermark(): number | null {
    return this.clockMs === null ? null : this.clockMs - this.allowedLatenessMs
  }

  /**
   * Whether a flush while records flow has something the merge waits for: a bucket the watermark
   * passed, or a source last marked idle that is active again (the stream-time flush at a batch's
   * end, definition.ts).
   */
  dueWhileActive(): boolean {
    const watermark = this.watermark()
    return (watermark !== null && this.nextCloseMs <= watermark) || this.lastSent?.idle === true
  }

  /**
   * Closes the buckets that ended by the watermark (every open bucket when `idle`: nothing more
   * is expected for them; an event that comes for one later is sent as a further partial of
   * it) and sends them with the watermark: one record per partition of the repartition topic
   * holding the closed buckets whose aggregation and group key hash to it (murmur2, the
   * producer's partitioner), when any bucket closed or the watermark or the idle mark changed
   * since the last records, or none were sent yet (a source without events sends a null
   * watermark once, so the merge knows it heard from every source); empty else.
   * @param idle the source is caught up and has had no record for the idle timeout (idle-watermark.ts)
   * @returns one record per partition (explicit partition), buckets in (end, aggregation, group) order
   */
  flush(source: PartialSource, idle: boolean): PartialRecord[] {
    const watermark = this.watermark()
    const until = idle ? Infinity : (watermark ?? -Infinity)
    const closed = this.nextCloseMs <= until ? this.close(until) : []
    if (closed.length === 0 && this.lastSent?.watermarkMs === watermark && this.lastSent.idle === idle) return []
    this.lastSent = { watermarkMs: watermark, idle }
    const byPartition: PartialBucket[][] = Array.from({ length: source.mergePartitions }, () => [])
    for (const { slot, key, labels, b } of closed) {
      const aggregation = this.index.aggregationIds[slot]!
      const histogram: { index: number; count: number }[] = []
      if (b.hist) for (const idx in b.hist) histogram.push({ index: Number(idx), count: b.hist[idx]! })
      byPartition[partitionForKey(`${aggregation}|${key}`, source.mergePartitions)]!.push({
        aggregation, group_key: key, labels, start: b.start, step_ms: this.slotStep[slot]!, n: b.n, k: b.k, sum: b.sum,
        histogram, last_seen: b.lastSeenMs, replay: b.replay,
      })
    }
    return byPartition.map((buckets, p) => ({
      key: `${source.id}|${p}`,
      partition: p,
      value: { source: source.id, source_partitions: source.sourcePartitions, seq: this.seq++, watermark, idle, buckets },
    }))
  }

  /** Takes out every open bucket that ended by `untilMs`, in (end, aggregation slot, group key) order. */
  private close(untilMs: number): { end: number; slot: number; key: string; labels: Record<string, string>; b: OpenBucket }[] {
    const closed: { end: number; slot: number; key: string; labels: Record<string, string>; b: OpenBucket }[] = []
    let next = Infinity
    this.open.forEach((m, slot) => {
      const step = this.slotStep[slot]!
      for (const [key, g] of m) {
        let kept = 0
        for (const b of g.buckets) {
          const end = b.start + step
          if (end <= untilMs) closed.push({ end, slot, key, labels: g.labels, b })
          else {
            g.buckets[kept++] = b
            if (end < next) next = end
          }
        }
        g.buckets.length = kept
        if (kept === 0) m.delete(key)
      }
    })
    this.nextCloseMs = next
    closed.sort((x, y) => x.end - y.end || x.slot - y.slot || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0))
    return closed
  }
}
