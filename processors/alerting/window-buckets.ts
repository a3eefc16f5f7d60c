/**
 * Event-time buckets behind the windowed conditions: each bucket holds the aggregates of the
 * events whose time falls in [start, start + step): matching events `n`, numerator events `k`,
 * a `sum` (latency ms, USD, tokens or a window field) and a sparse latency histogram in the
 * mergeable layout of schemas/latency-histogram.ts. A sliding window is the merge of the
 * buckets that overlap it (so it may reach back up to one step further than its length); a
 * tumbling window is one bucket of the window's length. Buckets older than the retention are
 * dropped, so memory per group is bounded by retention / step + 1 buckets.
 *
 * Running totals: a group also keeps the sum of all its buckets ({@link Totals}), updated as a
 * bucket gains an observation (add) and as buckets are dropped (subtract), so a sliding window
 * — every bucket left after pruning — is read in O(1) instead of merging its buckets on every
 * event. The totals are part of the saved state (a restored engine continues with the very same
 * floating-point sums, so a replay across restarts compares the same values).
 */
import { bucketOf, bucketRange, OVERFLOW_BUCKET } from '../../schemas/index.ts'

/** Aggregates of one bucket (JSON-serialisable: it is part of the per-partition state). */
export interface Bucket {
  /** Bucket start, epoch ms, a multiple of the step. */
  start: number
  /** Events counted. */
  n: number
  /** Events that also matched the numerator (ratio rules). */
  k: number
  /** Sum of the measured quantity. */
  sum: number
  /** Latency histogram: bucket index → count (latency rules only). */
  hist?: Record<number, number>
}

/** Sum of every bucket of a group (JSON-serialisable; same fields as a bucket without `start`). */
export interface Totals {
  n: number
  k: number
  sum: number
  /** Latency histogram: bucket index → count, only non-zero counts (latency rules only). */
  hist?: Record<number, number>
}

/** What one observation adds to its bucket. */
export interface Contribution {
  n?: number
  k?: number
  sum?: number
  /** A latency in ms to add to the histogram. */
  latencyMs?: number
}

/** Empty totals. */
export function emptyTotals(): Totals {
  return { n: 0, k: 0, sum: 0 }
}

/** Totals of a bucket list, merged from scratch (a state saved before totals were kept). */
export function totalsOf(buckets: readonly Bucket[]): Totals {
  const t = emptyTotals()
  for (const b of buckets) {
    t.n += b.n
    t.k += b.k
    t.sum += b.sum
    if (b.hist) {
      t.hist ??= {}
      for (const idx in b.hist) t.hist[idx] = (t.hist[idx] ?? 0) + b.hist[idx]!
    }
  }
  return t
}

/** The bucket of a list (sorted by start) that starts at `start`, inserted empty in its place when missing. */
function bucketAt(buckets: Bucket[], start: number): Bucket {
  let i = buckets.length - 1
  while (i >= 0 && buckets[i]!.start > start) i -= 1
  let b = buckets[i]
  if (!b || b.start !== start) {
    b = { start, n: 0, k: 0, sum: 0 }
    buckets.splice(i + 1, 0, b)
  }
  return b
}

/**
 * Adds an observation at `timeMs` to the bucket list (sorted by start), creating its bucket, and
 * to the group's running totals when given.
 */
export function addToBuckets(buckets: Bucket[], stepMs: number, timeMs: number, c: Contribution, totals?: Totals): void {
  const b = bucketAt(buckets, Math.floor(timeMs / stepMs) * stepMs)
  const n = c.n ?? 0
  const k = c.k ?? 0
  const sum = c.sum ?? 0
  b.n += n
  b.k += k
  b.sum += sum
  if (totals) {
    totals.n += n
    totals.k += k
    totals.sum += sum
  }
  if (c.latencyMs !== undefined) {
    const idx = bucketOf(c.latencyMs)
    b.hist ??= {}
    b.hist[idx] = (b.hist[idx] ?? 0) + 1
    if (totals) {
      totals.hist ??= {}
      totals.hist[idx] = (totals.hist[idx] ?? 0) + 1
    }
  }
}

/**
 * Merges the aggregates of another bucket list's bucket (a source partition's partial bucket,
 * partial-buckets.ts) into the bucket of the same start, creating it, and into the running totals
 * when given: the same result as adding each of its observations with {@link addToBuckets}.
 * @param part the partial's aggregates (its histogram: bucket index → count, when it has one)
 */
