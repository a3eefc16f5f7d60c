/** GET /api/v2/knowledge/heatmap: agg_knowledge_window over the range (agent filter optional). */
import { shapeHeatmap, type KnowledgeCellRow, type KnowledgeHourRow } from '../analytics/heatmap.ts'
import { rangeBody } from '../analytics/range.ts'
import { Params, rows, whereOf, type Db, type Filter } from './db.ts'
import { RT } from '../../schemas/rollup-tables.ts'

/** Sums per item, agent and domain. */
export async function knowledgeCells(db: Db, f: Filter): Promise<KnowledgeCellRow[]> {
  const ps = new Params()
  return rows<KnowledgeCellRow>(db,
    'SELECT item_id, agent_id, domain, sum(accesses)::text AS accesses, sum(found)::text AS found, sum(items_retrieved)::text AS items_retrieved ' +
    `FROM ${RT.knowledge} WHERE ${whereOf(f, ps, { agent: 'agent_id' })} GROUP BY item_id, agent_id, domain`, ps.values)
}

/** Body: `{ range, scope, totals, items, agents, cells, hour_of_day, truncated }` (analytics/heatmap.ts). */
export async function loadHeatmap(db: Db, f: Filter, limit: number) {
  const hs = new Params()
  const where = whereOf(f, hs, { agent: 'agent_id' })
  const hourUs = hs.p(3_600_000_000)
  const [cells, hours] = await Promise.all([
    knowledgeCells(db, f),
    rows<KnowledgeHourRow>(db,
      `SELECT item_id, ((window_start_us / ${hourUs}) % 24)::int AS hour, sum(accesses)::text AS accesses FROM ${RT.knowledge} WHERE ${where} GROUP BY 1, 2`, hs.values),
  ])
  return { range: rangeBody(f.range), scope: { agent_id: f.agentId }, ...shapeHeatmap(cells, hours, limit) }
}
