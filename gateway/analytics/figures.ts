/**
 * Small pure helpers shared by the shapers: numbers from PostgreSQL text, safe ratios, and
 * latency summaries from merged histogram buckets.
 *
 * Percentiles come from the aggregation's mergeable histograms (schemas/
 * latency-histogram.ts: 8 log buckets per doubling from 0.1 ms, a percentile within 9.05 % of the true
 * value); the gateway sums `count` per bucket over any range and set of rows, then reads them
 * with the same `percentile()`, so the bucket layout lives in one place. Means are exact:
 * `latency_sum_ms / latency_count` of the rollups.
 */
import { percentile } from '../../schemas/latency-histogram.ts'

/** A bigint or numeric column as a JS number (pg returns both as text); null and undefined → 0. */
export function num(v: string | number | null | undefined): number {
  if (v === null || v === undefined) return 0
  return typeof v === 'number' ? v : Number(v)
}

/** a / b, or null when b is 0 (a rate of nothing is unknown, not 0). */
export function ratio(a: number, b: number): number | null {
  return b === 0 ? null : a / b
}

/** Latency of a selection of events, ms. Percentiles null without observations. */
export interface LatencyFigures {
  /** Observations with a latency. */
  readonly count: number
  /** Exact mean, ms (sum / count). */
  readonly mean_ms: number | null
  readonly p50_ms: number | null
  readonly p95_ms: number | null
  readonly p99_ms: number | null
}

/**
 * Latency figures of merged buckets and the exact sum.
 * @param buckets bucket index → count, summed over the selection (schemas/latency-histogram.ts layout)
 * @param count observations (latency_count of the rollups)
 * @param sumMs their sum, ms (latency_sum_ms)
 */
export function latencyFigures(buckets: ReadonlyMap<number, number> | undefined, count: number, sumMs: number): LatencyFigures {
  const b = buckets ?? new Map<number, number>()
  return {
    count,
    mean_ms: ratio(sumMs, count),
    p50_ms: percentile(b, 0.5),
    p95_ms: percentile(b, 0.95),
    p99_ms: percentile(b, 0.99),
  }
}

/** Latency figures with only the exact mean (no histogram kept for this selection). */
export function meanOnly(count: number, sumMs: number): LatencyFigures {
  return { count, mean_ms: ratio(sumMs, count), p50_ms: null, p95_ms: null, p99_ms: null }
}

/**
 * Groups histogram rows `{ key…, bucket, n }` into key → bucket → count.
 * @param keyOf the grouping key of a row (e.g. `${agent}|${metric}`)
 */
export function bucketsBy<R extends { bucket: number; n: string | number }>(rows: readonly R[], keyOf: (r: R) => string): Map<string, Map<number, number>> {
  const out = new Map<string, Map<number, number>>()
  for (const r of rows) {
    const k = keyOf(r)
    let m = out.get(k)
    if (!m) out.set(k, (m = new Map()))
    m.set(r.bucket, (m.get(r.bucket) ?? 0) + num(r.n))
  }
  return out
}
