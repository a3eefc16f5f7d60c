/**
 * GET /api/v2/intelligence/collaboration (agg_edge_window, `collaboration_resolution`
 * histograms) and GET /api/v2/intelligence/learning (agg_hypothesis_window, agg_hypothesis_state).
 */
import { bucketsBy, latencyFigures, num } from '../analytics/figures.ts'
import { shapeLearning, shapeNetwork, type EdgeRow, type HypothesisRow, type StateRow } from '../analytics/intelligence.ts'
import { rangeBody } from '../analytics/range.ts'
import { Params, rows, whereOf, type Db, type Filter } from './db.ts'
import { RT } from '../../schemas/rollup-tables.ts'
import { loadRollupWindowMs } from './rollup-window.ts'

/** Edge kinds a request may select. */
export const EDGE_KINDS = ['all', 'collaboration', 'handoff'] as const
export type EdgeKind = (typeof EDGE_KINDS)[number]

/** Edge sums of the range (agent filter: either end). */
export async function edgeRows(db: Db, f: Filter, kind: EdgeKind = 'all'): Promise<EdgeRow[]> {
  const ps = new Params()
  const conds = [whereOf({ ...f, agentId: null }, ps)]
  if (f.agentId !== null) {
    const a = ps.p(f.agentId)
    conds.push(`(from_agent = ${a} OR to_agent = ${a})`)
  }
  if (kind !== 'all') conds.push(`kind = ${ps.p(kind)}`)
  return rows<EdgeRow>(db,
    'SELECT from_agent, to_agent, kind, sum(count)::text AS count, sum(consensus_known)::text AS consensus_known, sum(consensus_reached)::text AS consensus_reached, ' +
    'sum(resolution_count)::text AS resolution_count, sum(resolution_sum_ms)::text AS resolution_sum_ms, sum(knowledge_items_shared)::text AS knowledge_items_shared ' +
    `FROM ${RT.edge} WHERE ${conds.join(' AND ')} GROUP BY from_agent, to_agent, kind`, ps.values)
}

/** Body: `{ range, scope, kind, totals, resolution (ms), nodes, edges, truncated }`. */
export async function loadCollaboration(db: Db, f: Filter, kind: EdgeKind, limit: number) {
  const hs = new Params()
  const [edges, hist] = await Promise.all([
    edgeRows(db, f, kind),
    rows<{ bucket: number; n: string }>(db,
      `SELECT bucket, sum(count)::text AS n FROM ${RT.histogram} WHERE ${whereOf(f, hs, { agent: 'agent_id' })} AND metric = 'collaboration_resolution' GROUP BY bucket`, hs.values),
  ])
  const network = shapeNetwork(edges, limit)
  // One observation per collaboration (by its primary agent) in the histogram, but one
  // resolution per edge in agg_edge_window: the count and percentiles come from the histogram;
  // the exact mean is per edge (`mean_resolution_ms` on each edge), so none is given here.
  const buckets = bucketsBy(hist, () => 'all').get('all')
  const observed = [...(buckets?.values() ?? [])].reduce((a, b) => a + b, 0)
  const resolution = kind === 'handoff' ? null : { ...latencyFigures(buckets, observed, 0), mean_ms: null }
  return { range: rangeBody(f.range), scope: { agent_id: f.agentId }, kind, ...network, resolution }
}

/**
 * Body: `{ range, scope, events_by_status, formed_per_hour, rate_basis, current_status, by_agent,
 * by_domain, … }` (analytics/intelligence.ts). The rate's denominator is the span of the rollup
 * windows holding hypothesis events in the range (first window start to last window end), not
 * the requested range, which may hold long stretches without data.
 * The window size is the one stored with the rollups (rollup-window.ts).
 */
export async function loadLearning(db: Db, f: Filter) {
  const es = new Params()
  const ss = new Params()
  const stateConds = [`status_time_us >= ${ss.p(f.range.fromUs)}`, `status_time_us < ${ss.p(f.range.toUs)}`]
  if (f.agentId !== null) stateConds.push(`agent_id = ${ss.p(f.agentId)}`)
  const ps = new Params()
  const [events, states, [span], windowMs] = await Promise.all([
    rows<HypothesisRow>(db,
      `SELECT agent_id, domain, status, sum(events)::text AS events FROM ${RT.hypothesis} WHERE ${whereOf(f, es, { agent: 'agent_id' })} GROUP BY agent_id, domain, status`, es.values),
    rows<StateRow>(db, `SELECT agent_id, domain, status, count(*)::text AS n FROM ${RT.hypothesis_state} WHERE ${stateConds.join(' AND ')} GROUP BY agent_id, domain, status`, ss.values),
    rows<{ first: string | null; last: string | null }>(db,
      `SELECT min(window_start_us)::text AS first, max(window_start_us)::text AS last FROM ${RT.hypothesis} WHERE ${whereOf(f, ps, { agent: 'agent_id' })} AND events > 0`, ps.values),
    loadRollupWindowMs(db),
  ])
  const basis = windowMs === null || span?.first === null || span?.first === undefined || span.last === null
    ? null
    : { fromUs: num(span.first), toUs: Math.min(num(span.last) + windowMs * 1000, f.range.toUs) }
  return { range: rangeBody(f.range), scope: { agent_id: f.agentId }, ...shapeLearning(events, states, basis) }
}
