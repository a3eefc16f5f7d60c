/**
 * Time ranges and windows of the REST queries (pure).
 *
 * A query reads the rollup windows whose start lies in `[from, to)` (epoch µs, the rollups'
 * `window_start_us`). Rollup windows are of the size aggregation stored with them (1 minute by
 * default), so a range is in effect rounded to the window: a window starting before `from` is left
 * out even if it ends after it.
 *
 * Defaults (config.ts): `to` = now, `from` = `to` − AUREN_GATEWAY_DEFAULT_RANGE_MS. Rules:
 * `from` < `to`, and `to` − `from` ≤ AUREN_GATEWAY_MAX_RANGE_MS; breaking one is a 400.
 */
import { badRequest } from '../../processors/runtime/ops/errors.ts'

/** A half-open range of event time, epoch µs: [fromUs, toUs). */
export interface TimeRange {
  readonly fromUs: number
  readonly toUs: number
}

/**
 * Grouping of time series and exports: `rollup` = the rollups' own windows (the size aggregation
 * stored with them, gateway/queries/rollup-window.ts), or a UTC-aligned minute, hour or day.
 */
export const WINDOWS = ['rollup', 'minute', 'hour', 'day'] as const
export type WindowName = (typeof WINDOWS)[number]
/** The groupings of a fixed length. */
export type FixedWindow = Exclude<WindowName, 'rollup'>

/** Length of a fixed window, µs. */
export const WINDOW_US: Record<FixedWindow, number> = { minute: 60_000_000, hour: 3_600_000_000, day: 86_400_000_000 }

/**
 * Length of a grouping, µs.
 * @param rollupWindowMs the window size stored with the rollups, ms (null: none stored)
 * @returns null for `rollup` when no size is stored (there are no rollups to group)
 */
export function windowStepUs(window: WindowName, rollupWindowMs: number | null): number | null {
  if (window !== 'rollup') return WINDOW_US[window]
  return rollupWindowMs === null ? null : rollupWindowMs * 1000
}

/** Most points a time series may have (range / window); more is a 400. */
export const MAX_SERIES_POINTS = 10_000

/** Limits of {@link resolveRange}. */
export interface RangeLimits {
  readonly defaultRangeMs: number
  readonly maxRangeMs: number
}

/** ISO-8601 (UTC, ms precision) of an epoch µs. */
export function isoOfUs(us: number): string {
  return new Date(Math.floor(us / 1000)).toISOString()
}

function parseInstant(name: string, text: string): number {
  const ms = Date.parse(text)
  if (!Number.isFinite(ms)) throw badRequest(`query parameter '${name}' is not a valid ISO-8601 date-time (got ${JSON.stringify(text)})`)
  return ms
}

/**
 * The range of a request.
 * @param q the `from` and `to` query parameters (ISO-8601 date-times, already format-checked)
 * @param nowMs the clock, epoch ms
 * @throws ApiError BAD_REQUEST when from ≥ to or the range is longer than the maximum
 */
export function resolveRange(q: { from?: string; to?: string }, nowMs: number, limits: RangeLimits): TimeRange {
  const toMs = q.to !== undefined ? parseInstant('to', q.to) : nowMs
  const fromMs = q.from !== undefined ? parseInstant('from', q.from) : toMs - limits.defaultRangeMs
  if (!(fromMs < toMs)) {
    throw badRequest(`'from' (${new Date(fromMs).toISOString()}) must be before 'to' (${new Date(toMs).toISOString()})`)
  }
  if (toMs - fromMs > limits.maxRangeMs) {
    throw badRequest(`range ${formatDuration(toMs - fromMs)} is longer than the maximum ${formatDuration(limits.maxRangeMs)} (AUREN_GATEWAY_MAX_RANGE_MS); narrow 'from'..'to'`)
  }
  return { fromUs: fromMs * 1000, toUs: toMs * 1000 }
}

/**
 * Checks that a series of `window` (of `stepUs` µs) over `range` has at most {@link MAX_SERIES_POINTS} points.
 * @param stepUs the window's length, µs (default: the fixed window's)
 * @throws ApiError BAD_REQUEST naming a larger window to use
 */
export function checkSeriesSize(range: TimeRange, window: WindowName, stepUs: number = WINDOW_US[window as FixedWindow]): void {
  const points = Math.ceil((range.toUs - range.fromUs) / stepUs)
  if (points > MAX_SERIES_POINTS) {
    const larger = (Object.keys(WINDOW_US) as FixedWindow[]).filter((w) => WINDOW_US[w] > stepUs)
    throw badRequest(`window '${window}' over this range gives ${points} points, more than ${MAX_SERIES_POINTS}; use a larger window (${larger.join(' or ')}) or a shorter range`)
  }
}

/**
 * Starts (epoch µs) of every window of `stepUs` that overlaps the range: from the window holding
 * `fromUs` (UTC-aligned, as the timeline queries group) to the last one starting before `toUs`.
 * A time series lists them all, with zeros where no event fell, so gaps show as zeros.
 */
export function fillWindows(range: TimeRange, stepUs: number): number[] {
  const out: number[] = []
  for (let w = range.fromUs - (((range.fromUs % stepUs) + stepUs) % stepUs); w < range.toUs; w += stepUs) out.push(w)
  return out
}

/** `{ from, to }` as ISO strings, for response bodies. */
export function rangeBody(r: TimeRange): { from: string; to: string } {
  return { from: isoOfUs(r.fromUs), to: isoOfUs(r.toUs) }
}

/** "3d 4h", "90d", "15m" style. */
export function formatDuration(ms: number): string {
  const parts: string[] = []
  let rest = Math.round(ms / 1000)
  for (const [unit, s] of [['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]] as const) {
    if (rest >= s) {
      parts.push(`${Math.floor(rest / s)}${unit}`)
      rest %= s
    }
  }
  return parts.join(' ') || '0s'
}
