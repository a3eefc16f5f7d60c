/**
 * Projections of token use and cost from recent history (pure; the seed's phase 4 "predict next
 * hour's token usage", "projected daily/monthly costs").
 *
 * Method, stated in every answer:
 * - **as of**: the end of the latest rollup window with data at or before the request's `to`
 *   (so a replay of old runs projects from where its data ends; live, that is about now);
 * - **basis**: the `basis_minutes` before that (default AUREN_GATEWAY_PROJECTION_BASIS_MIN = 60),
 *   one point per rollup window, windows without events counting as 0;
 * - **rate projection** (the headline figures): per-minute rate = basis total / basis minutes;
 *   next hour = rate × 60, next day = rate × 1440, next 30 days = rate × 43 200;
 * - **trend projection** (alongside): an ordinary least-squares line y = a + b·x over the basis
 *   points (x = window index), extended over the horizon, each future point clamped at 0 and
 *   summed; with r² of the fit. A flat history gives the rate projection again. A line fitted
 *   on an hour says little about a month: the trend is extended at most
 *   {@link TREND_MAX_HORIZON_FACTOR} × the basis length (24 h from a 1 h basis), null beyond.
 */
import { isoOfUs } from './range.ts'

/** Usage of one rollup window. */
export interface UsagePoint {
  /** Window start, epoch µs. */
  readonly startUs: number
  readonly input_tokens: number
  readonly output_tokens: number
  /** USD. */
  readonly cost_usd: number
  readonly llm_calls: number
}

/** A least-squares line over window indexes. */
export interface Trend {
  /** Change per window of the quantity per window. */
  readonly slope_per_window: number
  /** Fitted value at the first basis window. */
  readonly intercept: number
  /** Coefficient of determination (null when the series is constant). */
  readonly r2: number | null
}

/** Projected amounts over one horizon. */
export interface Horizon {
  readonly minutes: number
  /** Rate projection: tokens (input + output). */
  readonly tokens: number
  readonly input_tokens: number
  readonly output_tokens: number
  /** Rate projection, USD. */
  readonly cost_usd: number
  readonly llm_calls: number
  /** Trend projection: tokens, USD (null when the horizon is beyond the trend's reach). */
  readonly trend_tokens: number | null
  readonly trend_cost_usd: number | null
}

/** The answer of {@link projectUsage}. */
export interface Projection {
  readonly method: string
  readonly as_of: string | null
  readonly basis: {
    readonly from: string | null
    readonly to: string | null
    readonly minutes: number
    readonly windows: number
    readonly windows_with_data: number
    readonly input_tokens: number
    readonly output_tokens: number
    readonly tokens: number
    readonly cost_usd: number
    readonly llm_calls: number
  }
  readonly rate_per_minute: { readonly tokens: number; readonly cost_usd: number; readonly llm_calls: number }
  readonly next_hour: Horizon
  readonly next_day: Horizon
  readonly next_30_days: Horizon
  readonly trend: { readonly tokens: Trend; readonly cost_usd: Trend }
}

/** The trend is extended over at most this many times the basis length. */
export const TREND_MAX_HORIZON_FACTOR = 24

export const PROJECTION_METHOD =
  'rate: total over the basis (the basis_minutes before as_of, as_of = end of the latest rollup window with data at or before `to`) ÷ basis minutes, × 60 (next hour), × 1440 (next day), × 43200 (next 30 days); ' +
  'trend: ordinary least squares y = a + b·x over the per-window basis series (empty windows = 0), extended over the horizon, each future window clamped at ≥ 0 and summed, for horizons up to 24 × the basis (null beyond)'

