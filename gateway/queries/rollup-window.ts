/**
 * The rollups' window size, read from the data (schemas/rollup-tables.ts `ROLLUP_WINDOW_TABLE`,
 * written by aggregation before its first rollup): the gateway has no window setting of its own,
 * so it cannot disagree with the aggregation that wrote the rows.
 */
import { RT } from '../../schemas/rollup-tables.ts'
import { checkSeriesSize, windowStepUs, type TimeRange, type WindowName } from '../analytics/range.ts'
import { rows, type Db } from './db.ts'

/**
 * The size of every window in the schema's rollup tables.
 * @returns ms; null when no aggregation has written to the schema yet (then the rollups are empty)
 * @throws ApiError UNAVAILABLE / INTERNAL as {@link rows}
 */
export async function loadRollupWindowMs(db: Db): Promise<number | null> {
  const [r] = await rows<{ window_ms: string }>(db, `SELECT window_ms::text FROM ${RT.rollup_window}`)
  return r === undefined ? null : Number(r.window_ms)
}

/**
 * The step of a time series grouped by `window` over `range`, checked for size.
 * @returns `rollupWindowMs` (the stored size, ms, or null) and `stepUs` (µs; null for `rollup`
 *   when no size is stored: no rollups to group)
 * @throws ApiError BAD_REQUEST when the series would have too many points (range.ts checkSeriesSize)
 */
export async function seriesStep(db: Db, range: TimeRange, window: WindowName): Promise<{ rollupWindowMs: number | null; stepUs: number | null }> {
  const rollupWindowMs = await loadRollupWindowMs(db)
  const stepUs = windowStepUs(window, rollupWindowMs)
  if (stepUs !== null) checkSeriesSize(range, window, stepUs)
  return { rollupWindowMs, stepUs }
}
