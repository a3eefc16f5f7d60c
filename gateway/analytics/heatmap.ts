/**
 * Shapes the knowledge heatmap (GET /api/v2/knowledge/heatmap) from agg_knowledge_window sums
 * (pure; the seed's "knowledge item access frequency, which agents access which knowledge,
 * time-based patterns").
 *
 * Items are ranked by accesses (top `limit` kept); cells are item × agent accesses of those
 * items; `hour_of_day` counts each kept item's accesses by UTC hour (0–23) of the rollup window.
 * found_rate = accesses that found the item ÷ accesses.
 */
import { num, ratio } from './figures.ts'

type N = string | number
export interface KnowledgeCellRow { item_id: string; agent_id: string; domain: string; accesses: N; found: N; items_retrieved: N }
export interface KnowledgeHourRow { item_id: string; hour: N; accesses: N }

export interface HeatmapItem { item_id: string; domains: string[]; accesses: number; found: number; found_rate: number | null; items_retrieved: number; agents: number }

/** Heatmap body parts: `{ totals, items, agents, cells, hour_of_day, truncated }`. */
export function shapeHeatmap(cells: readonly KnowledgeCellRow[], hours: readonly KnowledgeHourRow[], limit: number) {
  const items = new Map<string, HeatmapItem & { agentSet: Set<string>; domainSet: Set<string> }>()
  for (const c of cells) {
    const it = items.get(c.item_id) ?? { item_id: c.item_id, domains: [], accesses: 0, found: 0, found_rate: null, items_retrieved: 0, agents: 0, agentSet: new Set(), domainSet: new Set() }
    it.accesses += num(c.accesses)
    it.found += num(c.found)
    it.items_retrieved += num(c.items_retrieved)
    it.agentSet.add(c.agent_id)
    if (c.domain !== '') it.domainSet.add(c.domain)
    items.set(c.item_id, it)
  }
  const ranked = [...items.values()].sort((a, b) => b.accesses - a.accesses || a.item_id.localeCompare(b.item_id))
  const kept = ranked.slice(0, limit)
  const keptIds = new Set(kept.map((i) => i.item_id))
  const cellMap = new Map<string, { item_id: string; agent_id: string; accesses: number; found: number }>()
  for (const c of cells) {
    if (!keptIds.has(c.item_id)) continue
    const k = JSON.stringify([c.item_id, c.agent_id])
    const cell = cellMap.get(k) ?? { item_id: c.item_id, agent_id: c.agent_id, accesses: 0, found: 0 }
    cell.accesses += num(c.accesses)
    cell.found += num(c.found)
    cellMap.set(k, cell)
  }
  const byHour = new Map<string, number[]>()
  for (const h of hours) {
    if (!keptIds.has(h.item_id)) continue
    const arr = byHour.get(h.item_id) ?? Array.from({ length: 24 }, () => 0)
    arr[num(h.hour)]! += num(h.accesses)
    byHour.set(h.item_id, arr)
  }
  const totalAccesses = ranked.reduce((s, i) => s + i.accesses, 0)
  const totalFound = ranked.reduce((s, i) => s + i.found, 0)
  return {
    totals: { items: ranked.length, accesses: totalAccesses, found: totalFound, found_rate: ratio(totalFound, totalAccesses) },
    items: kept.map(({ agentSet, domainSet, ...i }) => ({ ...i, domains: [...domainSet].sort(), agents: agentSet.size, found_rate: ratio(i.found, i.accesses) })),
    agents: [...new Set(kept.flatMap((i) => [...i.agentSet]))].sort(),
    cells: [...cellMap.values()]
      .map((c) => ({ ...c, found_rate: ratio(c.found, c.accesses) }))
      .sort((a, b) => b.accesses - a.accesses || a.item_id.localeCompare(b.item_id) || a.agent_id.localeCompare(b.agent_id)),
    hour_of_day: kept.map((i) => ({ item_id: i.item_id, accesses: byHour.get(i.item_id) ?? Array.from({ length: 24 }, () => 0) })),
    truncated: ranked.length > kept.length,
  }
}
