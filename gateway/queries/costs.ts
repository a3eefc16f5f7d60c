/**
 * Costs and usage projections. The base table is `agg_agent_window` for all users (cost of every
 * event type, tokens and calls of completed LLM calls) or `agg_user_window` for one user (same
 * content, events with that user_id only); `model` groups read `agg_llm_window`.
 */
import { costProjection, shapeCostGroups, type CostGroup, type CostRow } from '../analytics/costs.ts'
import { num } from '../analytics/figures.ts'
import { DEFAULT_PROJECTION_LIMITS, projectUsage, type Projection, type ProjectionLimits, type UsagePoint } from '../analytics/projection.ts'
import { isoOfUs, rangeBody, WINDOW_US } from '../analytics/range.ts'
import { Params, rows, whereOf, type Db, type Filter } from './db.ts'
import { RT } from '../../schemas/rollup-tables.ts'
import { loadRollupWindowMs } from './rollup-window.ts'

/** The table, LLM-call expression and filter columns of a filter's scope. */
function base(f: Filter): { table: string; calls: string; cols: { user?: string; agent: string } } {
  return f.userId === null
    ? { table: RT.agent, calls: 'llm_calls_succeeded + llm_calls_failed', cols: { agent: 'agent_id' } }
    : { table: RT.user, calls: 'llm_calls', cols: { user: 'user_id', agent: 'agent_id' } }
}

/** Sums of a cost row; `priced` = the column counting events (or calls) with a known cost. */
const SUMS = (calls: string, priced = 'priced_events') =>
  `sum(cost_usd)::text AS cost_usd, sum(${priced})::text AS priced, sum(${calls})::text AS llm_calls, sum(input_tokens)::text AS input_tokens, sum(output_tokens)::text AS output_tokens`

/** Totals of the scope: USD (null when nothing was priced), answered calls, failed attempts, tokens (null without an answered call). */
export async function costTotals(db: Db, f: Filter): Promise<{ cost_usd: number | null; llm_calls: number; llm_failed_attempts: number; input_tokens: number | null; output_tokens: number | null }> {
  const b = base(f)
  const ps = new Params()
  const [[r], failed] = await Promise.all([
    rows<Omit<CostRow, 'key'>>(db, `SELECT ${SUMS(b.calls)} FROM ${b.table} WHERE ${whereOf(f, ps, b.cols)}`, ps.values),
    failedAttempts(db, f, null),
  ])
  const calls = num(r?.llm_calls)
  return {
    cost_usd: num(r?.priced) > 0 ? num(r?.cost_usd) : null, llm_calls: calls, llm_failed_attempts: failed.get('') ?? 0,
    input_tokens: calls > 0 ? num(r?.input_tokens) : null, output_tokens: calls > 0 ? num(r?.output_tokens) : null,
  }
}

/**
 * Failed LLM attempts (agg_llm_failure_window) of the scope, per group key ('' = the total when
 * `group` is null): agent, model, user or window start (ISO) for hour and day.
 */
export async function failedAttempts(db: Db, f: Filter, group: CostGroup | null): Promise<Map<string, number>> {
  const ps = new Params()
  const where = whereOf(f, ps, { user: 'user_id', agent: 'agent_id' })
  const key = group === null ? "''" : group === 'agent' ? 'agent_id' : group === 'model' ? 'model' : group === 'user' ? 'user_id'
    : `(window_start_us - window_start_us % ${ps.p(WINDOW_US[group])})::text`
  const out = await rows<{ k: string; n: string }>(db, `SELECT ${key} AS k, sum(attempts)::text AS n FROM ${RT.llm_failure} WHERE ${where} GROUP BY 1`, ps.values)
  return new Map(out.map((r) => [group === 'hour' || group === 'day' ? isoOfUs(num(r.k)) : r.k, num(r.n)]))
}

