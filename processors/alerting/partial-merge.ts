/**
 * Stage 2 of the repartitioned rules (README "Co-location and scaling"): one partition of the
 * repartition topic `auren.alert-partials.v1`, where every source's closed buckets of a group
 * meet (partial-buckets.ts keys them by aggregation and group). Pure.
 *
 * Event time with a watermark: each source (enriched-event partition) sends its watermark to
 * every partition after the buckets it closed before it. The merge's watermark is the lowest
 * watermark of the active sources, once it heard from every one of them (`source_partitions`).
 * An idle source (caught up and no record for the idle timeout, idle-watermark.ts; it has sent
 * every bucket it held) does not count; when every source is idle, each has sent all it has, so
 * every bucket read is applied and the merge's watermark is the highest of theirs (or of those
 * buckets' ends): a replay whose partitions end at different event times completes. A source that
 * has seen no event yet sends a null clock. While it is not idle (it has records left to read, or
 * its lag is not measured yet) it holds the watermark back however long that takes. Once idle
 * (nothing to read) it holds it back for the idle timeout (processing time, counted from when the
 * merge first read a clock of any source, or that source's null clock if later), since its first
 * events may be on their way upstream (a replay reaches the partitions one after another); after
 * that it no longer counts, as an idle partition does not. With idle handling off (timeout 0) a
 * source without events does not hold the watermark at all. A bucket is applied once the
 * watermark passed its end, with every other source's bucket of the same group and start
 * (added up first), in (end, aggregation, group) order, and the rules of its aggregation are
 * evaluated at its end (engine.ts `applyPartial`); the engine's timers fall on bucket ends
 * (`alignToPartialSteps`). So the alerts do not depend on how sources interleave on the topic or
 * on the number of partitions, and a replay fires the same alerts at the same event times every
 * time. A bucket that arrives after the watermark passed its end (a source late to the watermark,
 * e.g. one that had no events when the others moved on) is applied at once, at the clock.
 *
 * Duplicates: the outbox publishes at least once; a record whose per-source sequence number is
 * not above the last one read from its source is dropped, so each bucket counts once.
 */
import type { Alert, AlertPartial, PartialBucket } from '../../schemas/index.ts'
import { RuleEngine, type EngineOptions, type EngineState, type PartialInput } from './engine.ts'
import type { Rule } from './rule-schema.ts'

/** What the merge knows of one source. */
export interface SourceProgress {
  /** Last sequence number read. */
  seq: number
  /** Its clock, ms (null: no event yet). */
  watermarkMs: number | null
  /** Processing time at which the merge first read its null clock, ms (null once it has a clock). */
  nullSinceMs: number | null
  /** Whether its last record marked it idle. */
  idle: boolean
}

/** A bucket and the source that sent it. */
export interface SourcedBucket {
  source: string
  bucket: PartialBucket
}

/** The merge's state, saved with the partition's offsets. */
export interface PartialMergeState {
  /** Source id (`<topic>:<partition>`) → progress. */
  sources: Record<string, SourceProgress>
  /** Partitions of the source topic (from the latest record). */
  expectedSources: number
  /** Buckets read and not yet applied (their end is after the watermark), with their source. */
  pending: SourcedBucket[]
  /** Processing time at which the merge first read a source's clock, ms (null: none yet). */
  firstClockAtMs?: number | null
  engine: EngineState
}

/** The merging stage of one repartition-topic partition (module doc). */
export class PartialMerge {
  readonly engine: RuleEngine
  private readonly sources: Map<string, SourceProgress>
  private expectedSources: number
  private pending: SourcedBucket[]
  private firstClockAtMs: number | null

  /**
   * @param rules the rules that need co-location (partial-buckets.ts `needsColocation`), in rule-file order
   * @param idleTimeoutMs how long a source without events holds the watermark back, ms (0: not at all)
   * @param state a saved state
   */
  constructor(rules: readonly Rule[], options: EngineOptions, private readonly idleTimeoutMs: number, state?: PartialMergeState) {
    this.engine = new RuleEngine(rules, { ...options, alignToPartialSteps: true }, state?.engine)
    this.sources = new Map(Object.entries(state?.sources ?? {}).map(([id, p]) => [id, { ...p }]))
    this.expectedSources = state?.expectedSources ?? 0
    this.pending = state ? structuredClone(state.pending) : []
    this.firstClockAtMs = state?.firstClockAtMs ?? null
  }

  /** The state to save as JSON. */
  serialize(): string {
    return `{"sources":${JSON.stringify(Object.fromEntries(this.sources))},"expectedSources":${this.expectedSources},"pending":${JSON.stringify(this.pending)},"firstClockAtMs":${JSON.stringify(this.firstClockAtMs)},"engine":${this.engine.serialize()}}`
  }

