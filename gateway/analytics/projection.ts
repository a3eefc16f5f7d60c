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
 *   {@link TREND_MAX_HORIZON_FACTOR} × the basis length (24 h from a 1 h basis), null beyond;
 * - **minimum data** (stated in every answer, `basis.min_windows`, `basis.trend_min_r2`): a
 *   token projection needs at least `minWindows` basis windows with token data (answered
 *   calls), a cost projection as many with a priced event; a trend needs, beyond that, r² ≥
 *   `trendMinR2`. Below, the figure is null and `reasons` says why (never a number from too
 *   little data, never $0 from windows that hold no price);
 * - token and call counts are whole numbers (rounded).
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
  /** Answered LLM calls. */
  readonly llm_calls: number
  /** Events with a known cost (0: the window holds no price, its cost is unknown). */
  readonly priced: number
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

/** Projected amounts over one horizon (null: too little data, see `reasons`). */
export interface Horizon {
  readonly minutes: number
  /** Rate projection: tokens (input + output), whole. */
  readonly tokens: number | null
  readonly input_tokens: number | null
  readonly output_tokens: number | null
  /** Rate projection, USD. */
  readonly cost_usd: number | null
  /** Answered LLM calls, whole. */
  readonly llm_calls: number | null
  /** Trend projection: tokens (whole), USD (null when too little data, r² too low, or beyond the trend's reach). */
  readonly trend_tokens: number | null
  readonly trend_cost_usd: number | null
}

/** Minimum data of a projection (gateway config). */
export interface ProjectionLimits {
  /** Least basis windows with token data (resp. priced data) for a token (resp. cost) projection. */
  readonly minWindows: number
  /** Least r² of a trend projection. */
  readonly trendMinR2: number
}

/** Defaults of {@link ProjectionLimits} (AUREN_GATEWAY_PROJECTION_MIN_WINDOWS, AUREN_GATEWAY_TREND_MIN_R2). */
export const DEFAULT_PROJECTION_LIMITS: ProjectionLimits = Object.freeze({ minWindows: 10, trendMinR2: 0.5 })

/** The answer of {@link projectUsage}. */
export interface Projection {
  readonly method: string
  readonly as_of: string | null
  readonly basis: {
    readonly from: string | null
    readonly to: string | null
    readonly minutes: number
    /** The rollups' window size, ms, as aggregation stored it (null: no rollups yet); the step of the basis series. */
    readonly window_ms: number | null
    readonly windows: number
    readonly windows_with_data: number
    /** Windows with an answered LLM call (token data). */
    readonly windows_with_tokens: number
    /** Windows with a priced event (cost data). */
    readonly windows_with_cost: number
    readonly min_windows: number
    readonly trend_min_r2: number
    readonly input_tokens: number
    readonly output_tokens: number
    readonly tokens: number
    readonly cost_usd: number
    readonly llm_calls: number
  }
  readonly rate_per_minute: { readonly tokens: number | null; readonly cost_usd: number | null; readonly llm_calls: number | null }
  readonly next_hour: Horizon
  readonly next_day: Horizon
  readonly next_30_days: Horizon
  readonly trend: { readonly tokens: Trend; readonly cost_usd: Trend }
  /** Why a figure is null: tokens, cost, trend_tokens, trend_cost (null when it is given). */
  readonly reasons: { readonly tokens: string | null; readonly cost: string | null; readonly trend_tokens: string | null; readonly trend_cost: string | null }
}

/** The trend is extended over at most this many times the basis length. */
export const TREND_MAX_HORIZON_FACTOR = 24

export const PROJECTION_METHOD =
  'rate: total over the basis (the basis_minutes before as_of, as_of = end of the latest rollup window with data at or before `to`) ÷ basis minutes, × 60 (next hour), × 1440 (next day), × 43200 (next 30 days); ' +
  'trend: ordinary least squares y = a + b·x over the per-window basis series (empty windows = 0), extended over the horizon, each future window clamped at ≥ 0 and summed, for horizons up to 24 × the basis (null beyond); ' +
  'null with a reason below basis.min_windows windows holding token (resp. priced) data, or for a trend with r² below basis.trend_min_r2; tokens and calls rounded to whole numbers'

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
 * @param stepMs rollup window, ms (stored with the rollups); null when none is stored (no rollups:
 *   `asOfUs` is then null too, and the basis has no windows)
 */
