/**
 * Shapes the intelligence views (pure): the collaboration network (GET
 * /api/v2/intelligence/collaboration) and hypothesis learning (GET /api/v2/intelligence/learning).
 *
 * Edges (agg_edge_window): `collaboration` primary → each partner, `handoff` from → to; counts,
 * consensus rate = consensus_reached ÷ consensus_known (collaborations whose outcome was
 * reported), mean resolution ms = resolution_sum_ms ÷ resolution_count, knowledge items shared.
 * Learning (agg_hypothesis_window, agg_hypothesis_state): hypothesis events by the status they
 * set, and the latest status of each hypothesis whose latest change lies in the range;
 * validation rate = validated ÷ (validated + invalidated) of those.
 */
import { num, ratio } from './figures.ts'
import { isoOfUs, type TimeRange } from './range.ts'

type N = string | number
export interface EdgeRow {
  from_agent: string; to_agent: string; kind: string; count: N; consensus_known: N; consensus_reached: N
  resolution_count: N; resolution_sum_ms: N; knowledge_items_shared: N
}
export interface HypothesisRow { agent_id: string; domain: string; status: string; events: N }
export interface StateRow { agent_id: string; domain: string; status: string; n: N }

/** The statuses of the contract (CONTRACTS.md section 2, hypothesis events). */
export const HYPOTHESIS_STATUSES = ['formed', 'validated', 'invalidated', 'pending'] as const

export interface Edge {
  from: string; to: string; kind: string; count: number; consensus_known: number; consensus_reached: number
  consensus_rate: number | null; mean_resolution_ms: number | null; knowledge_items_shared: number
}

/** Edges sorted by count (at most `limit`), nodes with their degrees, totals over every edge. */
export function shapeNetwork(rows: readonly EdgeRow[], limit: number) {
  const edges: Edge[] = rows.map((r) => ({
    from: r.from_agent, to: r.to_agent, kind: r.kind, count: num(r.count), consensus_known: num(r.consensus_known),
    consensus_reached: num(r.consensus_reached), consensus_rate: ratio(num(r.consensus_reached), num(r.consensus_known)),
    mean_resolution_ms: ratio(num(r.resolution_sum_ms), num(r.resolution_count)), knowledge_items_shared: num(r.knowledge_items_shared),
  }))
  edges.sort((a, b) => b.count - a.count || a.from.localeCompare(b.from) || a.to.localeCompare(b.to) || a.kind.localeCompare(b.kind))
  const nodes = new Map<string, { agent_id: string; outgoing: number; incoming: number; total: number }>()
  const node = (id: string) => nodes.get(id) ?? nodes.set(id, { agent_id: id, outgoing: 0, incoming: 0, total: 0 }).get(id)!
  for (const e of edges) {
    node(e.from).outgoing += e.count
    node(e.to).incoming += e.count
  }
  for (const n of nodes.values()) n.total = n.outgoing + n.incoming
  const sum = (f: (e: Edge) => number) => edges.reduce((s, e) => s + f(e), 0)
  const known = sum((e) => e.consensus_known)
  const reached = sum((e) => e.consensus_reached)
  return {
    totals: {
      edges: edges.length,
      interactions: sum((e) => e.count),
      collaborations: sum((e) => (e.kind === 'collaboration' ? e.count : 0)),
      handoffs: sum((e) => (e.kind === 'handoff' ? e.count : 0)),
      consensus_known: known,
      consensus_reached: reached,
      consensus_rate: ratio(reached, known),
    },
    nodes: [...nodes.values()].sort((a, b) => b.total - a.total || a.agent_id.localeCompare(b.agent_id)),
    edges: edges.slice(0, limit),
    truncated: edges.length > limit,
  }
}

type StatusCounts = Record<(typeof HYPOTHESIS_STATUSES)[number] | 'other', number>
const zero = (): StatusCounts => ({ formed: 0, validated: 0, invalidated: 0, pending: 0, other: 0 })
const add = (c: StatusCounts, status: string, n: number) => {
  const k = (HYPOTHESIS_STATUSES as readonly string[]).includes(status) ? (status as keyof StatusCounts) : 'other'
  c[k] += n
}
const withRate = (c: StatusCounts) => ({ ...c, validation_rate: ratio(c.validated, c.validated + c.invalidated) })

function groupCounts<R extends { status: string }>(rows: readonly R[], keyOf: (r: R) => string, n: (r: R) => number) {
  const out = new Map<string, StatusCounts>()
  for (const r of rows) {
    const k = keyOf(r)
    const c = out.get(k) ?? zero()
    add(c, r.status, n(r))
    out.set(k, c)
  }
  return out
}

/** What `formed_per_hour` is divided by. */
export const LEARNING_RATE_DENOMINATOR = 'hours of the span holding hypothesis events in the range (first rollup window start to last window end), not the requested range'

/**
 * Learning figures.
 * @param basis the span holding hypothesis events (µs), the denominator of formed_per_hour; null without data
 */
export function shapeLearning(events: readonly HypothesisRow[], states: readonly StateRow[], basis: TimeRange | null) {
  const hours = basis === null ? 0 : (basis.toUs - basis.fromUs) / 3_600_000_000
  const byStatus = zero()
  for (const r of events) add(byStatus, r.status, num(r.events))
  const current = zero()
  for (const s of states) add(current, s.status, num(s.n))
  const perKey = (m: Map<string, StatusCounts>, name: 'agent_id' | 'domain') =>
    [...m.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([k, c]) => ({ [name]: k, ...withRate(c) }))
  return {
    events_by_status: byStatus,
    hypotheses_formed: byStatus.formed,
    formed_per_hour: ratio(byStatus.formed, hours),
    rate_basis: {
      denominator: LEARNING_RATE_DENOMINATOR,
      from: basis === null ? null : isoOfUs(basis.fromUs),
      to: basis === null ? null : isoOfUs(basis.toUs),
      hours: basis === null ? null : hours,
    },
    current_status: { ...withRate(current), total: Object.values(current).reduce((a, b) => a + b, 0) },
    by_agent: perKey(groupCounts(events, (r) => r.agent_id, (r) => num(r.events)), 'agent_id'),
    by_domain: perKey(groupCounts(events, (r) => r.domain, (r) => num(r.events)), 'domain'),
  }
}
