/**
 * PostgreSQL access of the gateway: the pool, the filter every query takes, a parameter builder
 * and the readiness probe. `gateway/queries/*` are the only gateway files that import `pg` or
 * hold SQL; every value goes in as a bind parameter (`$n`), never into the text.
 *
 * Tables read are the aggregation processor's rollups (processors/aggregation/README.md
 * "Tables"): windows keyed by `window_start_us` (epoch µs), counters `bigint`, costs and latency
 * sums `numeric(38, 18)`. Sums are taken in SQL (exact) and returned as text, converted to JS
 * numbers by the shapers (analytics/figures.ts `num`).
 */
import pg from 'pg'
import type { TimeRange } from '../analytics/range.ts'
import { ApiError } from '../../processors/runtime/ops/errors.ts'
import { RT } from '../../schemas/rollup-tables.ts'

/** What the queries need of a pool (a pg.Pool, or a client in tests). */
export type Db = Pick<pg.Pool, 'query'>

/** Which rows a query reads. */
export interface Filter {
  /** Windows whose start lies in [fromUs, toUs). */
  readonly range: TimeRange
  /** Only this user's rows (tables with a user_id); null = all users. */
  readonly userId: string | null
  /** Only this agent; null = all agents. */
  readonly agentId: string | null
}

/** Options of {@link createPool}. */
export interface PoolOptions {
  readonly url: string
  /** Schema of the agg_* tables (search_path). */
  readonly schema: string
  readonly max: number
  /** statement_timeout of every query, ms. */
  readonly statementTimeoutMs: number
}

/** Longest wait for a new PostgreSQL connection, ms. */
export const CONNECT_TIMEOUT_MS = 5_000

/** A pool whose connections read the rollup schema, with a statement timeout. */
export function createPool(o: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: o.url,
    max: o.max,
    options: `-c search_path=${o.schema} -c statement_timeout=${Math.round(o.statementTimeoutMs)}`,
    application_name: 'auren-gateway',
    // A database that does not accept the connection (down host, full backlog) fails the request
    // within this time as 503, instead of holding it until the client gives up.
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  })
  pool.on('error', () => {}) // an idle client lost its connection; the pool replaces it
  return pool
}

/** Collects bind parameters: `p(value)` returns its placeholder. */
export class Params {
  readonly values: unknown[] = []
  p(value: unknown): string {
    this.values.push(value)
    return `$${this.values.length}`
  }
}

/**
 * The WHERE conditions of a filter on a rollup table.
 * @param cols which columns the table has for the user and agent filters (omit: not filtered)
 */
export function whereOf(f: Filter, ps: Params, cols: { user?: string; agent?: string } = {}): string {
  const conds = [`window_start_us >= ${ps.p(f.range.fromUs)}`, `window_start_us < ${ps.p(f.range.toUs)}`]
  if (cols.user && f.userId !== null) conds.push(`${cols.user} = ${ps.p(f.userId)}`)
  if (cols.agent && f.agentId !== null) conds.push(`${cols.agent} = ${ps.p(f.agentId)}`)
  return conds.join(' AND ')
}

/**
 * SQLSTATE classes that mean "not now" (PostgreSQL appendix A): 08 connection exception, 53
 * insufficient resources, 57 operator intervention (57P01 admin shutdown, 57P03 cannot connect
 * now while starting, 57014 query canceled by the statement timeout).
 */
const UNAVAILABLE_CLASSES = new Set(['08', '53', '57'])
/**
 * True when a database error means the database cannot answer now (503), false when the server
 * answered with an error about the query (500). From the server (a pg `DatabaseError`, with its
 * SQLSTATE and severity): classes 08, 53 and 57 are 503, the rest 500. Not from the server: a
 * socket error (a Node system error code such as ECONNREFUSED, ECONNRESET, ETIMEDOUT, EPIPE),
 * "Connection terminated unexpectedly", a connect timeout or an ended pool are 503; a
 * TypeError/RangeError (a value pg could not send) is 500.
 */
export function isUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; severity?: unknown } | null
  if (err instanceof pg.DatabaseError || typeof e?.severity === 'string') {
    return typeof e?.code === 'string' && UNAVAILABLE_CLASSES.has(e.code.slice(0, 2))
  }
  return !(err instanceof TypeError || err instanceof RangeError)
}

/**
 * Runs a query; database failures become ApiError UNAVAILABLE (503, {@link isUnavailable}) or
 * INTERNAL (500).
 * @param o.missingTable the 503 message when a table of the query does not exist (SQLSTATE 42P01:
 *   tables another app creates, e.g. the alerting app's); without it that is a 500
 */
export async function rows<R extends pg.QueryResultRow>(db: Db, text: string, values: readonly unknown[] = [], o: { missingTable?: string } = {}): Promise<R[]> {
  try {
    return (await db.query<R>(text, [...values])).rows
  } catch (err) {
    if (o.missingTable !== undefined && (err as { code?: unknown }).code === '42P01') throw new ApiError('UNAVAILABLE', o.missingTable, { cause: err })
    const unavailable = isUnavailable(err)
    throw new ApiError(unavailable ? 'UNAVAILABLE' : 'INTERNAL', unavailable ? 'the rollup database is unavailable; retry later' : 'query failed', { cause: err })
  }
}

/** True when the agent has any rollup row (activity or per-window counters). */
export async function agentExists(db: Db, agentId: string): Promise<boolean> {
  const r = await rows<{ ok: boolean }>(
    db,
    `SELECT EXISTS (SELECT 1 FROM ${RT.activity} WHERE agent_id = $1) OR EXISTS (SELECT 1 FROM ${RT.agent} WHERE agent_id = $1) AS ok`,
    [agentId],
  )
  return r[0]?.ok === true
}

/** Readiness: the database answers and the rollup tables exist. */
export async function probe(db: Db): Promise<{ ready: boolean; detail: Record<string, unknown> }> {
  try {
    const r = await db.query<{ t: string | null }>(`SELECT to_regclass('${RT.agent}')::text AS t`)
    const tables = r.rows[0]?.t !== null && r.rows[0]?.t !== undefined
    return { ready: tables, detail: { database: 'up', rollup_tables: tables ? 'present' : 'missing (run the aggregation migrations)' } }
  } catch (err) {
    return { ready: false, detail: { database: 'down', reason: err instanceof Error ? err.message : String(err) } }
  }
}
