/**
 * GET /api/v2/analytics/projections (usage series → analytics/projection.ts) and
 * GET /api/v2/analytics/recommendations (knowledge, tier, edge and model sums of the range →
 * analytics/recommendations.ts).
 */
import { num } from '../analytics/figures.ts'
import { rangeBody } from '../analytics/range.ts'
import { recommend, unqualified } from '../analytics/recommendations.ts'
import type { ProjectionLimits } from '../analytics/projection.ts'
import { loadProjection } from './costs.ts'
import { Params, rows, whereOf, type Db, type Filter } from './db.ts'
import { edgeRows } from './intelligence.ts'
import { knowledgeCells } from './knowledge.ts'
import { tierRows } from './memory.ts'
import { RT } from '../../schemas/rollup-tables.ts'

/** Body: `{ range, scope, basis_minutes, ...Projection }` (tokens, USD). */
export async function loadProjections(db: Db, f: Filter, basisMinutes: number, limits?: ProjectionLimits) {
  const projection = await loadProjection(db, f, basisMinutes, limits)
  return { range: rangeBody(f.range), scope: { user_id: f.userId, agent_id: f.agentId }, basis_minutes: basisMinutes, ...projection }
}

/**
 * Body: `{ range, options, count, recommendations: Recommendation[], unqualified }`, each
 * recommendation with its evidence and method; `unqualified` says why a kind gave none.
 */
export async function loadRecommendations(db: Db, f: Filter, limit: number, costShareFactor: number, minSupport: number) {
  const ms = new Params()
  const [cells, tiers, edges, models] = await Promise.all([
    knowledgeCells(db, f),
    tierRows(db, f),
    edgeRows(db, f),
    rows<{ model: string; calls: string; cost_usd: string; priced_calls: string }>(db,
      `SELECT model, sum(calls)::text AS calls, sum(cost_usd)::text AS cost_usd, sum(priced_calls)::text AS priced_calls FROM ${RT.llm} WHERE ${whereOf(f, ms)} GROUP BY model`, ms.values),
  ])
  const items = new Map<string, { item_id: string; domain: string; accesses: number; found: number }>()
  for (const c of cells) {
    const it = items.get(c.item_id) ?? { item_id: c.item_id, domain: c.domain, accesses: 0, found: 0 }
    it.accesses += num(c.accesses)
    it.found += num(c.found)
    items.set(c.item_id, it)
  }
  const input = {
    knowledge: [...items.values()],
    tiers: tiers.map((t) => ({ tier: t.tier, accesses: num(t.accesses), hits: num(t.hits), served: num(t.served), latency_count: num(t.latency_count), latency_sum_ms: num(t.latency_sum_ms) })),
    edges: edges.map((e) => ({ from_agent: e.from_agent, to_agent: e.to_agent, kind: e.kind, count: num(e.count), consensus_known: num(e.consensus_known), consensus_reached: num(e.consensus_reached) })),
    models: models.map((m) => ({ model: m.model, calls: num(m.calls), cost_usd: num(m.cost_usd), priced_calls: num(m.priced_calls) })),
  }
  const options = { limit, costShareFactor, minSupport }
  const recommendations = recommend(input, options)
  return {
    range: rangeBody(f.range), options: { limit_per_kind: limit, cost_share_factor: costShareFactor, min_support: minSupport },
    count: recommendations.length, recommendations, unqualified: unqualified(input, recommendations, options),
  }
}