export function projectUsage(points: readonly UsagePoint[], asOfUs: number | null, basisMinutes: number, stepMs: number | null, limits: ProjectionLimits = DEFAULT_PROJECTION_LIMITS): Projection {
  const stepUs = (stepMs ?? 0) * 1000
  const windows = stepMs === null ? 0 : Math.max(1, Math.ceil((basisMinutes * 60_000) / stepMs))
  const fromUs = asOfUs === null ? null : asOfUs - windows * stepUs
  const series = Array.from({ length: windows }, () => ({ input: 0, output: 0, cost: 0, calls: 0, priced: 0, data: false }))
  if (fromUs !== null) {
    for (const p of points) {
      const i = Math.floor((p.startUs - fromUs) / stepUs)
      if (i < 0 || i >= windows) continue
      const s = series[i]!
      s.input += p.input_tokens
      s.output += p.output_tokens
      s.cost += p.cost_usd
      s.calls += p.llm_calls
      s.priced += p.priced
      s.data = true
    }
  }
  const sum = (f: (s: (typeof series)[number]) => number) => series.reduce((a, s) => a + f(s), 0)
  const input = sum((s) => s.input)
  const output = sum((s) => s.output)
  const cost = sum((s) => s.cost)
  const calls = sum((s) => s.calls)
  const withTokens = series.filter((s) => s.calls > 0).length
  const withCost = series.filter((s) => s.priced > 0).length
  const minutes = stepMs === null ? basisMinutes : (windows * stepMs) / 60_000
  const tokenTrend = leastSquares(series.map((s) => s.input + s.output))
  const costTrend = leastSquares(series.map((s) => s.cost))
  const few = (n: number, what: string) =>
    asOfUs === null ? 'no data at or before the end of the range'
      : n < limits.minWindows ? `only ${n} of the ${windows} basis windows hold ${what} (minimum ${limits.minWindows}, AUREN_GATEWAY_PROJECTION_MIN_WINDOWS)` : null
  const tokensReason = few(withTokens, 'token data (answered LLM calls)')
  const costReason = few(withCost, 'a priced event')
  const trendReason = (base: string | null, t: Trend) =>
    base ?? (t.r2 === null ? 'the basis series is constant: no trend' : t.r2 < limits.trendMinR2 ? `trend r² ${t.r2.toFixed(3)} is below the minimum ${limits.trendMinR2} (AUREN_GATEWAY_TREND_MIN_R2)` : null)
  const trendTokensReason = trendReason(tokensReason, tokenTrend)
  const trendCostReason = trendReason(costReason, costTrend)
  const horizon = (h: number): Horizon => {
    const steps = stepMs === null ? 0 : Math.ceil((h * 60_000) / stepMs)
    const reach = h <= TREND_MAX_HORIZON_FACTOR * minutes
    const tokens = tokensReason === null
    return {
      minutes: h,
      tokens: tokens ? Math.round(((input + output) / minutes) * h) : null,
      input_tokens: tokens ? Math.round((input / minutes) * h) : null,
      output_tokens: tokens ? Math.round((output / minutes) * h) : null,
      cost_usd: costReason === null ? (cost / minutes) * h : null,
      llm_calls: tokens ? Math.round((calls / minutes) * h) : null,
      trend_tokens: reach && trendTokensReason === null ? Math.round(extendTrend(tokenTrend, windows, steps)) : null,
      trend_cost_usd: reach && trendCostReason === null ? extendTrend(costTrend, windows, steps) : null,
    }
  }
  return {
    method: PROJECTION_METHOD,
    as_of: asOfUs === null ? null : isoOfUs(asOfUs),
    basis: {
      from: fromUs === null ? null : isoOfUs(fromUs),
      to: asOfUs === null ? null : isoOfUs(asOfUs),
      minutes,
      window_ms: stepMs,
      windows,
      windows_with_data: series.filter((s) => s.data).length,
      windows_with_tokens: withTokens,
      windows_with_cost: withCost,
      min_windows: limits.minWindows,
      trend_min_r2: limits.trendMinR2,
      input_tokens: input,
      output_tokens: output,
      tokens: input + output,
      cost_usd: cost,
      llm_calls: calls,
    },
    rate_per_minute: {
      tokens: tokensReason === null ? (input + output) / minutes : null,
      cost_usd: costReason === null ? cost / minutes : null,
      llm_calls: tokensReason === null ? calls / minutes : null,
    },
    next_hour: horizon(60),
    next_day: horizon(1_440),
    next_30_days: horizon(43_200),
    trend: { tokens: tokenTrend, cost_usd: costTrend },
    reasons: {
      tokens: tokensReason,
      cost: costReason,
      trend_tokens: trendTokensReason,
      trend_cost: trendCostReason,
    },
  }
}