export function mergeIntoBuckets(buckets: Bucket[], start: number, part: Readonly<Totals>, totals?: Totals): void {
  const b = bucketAt(buckets, start)
  b.n += part.n
  b.k += part.k
  b.sum += part.sum
  if (totals) {
    totals.n += part.n
    totals.k += part.k
    totals.sum += part.sum
  }
  if (part.hist) {
    for (const idx in part.hist) {
      const count = part.hist[idx]!
      b.hist ??= {}
      b.hist[idx] = (b.hist[idx] ?? 0) + count
      if (totals) {
        totals.hist ??= {}
        totals.hist[idx] = (totals.hist[idx] ?? 0) + count
      }
    }
  }
}

/**
 * Drops buckets that end at or before `beforeMs`, subtracting them from the running totals when
 * given (an emptied list resets the totals to exactly zero, so no rounding residue survives).
 */
export function pruneBuckets(buckets: Bucket[], stepMs: number, beforeMs: number, totals?: Totals): void {
  let drop = 0
  while (drop < buckets.length && buckets[drop]!.start + stepMs <= beforeMs) drop += 1
  if (drop === 0) return
  if (totals) {
    if (drop === buckets.length) {
      totals.n = 0
      totals.k = 0
      totals.sum = 0
      delete totals.hist
    } else {
      for (let i = 0; i < drop; i += 1) {
        const b = buckets[i]!
        totals.n -= b.n
        totals.k -= b.k
        totals.sum -= b.sum
        if (b.hist && totals.hist) {
          for (const idx in b.hist) {
            const left = (totals.hist[idx] ?? 0) - b.hist[idx]!
            if (left > 0) totals.hist[idx] = left
            else delete totals.hist[idx]
          }
        }
      }
    }
  }
  buckets.splice(0, drop)
}

/** Merged aggregates of a range. */
export interface RangeTotals {
  n: number
  k: number
  sum: number
  hist: Map<number, number>
}

/** A histogram record (bucket index → count) as the Map schemas/latency-histogram.ts reads. */
export function histogramMap(hist: Readonly<Record<number, number>> | undefined): Map<number, number> {
  const m = new Map<number, number>()
  if (hist) for (const idx in hist) m.set(Number(idx), hist[idx]!)
  return m
}

/**
 * The q-quantile (0 ≤ q ≤ 1) in ms of a histogram record (bucket index → count, positive counts),
 * read in place: the same bucket and linear interpolation as schemas/latency-histogram.ts
 * `percentile` (the same result, bit for bit), without building a Map and sorting it. `percentile`
 * takes the first bucket, upwards, whose cumulative count reaches rank = q × total; here the
 * buckets are visited downwards by integer index (no key strings) while the cumulative count up
 * to the bucket, total − (counts above it), still reaches the rank, so a high quantile (p95, p99)
 * stops after the few top buckets. Counts are integers, so the cumulative figures are exact
 * either way. Null when there are no observations.
 * @param total the sum of the positive counts when the caller keeps it (a group's running `n`
 *   of a latency rule: each observation adds 1 to both), else summed here
 */
export function percentileOfRecord(hist: Readonly<Record<number, number>> | undefined, q: number, total?: number): number | null {
  if (!hist) return null
  if (total === undefined) {
    total = 0
    for (const idx in hist) if (hist[idx]! > 0) total += hist[idx]!
  }
  if (total === 0) return null
  const rank = q * total
  let above = 0
  let found = -1
  let foundCount = 0
  let foundAbove = 0
  for (let b = OVERFLOW_BUCKET; b >= 0; b -= 1) {
    const count = hist[b]
    if (count === undefined || !(count > 0)) continue
    if (total - above < rank) break // this bucket and every lower one end below the rank
    found = b
    foundCount = count
    foundAbove = above
    above += count
  }
  if (found < 0) return null // unreachable with a consistent total: the top bucket reaches it
  const cumulative = total - foundAbove - foundCount
  const [lower, upper] = bucketRange(found)
  if (upper === Infinity) return lower
  return lower + ((upper - lower) * (rank - cumulative)) / foundCount
}

/** Merges the buckets overlapping [fromMs, toMs); the histograms only when `withHistogram`. */
export function totalsIn(buckets: readonly Bucket[], stepMs: number, fromMs: number, toMs: number, withHistogram = false): RangeTotals {
  const out: RangeTotals = { n: 0, k: 0, sum: 0, hist: new Map() }
  for (let i = buckets.length - 1; i >= 0; i -= 1) {
    const b = buckets[i]!
    if (b.start >= toMs) continue
    if (b.start + stepMs <= fromMs) break // sorted by start: every earlier bucket is out too
    out.n += b.n
    out.k += b.k
    out.sum += b.sum
    if (withHistogram && b.hist) for (const idx in b.hist) out.hist.set(Number(idx), (out.hist.get(Number(idx)) ?? 0) + b.hist[idx]!)
  }
  return out
}
