/**
 * A mergeable latency histogram with fixed log-scale buckets, in milliseconds.
 *
 * State is a count per bucket index. Merging histograms of any partitions, instances or time
 * windows is adding counts bucket by bucket, so a percentile over any time range and any set of
 * partitions is read at query time from the summed buckets, and scaling out never changes it
 * (ARCHITECTURE.md "State is mergeable"). The same bounds are used everywhere; they must never
 * change for stored data (a new layout would need a new `metric` name in the bucket table).
 *
 * Bounds (`HISTOGRAM_BOUNDS_MS`, the exclusive upper bound of each bucket):
 * - bucket 0: [0, 0.1) ms;
 * - bucket i, 1 ≤ i ≤ 216: [0.1·2^((i−1)/8), 0.1·2^(i/8)) ms, eight buckets per doubling;
 * - bucket 217 (overflow): [0.1·2^27 ms ≈ 3.73 h, ∞).
 *
 * Relative error: a percentile is interpolated linearly inside the bucket that holds the
 * nearest-rank observation, so estimate and true value lie in one bucket and differ by at most
 * its width, 2^(1/8) − 1 ≈ 9.05 % of the bucket's lower bound (so ≤ 9.05 % of the true value;
 * about half that on average). Below 0.1 ms the error is under 0.1 ms absolute; in the overflow
 * bucket the estimate is its lower bound. Same idea as Prometheus native histograms (schema 3
 * uses the same factor 2^(1/8)) and HdrHistogram's log buckets.
 */
import type { LatencySummary } from './generated/types.ts'

/** Lower edge of bucket 1, ms. */
export const HISTOGRAM_MIN_MS = 0.1
/** Buckets per doubling of latency. */
export const BUCKETS_PER_OCTAVE = 8
/** Doublings covered above HISTOGRAM_MIN_MS. */
export const HISTOGRAM_OCTAVES = 27

/** Exclusive upper bound of bucket i (i = 0 … 216), ms; bucket 217 has none. */
export const HISTOGRAM_BOUNDS_MS: readonly number[] = Object.freeze(
  Array.from({ length: HISTOGRAM_OCTAVES * BUCKETS_PER_OCTAVE + 1 }, (_, i) => HISTOGRAM_MIN_MS * 2 ** (i / BUCKETS_PER_OCTAVE)),
)
/** Index of the overflow bucket (the last one). */
export const OVERFLOW_BUCKET = HISTOGRAM_BOUNDS_MS.length
/** Number of buckets. */
export const BUCKET_COUNT = OVERFLOW_BUCKET + 1
/** Upper bound of the worst-case relative error of a percentile read (2^(1/8) − 1). */
export const MAX_RELATIVE_ERROR = 2 ** (1 / BUCKETS_PER_OCTAVE) - 1

/** Bucket counts: index → count (sparse Map) or a dense array indexed by bucket. */
export type BucketCounts = ReadonlyMap<number, number> | readonly number[]

/**
 * Bucket of a latency. Negative and NaN values (invalid; enrichment rejects them) fall in bucket 0.
 * Computed from log2, then checked against the bounds table so that every instance classifies a
 * value on a boundary the same way.
 */
export function bucketOf(ms: number): number {
  const bounds = HISTOGRAM_BOUNDS_MS
  if (!(ms >= bounds[0]!)) return 0
  if (ms >= bounds[OVERFLOW_BUCKET - 1]!) return OVERFLOW_BUCKET
  let i = Math.min(OVERFLOW_BUCKET - 1, Math.max(1, Math.floor(Math.log2(ms / HISTOGRAM_MIN_MS) * BUCKETS_PER_OCTAVE) + 1))
  while (i > 1 && ms < bounds[i - 1]!) i -= 1
  while (i < OVERFLOW_BUCKET && ms >= bounds[i]!) i += 1
  return i
}

/** [lower, upper) of a bucket, ms; the overflow bucket's upper bound is Infinity. */
export function bucketRange(bucket: number): [number, number] {
  if (!Number.isInteger(bucket) || bucket < 0 || bucket > OVERFLOW_BUCKET) throw new RangeError(`no bucket ${bucket}`)
  const lower = bucket === 0 ? 0 : HISTOGRAM_BOUNDS_MS[bucket - 1]!
  const upper = bucket === OVERFLOW_BUCKET ? Infinity : HISTOGRAM_BOUNDS_MS[bucket]!
  return [lower, upper]
}

/** Non-zero (bucket, count) pairs in bucket order. */
function entries(counts: BucketCounts): [number, number][] {
  const out: [number, number][] = []
  if (Array.isArray(counts)) (counts as readonly number[]).forEach((c, b) => c > 0 && out.push([b, c]))
  else for (const [b, c] of counts as ReadonlyMap<number, number>) if (c > 0) out.push([b, c])
  return out.sort((a, b) => a[0] - b[0])
}

/** Total observations. */
export function totalCount(counts: BucketCounts): number {
  return entries(counts).reduce((n, [, c]) => n + c, 0)
}

/**
 * The q-quantile (0 ≤ q ≤ 1) in ms: finds the bucket holding rank q·N (the first bucket whose
 * cumulative count reaches it) and interpolates linearly inside it. Null when there are no
 * observations.
 * @throws RangeError when q is outside [0, 1]
 */
export function percentile(counts: BucketCounts, q: number): number | null {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be in [0, 1], got ${q}`)
  const list = entries(counts)
  const total = list.reduce((n, [, c]) => n + c, 0)
  if (total === 0) return null
  const rank = q * total
  let cumulative = 0
  for (const [bucket, count] of list) {
    if (cumulative + count >= rank) {
      const [lower, upper] = bucketRange(bucket)
      if (upper === Infinity) return lower
      return lower + ((upper - lower) * (rank - cumulative)) / count
    }
    cumulative += count
  }
  return bucketRange(list[list.length - 1]![0])[0] // unreachable: the last bucket reaches total
}

/** Adds histograms bucket by bucket (the merge). */
export function mergeHistograms(...histograms: readonly BucketCounts[]): Map<number, number> {
  const out = new Map<number, number>()
  for (const h of histograms) for (const [b, c] of entries(h)) out.set(b, (out.get(b) ?? 0) + c)
  return out
}

/** A histogram of raw observations (ms). */
export function histogramOf(observationsMs: readonly number[]): Map<number, number> {
  const out = new Map<number, number>()
  for (const ms of observationsMs) {
    const b = bucketOf(ms)
    out.set(b, (out.get(b) ?? 0) + 1)
  }
  return out
}

/**
 * The contract's LatencySummary (count, sum, p50/p95/p99 in ms) of a histogram and the exact
 * sum of its observations; percentiles null when empty.
 */
export function latencySummary(counts: BucketCounts, sumMs: number): LatencySummary {
  const count = totalCount(counts)
  return {
    count,
    sum_ms: count === 0 ? 0 : sumMs,
    p50_ms: percentile(counts, 0.5),
    p95_ms: percentile(counts, 0.95),
    p99_ms: percentile(counts, 0.99),
  }
}
