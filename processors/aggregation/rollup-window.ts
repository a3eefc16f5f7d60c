/**
 * The window size stored with the rollups (schemas/rollup-tables.ts `ROLLUP_WINDOW_TABLE`): one
 * row per schema, written by aggregation before its first rollup write, read by the gateway. A
 * schema holds windows of one size only, so no reader can sum windows of two sizes together.
 */
import { RT } from '../../schemas/rollup-tables.ts'
import { AurenError } from '../runtime/ops/errors.ts'

/** What the check needs of a pg client or pool. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>
}

/**
 * Records `windowMs` as the schema's window size when none is recorded, and checks it otherwise.
 * Concurrent instances: the first insert wins (primary key `single`), the others read its value
 * (READ COMMITTED, the isolation of the sink's transactions).
 * @param db a client (inside the caller's transaction) or a pool, with search_path set to the schema
 * @param windowMs the configured window size, ms (AUREN_AGGREGATION_WINDOW_MS)
 * @throws AurenError AUREN_ERR_CONFIG (not retriable) when the schema records another size:
 *   writing would mix windows of two sizes
 * @throws the pg error of a failed query (classify with runtime/sinks/postgres.ts isRetriableSqlError)
 */
export async function recordRollupWindow(db: Queryable, windowMs: number): Promise<void> {
  // Two statements: in READ COMMITTED the SELECT sees a row a concurrent instance committed
  // while this INSERT waited on it.
  await db.query(`INSERT INTO ${RT.rollup_window} (window_ms) VALUES ($1) ON CONFLICT (single) DO NOTHING`, [windowMs])
  const res = await db.query(`SELECT window_ms::text AS window_ms FROM ${RT.rollup_window}`)
  const stored = Number((res.rows[0] as { window_ms: string }).window_ms)
  if (stored !== windowMs) {
    throw new AurenError('AUREN_ERR_CONFIG',
      `the rollups of this schema are ${stored} ms windows (${RT.rollup_window}.window_ms) but AUREN_AGGREGATION_WINDOW_MS is ${windowMs}: ` +
      'set it to the stored size, or use another schema (AUREN_AGGREGATION_DB_SCHEMA) for another window size',
      { context: { storedWindowMs: stored, configuredWindowMs: windowMs } })
  }
}