/** Ordinary least squares over y[0..n−1] at x = 0..n−1. */
export function leastSquares(ys: readonly number[]): Trend {
  const n = ys.length
  if (n === 0) return { slope_per_window: 0, intercept: 0, r2: null }
  const meanX = (n - 1) / 2
  const meanY = ys.reduce((a, b) => a + b, 0) / n
  let sxy = 0
  let sxx = 0
  let syy = 0
  ys.forEach((y, x) => {
    sxy += (x - meanX) * (y - meanY)
    sxx += (x - meanX) ** 2
    syy += (y - meanY) ** 2
  })
  const slope = sxx === 0 ? 0 : sxy / sxx
  const intercept = meanY - slope * meanX
  return { slope_per_window: slope, intercept, r2: syy === 0 ? null : (sxy * sxy) / (sxx * syy) }
}

/** Sum of max(0, a + b·x) for x = from … from + count − 1. */
export function extendTrend(t: Trend, from: number, count: number): number {
  let sum = 0
  for (let x = from; x < from + count; x++) sum += Math.max(0, t.intercept + t.slope_per_window * x)
  return sum
}

/**
 * Projects usage from the windows of the basis.
 * @param points usage per rollup window inside [asOfUs − basisMinutes, asOfUs) (others are ignored)
 * @param asOfUs end of the basis, epoch µs; null when there is no data at all (all zeros)
 * @param basisMinutes length of the basis, minutes
 * @param stepMs rollup window, ms
 */
export function projectUsage(points: readonly UsagePoint[], asOfUs: number | null, basisMinutes: number, stepMs: number): Projection {
  const stepUs = stepMs * 1000
  const windows = Math.max(1, Math.ceil((basisMinutes * 60_000) / stepMs))
  const fromUs = asOfUs === null ? null : asOfUs - windows * stepUs
  const series = Array.from({ length: windows }, () => ({ input: 0, output: 0, cost: 0, calls: 0, data: false }))
  if (fromUs !== null) {
    for (const p of points) {
      const i = Math.floor((p.startUs - fromUs) / stepUs)
      if (i < 0 || i >= windows) continue
      const s = series[i]!
      s.input += p.input_tokens
      s.output += p.output_tokens
      s.cost += p.cost_usd
      s.calls += p.llm_calls
      s.data = true
    }
  }
  const sum = (f: (s: (typeof series)[number]) => number) => series.reduce((a, s) => a + f(s), 0)
  const input = sum((s) => s.input)
  const output = sum((s) => s.output)
  const cost = sum((s) => s.cost)
  const calls = sum((s) => s.calls)
  const minutes = (windows * stepMs) / 60_000
  const tokenTrend = leastSquares(series.map((s) => s.input + s.output))
  const costTrend = leastSquares(series.map((s) => s.cost))
  const horizon = (h: number): Horizon => {
    const steps = Math.ceil((h * 60_000) / stepMs)
    const reach = h <= TREND_MAX_HORIZON_FACTOR * minutes
    return {
      minutes: h,
      tokens: ((input + output) / minutes) * h,
      input_tokens: (input / minutes) * h,
      output_tokens: (output / minutes) * h,
      cost_usd: (cost / minutes) * h,
      llm_calls: (calls / minutes) * h,
      trend_tokens: reach ? extendTrend(tokenTrend, windows, steps) : null,
      trend_cost_usd: reach ? extendTrend(costTrend, windows, steps) : null,
    }
  }
  return {
    method: PROJECTION_METHOD,
    as_of: asOfUs === null ? null : isoOfUs(asOfUs),
    basis: {
      from: fromUs === null ? null : isoOfUs(fromUs),
      to: asOfUs === null ? null : isoOfUs(asOfUs),
      minutes,
      windows,
      windows_with_data: series.filter((s) => s.data).length,
      input_tokens: input,
      output_tokens: output,
      tokens: input + output,
      cost_usd: cost,
      llm_calls: calls,
    },
    rate_per_minute: { tokens: (input + output) / minutes, cost_usd: cost / minutes, llm_calls: calls / minutes },
    next_hour: horizon(60),
    next_day: horizon(1_440),
    next_30_days: horizon(43_200),
    trend: { tokens: tokenTrend, cost_usd: costTrend },
  }
}