/** Grouped sums of the scope. */
export async function costRows(db: Db, f: Filter, group: CostGroup): Promise<CostRow[]> {
  const ps = new Params()
  if (group === 'model') {
    return rows<CostRow>(db,
      `SELECT model AS key, ${SUMS('calls', 'priced_calls')} FROM ${RT.llm} WHERE ${whereOf(f, ps, { user: 'user_id', agent: 'agent_id' })} GROUP BY model`, ps.values)
  }
  if (group === 'user') {
    return rows<CostRow>(db,
      `SELECT user_id AS key, ${SUMS('llm_calls')} FROM ${RT.user} WHERE ${whereOf(f, ps, { user: 'user_id', agent: 'agent_id' })} AND user_id <> '' GROUP BY user_id`, ps.values)
  }
  const b = base(f)
  const where = whereOf(f, ps, b.cols)
  if (group === 'agent') {
    return rows<CostRow>(db, `SELECT agent_id AS key, ${SUMS(b.calls)} FROM ${b.table} WHERE ${where} AND agent_id <> '' GROUP BY agent_id`, ps.values)
  }
  const step = ps.p(WINDOW_US[group])
  const out = await rows<CostRow & { start_us: string }>(db,
    `SELECT (window_start_us - window_start_us % ${step})::text AS start_us, ${SUMS(b.calls)} FROM ${b.table} WHERE ${where} GROUP BY 1`, ps.values)
  return out.map(({ start_us, ...r }) => ({ ...r, key: isoOfUs(num(start_us)) }))
}

/**
 * Usage per rollup window before the latest window with data at or before `f.range.toUs`, and
 * the projection from it (analytics/projection.ts states the method). The step is the window size
 * stored with the rollups (rollup-window.ts).
 */
export async function loadProjection(db: Db, f: Filter, basisMinutes: number, limits: ProjectionLimits = DEFAULT_PROJECTION_LIMITS): Promise<Projection> {
  const stepMs = await loadRollupWindowMs(db)
  if (stepMs === null) return projectUsage([], null, basisMinutes, null, limits)
  const b = base(f)
  const ps = new Params()
  const conds = [`window_start_us < ${ps.p(f.range.toUs)}`]
  if (b.cols.user && f.userId !== null) conds.push(`${b.cols.user} = ${ps.p(f.userId)}`)
  if (f.agentId !== null) conds.push(`agent_id = ${ps.p(f.agentId)}`)
  const [latest] = await rows<{ w: string | null }>(db, `SELECT max(window_start_us)::text AS w FROM ${b.table} WHERE ${conds.join(' AND ')}`, ps.values)
  if (latest?.w === null || latest?.w === undefined) return projectUsage([], null, basisMinutes, stepMs, limits)
  const asOfUs = Math.min(num(latest.w) + stepMs * 1000, f.range.toUs)
  const windows = Math.max(1, Math.ceil((basisMinutes * 60_000) / stepMs))
  const basis = { ...f, range: { fromUs: asOfUs - windows * stepMs * 1000, toUs: asOfUs } }
  const qs = new Params()
  const points = await rows<{ w: string } & Omit<CostRow, 'key'>>(db,
    `SELECT window_start_us::text AS w, ${SUMS(b.calls)} FROM ${b.table} WHERE ${whereOf(basis, qs, b.cols)} GROUP BY window_start_us`, qs.values)
  const usage: UsagePoint[] = points.map((p) => ({
    startUs: num(p.w), input_tokens: num(p.input_tokens), output_tokens: num(p.output_tokens), cost_usd: num(p.cost_usd), llm_calls: num(p.llm_calls), priced: num(p.priced),
  }))
  return projectUsage(usage, asOfUs, basisMinutes, stepMs, limits)
}

/**
 * GET /api/v2/costs body: `{ range, scope, group_by, total_usd, unattributed_usd, totals,
 * groups: CostGroupFigures[], projection: CostProjection }` (USD, tokens).
 */
export async function loadCosts(db: Db, f: Filter, group: CostGroup, basisMinutes: number, limits: ProjectionLimits = DEFAULT_PROJECTION_LIMITS) {
  const [totals, grouped, failed, projection] = await Promise.all([
    costTotals(db, f), costRows(db, f, group), failedAttempts(db, f, group), loadProjection(db, f, basisMinutes, limits),
  ])
  const { groups, unattributed_usd } = shapeCostGroups(group, grouped, totals.cost_usd, failed)
  return {
    range: rangeBody(f.range),
    scope: { user_id: f.userId, agent_id: f.agentId },
    group_by: group,
    total_usd: totals.cost_usd,
    unattributed_usd,
    totals,
    groups,
    projection: costProjection(projection),
  }
}
