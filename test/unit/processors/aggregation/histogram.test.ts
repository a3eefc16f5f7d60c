import { describe, expect, it } from 'vitest'
import {
  BUCKET_COUNT, HISTOGRAM_BOUNDS_MS, MAX_RELATIVE_ERROR, OVERFLOW_BUCKET, bucketOf, bucketRange, histogramOf, latencySummary, mergeHistograms, percentile,
} from '../../../../schemas/latency-histogram.ts'
import { seededRandom } from '../../../helpers/aggregation-events.ts'

/** Nearest-rank quantile of raw values: the ceil(q·N)-th smallest. */
function exactQuantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!
}

/** Log-normal latencies around `medianMs`, from a seeded generator. */
function latencies(seed: number, n: number, medianMs: number): number[] {
  const rand = seededRandom(seed)
  return Array.from({ length: n }, () => {
    const z = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())
    return medianMs * Math.exp(z)
  })
}

describe('histogram buckets', () => {
  it('has 8 buckets per doubling from 0.1 ms to about 3.7 h, plus underflow and overflow', () => {
    expect(HISTOGRAM_BOUNDS_MS[0]).toBe(0.1)
    expect(HISTOGRAM_BOUNDS_MS[8]).toBeCloseTo(0.2, 12)
    expect(HISTOGRAM_BOUNDS_MS[HISTOGRAM_BOUNDS_MS.length - 1]).toBeCloseTo(0.1 * 2 ** 27, 3)
    expect(BUCKET_COUNT).toBe(218)
    expect(MAX_RELATIVE_ERROR).toBeCloseTo(0.0905, 4)
  })

  it('puts every value in the bucket whose [lower, upper) holds it, boundaries included', () => {
    for (const ms of [0, 0.05, 0.1, 0.1000001, 1, 850, 999.99, 60_000, 1e7, 1.3e7, 1e9]) {
      const [lo, hi] = bucketRange(bucketOf(ms))
      expect(ms >= lo && ms < hi, `${ms} in [${lo}, ${hi})`).toBe(true)
    }
    HISTOGRAM_BOUNDS_MS.forEach((bound, i) => {
      expect(bucketOf(bound)).toBe(i + 1) // a bound belongs to the bucket above it
      expect(bucketOf(bound * (1 - 1e-12))).toBe(i)
    })
    expect(bucketOf(-5)).toBe(0)
    expect(bucketOf(Number.NaN)).toBe(0)
    expect(bucketOf(Infinity)).toBe(OVERFLOW_BUCKET)
  })

  it('rejects bucket indexes out of range', () => {
    expect(() => bucketRange(-1)).toThrow(RangeError)
    expect(() => bucketRange(BUCKET_COUNT)).toThrow(RangeError)
  })
})

describe('percentile', () => {
  it('is null for an empty histogram and rejects q outside [0, 1]', () => {
    expect(percentile(new Map(), 0.5)).toBeNull()
    expect(percentile([], 0.99)).toBeNull()
    expect(() => percentile(new Map([[1, 1]]), 1.5)).toThrow(RangeError)
  })

  it('interpolates linearly inside the bucket holding the rank', () => {
    const b = bucketOf(100)
    const [lo, hi] = bucketRange(b)
    const h = new Map([[b, 4]])
    expect(percentile(h, 0.5)).toBeCloseTo(lo + (hi - lo) * 0.5, 9)
    expect(percentile(h, 1)).toBeCloseTo(hi, 9)
    expect(percentile(h, 0)).toBe(lo)
  })

  it('accepts a dense array as well as a Map', () => {
    const values = latencies(1, 500, 300)
    const map = histogramOf(values)
    const dense: number[] = new Array(BUCKET_COUNT).fill(0)
    for (const [b, c] of map) dense[b] = c
    expect(percentile(dense, 0.95)).toBe(percentile(map, 0.95))
  })

  it('stays within the documented relative error of the exact nearest-rank quantile', () => {
    for (const [seed, median] of [[1, 850], [2, 3], [3, 40_000]] as const) {
      const values = latencies(seed, 5000, median)
      const h = histogramOf(values)
      for (const q of [0.5, 0.9, 0.95, 0.99]) {
        const exact = exactQuantile(values, q)
        const est = percentile(h, q)!
        expect(Math.abs(est - exact) / exact, `seed ${seed} q ${q}`).toBeLessThanOrEqual(MAX_RELATIVE_ERROR)
      }
    }
  })

  it('reads the overflow bucket as its lower bound', () => {
    expect(percentile(histogramOf([1e10]), 0.5)).toBe(bucketRange(OVERFLOW_BUCKET)[0])
  })
})

describe('merge', () => {
  it('is adding counts, so split observations give exactly the percentiles of the whole', () => {
    const values = latencies(7, 3000, 850)
    const whole = histogramOf(values)
    const rand = seededRandom(99)
    const parts: number[][] = [[], [], []]
    for (const v of values) parts[Math.floor(rand() * 3)]!.push(v)
    const merged = mergeHistograms(...parts.map(histogramOf))
    expect(new Map([...merged].sort((a, b) => a[0] - b[0]))).toEqual(new Map([...whole].sort((a, b) => a[0] - b[0])))
    for (const q of [0.5, 0.95, 0.99]) expect(percentile(merged, q)).toBe(percentile(whole, q))
    // in any order
    expect(percentile(mergeHistograms(...parts.map(histogramOf).reverse()), 0.95)).toBe(percentile(whole, 0.95))
  })
})

describe('latencySummary', () => {
  it('gives count, sum and null percentiles when empty', () => {
    expect(latencySummary(new Map(), 0)).toEqual({ count: 0, sum_ms: 0, p50_ms: null, p95_ms: null, p99_ms: null })
    const s = latencySummary(histogramOf([100, 200, 300]), 600)
    expect(s.count).toBe(3)
    expect(s.sum_ms).toBe(600)
    expect(s.p50_ms! / 200).toBeGreaterThan(1 - MAX_RELATIVE_ERROR)
  })
})
