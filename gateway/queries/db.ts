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
import { GatewayError } from '../errors.ts'

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

/** A pool whose connections read the rollup schema, with a statement timeout. */
export function createPool(o: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: o.url,
    max: o.max,
    options: `-c search_path=${o.schema} -c statement_timeout=${Math.round(o.statementTimeoutMs)}`,
    application_name: 'auren-gateway',
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

/** SQLSTATE classes that mean "not now": connection, resources, operator intervention, cancel (statement timeout). */
const UNAVAILABLE_CLASSES = new Set(['08', '53', '57'])

/** Runs a query; database failures become GatewayError UNAVAILABLE (503) or INTERNAL (500). */
export async function rows<R extends pg.QueryResultRow>(db: Db, text: string, values: readonly unknown[] = []): Promise<R[]> {
  try {
    return (await db.query<R>(text, [...values])).rows
  } catch (err) {
    const code = (err as { code?: unknown }).code
    const unavailable = typeof code !== 'string' || UNAVAILABLE_CLASSES.has(code.slice(0, 2))
    throw new GatewayError(unavailable ? 'UNAVAILABLE' : 'INTERNAL', unavailable ? 'the rollup database is unavailable; retry later' : 'query failed', { cause: err })
  }
}

/** True when the agent has any rollup row (activity or per-window counters). */
export async function agentExists(db: Db, agentId: string): Promise<boolean> {
  const r = await rows<{ ok: boolean }>(
    db,
    'SELECT EXISTS (SELECT 1 FROM agg_agent_activity WHERE agent_id = $1) OR EXISTS (SELECT 1 FROM agg_agent_minute WHERE agent_id = $1) AS ok',
    [agentId],
  )
  return r[0]?.ok === true
}

/** Readiness: the database answers and the rollup tables exist. */
export async function probe(db: Db): Promise<{ ready: boolean; detail: Record<string, unknown> }> {
  try {
    const r = await db.query<{ t: string | null }>("SELECT to_regclass('agg_agent_minute')::text AS t")
    const tables = r.rows[0]?.t !== null && r.rows[0]?.t !== undefined
    return { ready: tables, detail: { database: 'up', rollup_tables: tables ? 'present' : 'missing (run the aggregation migrations)' } }
  } catch (err) {
    return { ready: false, detail: { database: 'down', reason: err instanceof Error ? err.message : String(err) } }
  }
}