  /**
   * The merge's watermark at processing time `nowMs`, ms (module doc): the lowest watermark of
   * the active sources, or the highest of all when every source is idle (`allIdle`), once every
   * source was heard from and no source without events holds it back; null before.
   */
  private progress(nowMs: number): { watermarkMs: number; allIdle: boolean } | null {
    if (this.expectedSources === 0 || this.sources.size < this.expectedSources) return null
    let minActive: number | null = null
    let max: number | null = null
    for (const s of this.sources.values()) {
      if (s.watermarkMs === null) {
        if (!s.idle && this.idleTimeoutMs > 0) return null // records left to read: its first events are coming
        if (s.nullSinceMs !== null && nowMs - Math.max(s.nullSinceMs, this.firstClockAtMs ?? nowMs) < this.idleTimeoutMs) return null
        continue
      }
      if (max === null || s.watermarkMs > max) max = s.watermarkMs
      if (!s.idle && (minActive === null || s.watermarkMs < minActive)) minActive = s.watermarkMs
    }
    if (minActive !== null) return { watermarkMs: minActive, allIdle: false }
    return max === null ? null : { watermarkMs: max, allIdle: true }
  }

  /** Buckets waiting for the watermark. */
  pendingBuckets(): number {
    return this.pending.length
  }

  /**
   * Reads one record of the repartition topic: drops a duplicate, notes the source's clock,
   * queues its bucket, then applies every bucket the watermark passed and moves the engine's
   * clock to the watermark.
   * @param nowMs processing time, ms (how long a source without events has held the watermark back)
   * @returns the Alert records of the state changes, in order
   */
  onRecord(r: AlertPartial, nowMs: number): Alert[] {
    const src = this.sources.get(r.source)
    if (src && r.seq <= src.seq) return []
    const progress = src ?? { seq: -1, watermarkMs: null, nullSinceMs: null, idle: false }
    progress.seq = r.seq
    progress.idle = r.idle
    if (r.watermark !== null) {
      this.firstClockAtMs ??= nowMs
      progress.watermarkMs = Math.max(progress.watermarkMs ?? r.watermark, r.watermark)
      progress.nullSinceMs = null
    } else if (progress.watermarkMs === null) {
      progress.nullSinceMs ??= nowMs
    }
    this.sources.set(r.source, progress)
    this.expectedSources = r.source_partitions
    for (const bucket of r.buckets) this.pending.push({ source: r.source, bucket })
    return this.release(nowMs)
  }

  /** Applies the buckets that ended by the watermark (module doc). */
  private release(nowMs: number): Alert[] {
    const progress = this.progress(nowMs)
    if (progress === null || this.pending.length === 0 && this.engine.clock !== null && progress.watermarkMs <= this.engine.clock) return []
    let wm = progress.watermarkMs
    const clock = this.engine.clock
    const ready: SourcedBucket[] = []
    const waiting: SourcedBucket[] = []
    for (const p of this.pending) {
      const end = p.bucket.start + p.bucket.step_ms
      if (progress.allIdle || end <= wm || (clock !== null && end <= clock)) {
        ready.push(p)
        if (end > wm) wm = end // every source idle: its last buckets are complete
      } else {
        waiting.push(p)
      }
    }
    if (ready.length === 0 && clock !== null && wm <= clock) return []
    this.pending = waiting
    const out: Alert[] = []
    for (const p of mergeBuckets(ready)) out.push(...this.engine.applyPartial(p))
    out.push(...this.engine.advanceTo(wm))
    return out
  }
}

/**
 * The buckets of one group and start from several sources added up (in source order, so the
 * floating-point sums do not depend on the order they arrived in), in (end, aggregation, group
 * key) order; `replay` only when every one of them is replayed history. Pure.
 */
export function mergeBuckets(buckets: readonly SourcedBucket[]): PartialInput[] {
  const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0)
  const bySource = [...buckets].sort((x, y) => cmp(x.source, y.source))
  const byKey = new Map<string, PartialInput>()
  for (const { bucket: b } of bySource) {
    const id = `${b.aggregation}\u0000${b.group_key}\u0000${b.start}\u0000${b.step_ms}`
    let m = byKey.get(id)
    if (!m) {
      m = { aggregation: b.aggregation, groupKey: b.group_key, labels: b.labels, start: b.start, stepMs: b.step_ms, n: 0, k: 0, sum: 0, lastSeenMs: null, replay: true }
      byKey.set(id, m)
    }
    m.n += b.n
    m.k += b.k
    m.sum += b.sum
    for (const h of b.histogram) {
      m.hist ??= {}
      m.hist[h.index] = (m.hist[h.index] ?? 0) + h.count
    }
    if (b.last_seen !== null) m.lastSeenMs = Math.max(m.lastSeenMs ?? b.last_seen, b.last_seen)
    m.replay &&= b.replay
  }
  return [...byKey.values()].sort((x, y) => x.start + x.stepMs - (y.start + y.stepMs) || cmp(x.aggregation, y.aggregation) || cmp(x.groupKey, y.groupKey))
}
