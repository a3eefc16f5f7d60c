/**
 * Bounded dedup window keyed by `event_id` (CONTRACTS.md section 2: "the dedup key").
 *
 * ## Duplicate versus redelivery
 * The runner is at-least-once: after a crash, a rebalance or a failed produce, the SAME input
 * record (same topic, partition and offset) is delivered again, and it must be enriched and
 * emitted again, or it would be lost (its first output may never have been acknowledged). So an
 * entry stores the coordinates of the first occurrence of its event_id, and a record is a
 * duplicate only when its event_id was already seen at OTHER coordinates (a producer retry, a
 * replay run twice, an SDK that re-sends). Verdicts:
 * - `first`: event_id not in the window;
 * - `redelivery`: seen at exactly these coordinates: emit again;
 * - `duplicate`: seen at other coordinates: skip.
 *
 * ## Bounds
 * At most `maxEntries` ids (the oldest evicted first), each kept at most `maxAgeMs` after it was
 * first remembered (processing time, from `ctx.now()`: robust to bad event timestamps and to
 * replays of old data). Entries leave in insertion order, so the oldest entry is always the
 * head of a FIFO queue kept beside the lookup Map: `check` and `remember` are amortized O(1)
 * and memory is O(maxEntries). (The queue, not the Map's own insertion order, is what eviction
 * reads: V8 leaves a deleted Map entry as a hole until the table is rehashed, and every new
 * iterator walks over the holes at the front, so reading the oldest key of a full window that
 * evicts one entry per insert costs O(evicted so far), tens to hundreds of µs per call.)
 * (A clock that steps backwards only delays age eviction; the count bound still holds.)
 *
 * ## Limits
 * The window is in memory and per process: it forgets on restart, and after a rebalance the new
 * owner of a partition starts empty, so duplicates that straddle those moments pass (at-least-
 * once, not exactly-once). Downstream stores stay idempotent by `event_id` (ARCHITECTURE.md).
 * Records of one trace share a key and so a partition; ids are global across partitions here.
 */
import type { RecordCoordinates } from '../runtime/context.ts'

/** What {@link DedupWindow.check} decided. */
export type DedupVerdict =
  | { readonly kind: 'first' }
  | { readonly kind: 'redelivery' }
  | { readonly kind: 'duplicate'; readonly first: RecordCoordinates }

/** Bounds of the window (config: AUREN_ENRICHMENT_DEDUP_MAX_ENTRIES / _MAX_AGE_MS). */
export interface DedupOptions {
  /** Most ids kept, >= 1. */
  readonly maxEntries: number
  /** Most time an id is kept after it was first remembered, ms, >= 1. */
  readonly maxAgeMs: number
}

interface Entry {
  readonly eventId: string
  readonly topic: string
  readonly partition: number
  readonly offset: string
  /** Processing time when remembered, epoch ms. */
  readonly seenAtMs: number
}

const FIRST: DedupVerdict = Object.freeze({ kind: 'first' })
const REDELIVERY: DedupVerdict = Object.freeze({ kind: 'redelivery' })

/** See the module documentation. Not thread-safe (nothing in Node needs it to be). */
export class DedupWindow {
  readonly #entries = new Map<string, Entry>()
  /** The entries of #entries in insertion order, from index #head on (a FIFO queue). */
  #order: Entry[] = []
  #head = 0
  readonly #maxEntries: number
  readonly #maxAgeMs: number
  #evictedByAge = 0
  #evictedByCount = 0

  constructor(opts: DedupOptions) {
    if (!Number.isInteger(opts.maxEntries) || opts.maxEntries < 1) throw new RangeError(`maxEntries must be an integer >= 1, got ${opts.maxEntries}`)
    if (!(opts.maxAgeMs >= 1)) throw new RangeError(`maxAgeMs must be >= 1, got ${opts.maxAgeMs}`)
    this.#maxEntries = opts.maxEntries
    this.#maxAgeMs = opts.maxAgeMs
  }

  /** Ids currently remembered. */
  get size(): number {
    return this.#entries.size
  }

  /** Totals of evicted ids since construction, by cause. */
  get evictions(): { readonly byAge: number; readonly byCount: number } {
    return { byAge: this.#evictedByAge, byCount: this.#evictedByCount }
  }

  /** Classifies a record without remembering it (expired entries are dropped first). */
  check(eventId: string, at: RecordCoordinates, nowMs: number): DedupVerdict {
    this.#evictExpired(nowMs)
    const seen = this.#entries.get(eventId)
    if (seen === undefined) return FIRST
    if (seen.topic === at.topic && seen.partition === at.partition && seen.offset === at.offset) return REDELIVERY
    return { kind: 'duplicate', first: { topic: seen.topic, partition: seen.partition, offset: seen.offset } }
  }

  /**
   * Remembers the first occurrence of eventId at these coordinates; a no-op when the id is
   * already known (the first occurrence and its age are kept). Call it only once the record is
   * going to be emitted, so a dead-lettered or failed record never shadows a later good copy.
   */
  remember(eventId: string, at: RecordCoordinates, nowMs: number): void {
    this.#evictExpired(nowMs)
    if (this.#entries.has(eventId)) return
    const entry: Entry = { eventId, topic: at.topic, partition: at.partition, offset: at.offset, seenAtMs: nowMs }
    this.#entries.set(eventId, entry)
    this.#order.push(entry)
    while (this.#entries.size > this.#maxEntries) {
      this.#dropOldest()
      this.#evictedByCount += 1
    }
  }

  /** Drops entries older than maxAgeMs from the front; stops at the first young one. */
  #evictExpired(nowMs: number): void {
    while (this.#head < this.#order.length) {
      if (nowMs - this.#order[this.#head]!.seenAtMs <= this.#maxAgeMs) return
      this.#dropOldest()
      this.#evictedByAge += 1
    }
  }

  /** Removes the oldest entry (the queue's head); compacts the queue once half of it is consumed. */
  #dropOldest(): void {
    const oldest = this.#order[this.#head]!
    this.#order[this.#head] = undefined as unknown as Entry // release it for GC before compaction
    this.#head += 1
    this.#entries.delete(oldest.eventId)
    if (this.#head >= 1024 && this.#head * 2 >= this.#order.length) {
      this.#order = this.#order.slice(this.#head)
      this.#head = 0
    }
  }
}
