/**
 * Event-time buckets behind the windowed conditions: each bucket holds the aggregates of the
 * events whose time falls in [start, start + step): matching events `n`, numerator events `k`,
 * a `sum` (latency ms, USD, tokens or a window field) and a sparse latency histogram in the
 * mergeable layout of schemas/latency-histogram.ts. A sliding window is the merge of the
 * buckets that overlap it (so it may reach back up to one step further than its length); a
 * tumbling window is one bucket of the window's length. Buckets older than the retention are
 * dropped, so memory per group is bounded by retention / step + 1 buckets.
 */
import { bucketOf } from '../../schemas/index.ts'

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

/** What one observation adds to its bucket. */
export interface Contribution {
  n?: number
  k?: number
  sum?: number
  /** A latency in ms to add to the histogram. */
  latencyMs?: number
}

/** Adds an observation at `timeMs` to the bucket list (sorted by start), creating its bucket. */
export function addToBuckets(buckets: Bucket[], stepMs: number, timeMs: number, c: Contribution): void {
  const start = Math.floor(timeMs / stepMs) * stepMs
  let i = buckets.length - 1
  while (i >= 0 && buckets[i]!.start > start) i -= 1
  let b = buckets[i]
  if (!b || b.start !== start) {
    b = { start, n: 0, k: 0, sum: 0 }
    buckets.splice(i + 1, 0, b)
  }
  b.n += c.n ?? 0
  b.k += c.k ?? 0
  b.sum += c.sum ?? 0
  if (c.latencyMs !== undefined) {
    b.hist ??= {}
    const idx = bucketOf(c.latencyMs)
    b.hist[idx] = (b.hist[idx] ?? 0) + 1
  }
}

/** Drops buckets that end at or before `beforeMs`. */
export function pruneBuckets(buckets: Bucket[], stepMs: number, beforeMs: number): void {
  let drop = 0
  while (drop < buckets.length && buckets[drop]!.start + stepMs <= beforeMs) drop += 1
  if (drop > 0) buckets.splice(0, drop)
}

/** Merged aggregates of a range. */
export interface RangeTotals {
  n: number
  k: number
  sum: number
  hist: Map<number, number>
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
