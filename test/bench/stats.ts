/** Small statistics and formatting helpers of the benchmark. */

/** Summary of a sample: count, mean and nearest-rank percentiles. */
export interface Summary {
  readonly n: number
  readonly min: number
  readonly mean: number
  readonly p50: number
  readonly p95: number
  readonly p99: number
  readonly max: number
}

/** Nearest-rank percentile (0 < p <= 100) of an ascending array; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!
}

/** Summarizes values (any order; the array is not modified). */
export function summarize(values: readonly number[]): Summary {
  const sorted = Float64Array.from(values).sort()
  const arr = Array.from(sorted)
  let sum = 0
  for (const v of arr) sum += v
  return {
    n: arr.length,
    min: arr[0] ?? Number.NaN,
    mean: arr.length === 0 ? Number.NaN : sum / arr.length,
    p50: percentile(arr, 50),
    p95: percentile(arr, 95),
    p99: percentile(arr, 99),
    max: arr.at(-1) ?? Number.NaN,
  }
}

/** Median of values; NaN when empty. */
export function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50)
}

/** `a / b`, or NaN when b is not a positive number. */
export function ratio(a: number, b: number): number {
  return b > 0 && Number.isFinite(a) ? a / b : Number.NaN
}

/** Fixed-decimals number, `n/a` for NaN or infinities. */
export function fmt(n: number, decimals = 0): string {
  return Number.isFinite(n) ? n.toFixed(decimals) : 'n/a'
}

/** Rounds to `decimals` for the JSON report (NaN and infinities become null). */
export function round(n: number, decimals = 2): number | null {
  if (!Number.isFinite(n)) return null
  const f = 10 ** decimals
  return Math.round(n * f) / f
}

/** Wall-clock time with sub-millisecond resolution, epoch ms (performance.timeOrigin + now()). */
export function nowMs(): number {
  return performance.timeOrigin + performance.now()
}

/** Resolves after ms (for polling intervals and pacing, never to wait for an outcome). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Rejects with `message` if promise does not settle within ms. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))])
  } finally {
    clearTimeout(timer)
  }
}
