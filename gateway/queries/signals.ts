/**
 * REST reads of the signal rollups (schemas/rollup-tables.ts): decisions, memory
 * operations, biometrics, system health, performance metrics, and cost per trace. Each sums the
 * range's windows; a mean is null when nothing had the figure (never 0). Response schemas are
 * {@link SIGNAL_RESPONSES} (OpenAPI 3.0 dialect, as gateway/openapi.ts).
 */
import { rangeBody } from '../analytics/range.ts'
import { Params, rows, whereOf, type Db, type Filter } from './db.ts'
import { RT } from '../../schemas/rollup-tables.ts'

const num = (v: string | null): number | null => (v === null ? null : Number(v))
const int = (v: string): number => Number(v)

/** GET intelligence/decisions: per agent, category and urgency (null when not given). */
export async function loadDecisions(db: Db, f: Filter) {
  const ps = new Params()
  const r = await rows<{ agent_id: string; category: string; urgency: string; decisions: string; mean_confidence: string | null; mean_reasoning_steps: string | null }>(db,
    'SELECT agent_id, category, urgency, sum(decisions)::text AS decisions, (sum(confidence_sum) / NULLIF(sum(confidence_count), 0))::text AS mean_confidence, ' +
    '(sum(reasoning_steps)::numeric / NULLIF(sum(decisions), 0))::text AS mean_reasoning_steps ' +
    `FROM ${RT.decision} WHERE ${whereOf(f, ps, { agent: 'agent_id' })} GROUP BY 1, 2, 3 ORDER BY 4 DESC, 1, 2, 3`, ps.values)
  const groups = r.map((x) => ({
    agent_id: x.agent_id, category: x.category || null, urgency: x.urgency || null, decisions: int(x.decisions),
    mean_confidence: num(x.mean_confidence), mean_reasoning_steps: num(x.mean_reasoning_steps),
  }))
  return { range: rangeBody(f.range), total: groups.reduce((n, g) => n + g.decisions, 0), groups }
}

/** GET memory/operations: per agent, operation and memory type. */
export async function loadMemoryOperations(db: Db, f: Filter) {
  const ps = new Params()
  const r = await rows<{ agent_id: string; operation: string; memory_type: string; operations: string; mean_confidence: string | null }>(db,
    'SELECT agent_id, operation, memory_type, sum(operations)::text AS operations, (sum(confidence_sum) / NULLIF(sum(confidence_count), 0))::text AS mean_confidence ' +
    `FROM ${RT.memory_operation} WHERE ${whereOf(f, ps, { agent: 'agent_id' })} GROUP BY 1, 2, 3 ORDER BY 4 DESC, 1, 2, 3`, ps.values)
  const groups = r.map((x) => ({ agent_id: x.agent_id, operation: x.operation, memory_type: x.memory_type, operations: int(x.operations), mean_confidence: num(x.mean_confidence) }))
  return { range: rangeBody(f.range), total: groups.reduce((n, g) => n + g.operations, 0), groups }
}

/** GET body/biometrics: per metric and unit (one user, or all users for operators). */
export async function loadBiometrics(db: Db, f: Filter) {
  const ps = new Params()
  const r = await rows<{ metric: string; unit: string; samples: string; mean: string | null; anomalies: string }>(db,
    'SELECT metric, unit, sum(samples)::text AS samples, (sum(value_sum) / NULLIF(sum(samples), 0))::text AS mean, sum(anomalies)::text AS anomalies ' +
    `FROM ${RT.biometric} WHERE ${whereOf(f, ps, { user: 'user_id' })} GROUP BY 1, 2 ORDER BY 1, 2`, ps.values)
  const metrics = r.map((x) => ({
    metric: x.metric, unit: x.unit, samples: int(x.samples), mean: num(x.mean), anomalies: int(x.anomalies),
    anomaly_rate: int(x.samples) > 0 ? int(x.anomalies) / int(x.samples) : null,
  }))
  return { range: rangeBody(f.range), scope: { user_id: f.userId }, metrics }
}

/** GET system/health: reports per component and status, and the worst status seen in the range. */
export async function loadSystemHealth(db: Db, f: Filter) {
  const ps = new Params()
  const r = await rows<{ component: string; status: string; reports: string }>(db,
    `SELECT component, status, sum(reports)::text AS reports FROM ${RT.system_health} WHERE ${whereOf(f, ps)} GROUP BY 1, 2 ORDER BY 1, 2`, ps.values)
  const rank: Record<string, number> = { healthy: 0, degraded: 1, unhealthy: 2 }
  const byComponent = new Map<string, { component: string; reports: Record<string, number>; worst_status: string }>()
  for (const x of r) {
    const c = byComponent.get(x.component) ?? { component: x.component, reports: {}, worst_status: x.status }
    c.reports[x.status] = int(x.reports)
    if ((rank[x.status] ?? 3) > (rank[c.worst_status] ?? 3)) c.worst_status = x.status
    byComponent.set(x.component, c)
  }
  return { range: rangeBody(f.range), components: [...byComponent.values()] }
}

/** GET system/performance-metrics: per agent, name and unit. */
export async function loadPerformanceMetrics(db: Db, f: Filter) {
  const ps = new Params()
  const r = await rows<{ agent_id: string; name: string; unit: string; samples: string; mean: string | null }>(db,
    'SELECT agent_id, name, unit, sum(samples)::text AS samples, (sum(value_sum) / NULLIF(sum(samples), 0))::text AS mean ' +
    `FROM ${RT.performance_metric} WHERE ${whereOf(f, ps, { agent: 'agent_id' })} GROUP BY 1, 2, 3 ORDER BY 2, 1`, ps.values)
  return { range: rangeBody(f.range), metrics: r.map((x) => ({ agent_id: x.agent_id || null, name: x.name, unit: x.unit, samples: int(x.samples), mean: num(x.mean) })) }
}

/** GET costs/traces: the most expensive traces (user queries) of the range. */
export async function loadTraceCosts(db: Db, f: Filter, limit: number) {
  const ps = new Params()
  const where = whereOf(f, ps, { user: 'user_id' })
  const lim = ps.p(limit)
  const r = await rows<{ trace_id: string; user_id: string; cost_usd: string; llm_calls: string; input_tokens: string; output_tokens: string }>(db,
    'SELECT trace_id, max(user_id) AS user_id, sum(cost_usd)::text AS cost_usd, sum(llm_calls)::text AS llm_calls, sum(input_tokens)::text AS input_tokens, sum(output_tokens)::text AS output_tokens ' +
    `FROM ${RT.trace} WHERE ${where} GROUP BY trace_id ORDER BY sum(cost_usd) DESC, trace_id LIMIT ${lim}`, ps.values)
  const totals = await rows<{ traces: string; cost_usd: string | null }>(db,
    `SELECT count(DISTINCT trace_id)::text AS traces, sum(cost_usd)::text AS cost_usd FROM ${RT.trace} WHERE ${where}`, ps.values.slice(0, -1)) // the range and user params, not the limit
  const traces = int(totals[0]?.traces ?? '0')
  const total = num(totals[0]?.cost_usd ?? null)
  return {
    range: rangeBody(f.range), scope: { user_id: f.userId },
    traces, total_cost_usd: total ?? 0, mean_cost_per_trace_usd: traces > 0 && total !== null ? total / traces : null,
    top: r.map((x) => ({ trace_id: x.trace_id, user_id: x.user_id || null, cost_usd: Number(x.cost_usd), llm_calls: int(x.llm_calls), input_tokens: int(x.input_tokens), output_tokens: int(x.output_tokens) })),
  }
}

// ---- response schemas ------------------------------------------------------------------------
const n = { type: 'number' }
const nn = { type: 'number', nullable: true }
const i = { type: 'integer' }
const s = { type: 'string' }
const ns = { type: 'string', nullable: true }
const obj = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ type: 'object', properties, required: Object.keys(properties), ...extra })
const arr = (items: unknown) => ({ type: 'array', items })
const range = obj({ from: s, to: s })

/** Response schemas by route path. */
export const SIGNAL_RESPONSES: Record<string, Record<string, unknown>> = {
  'intelligence/decisions': obj({ range, total: i, groups: arr(obj({ agent_id: s, category: ns, urgency: ns, decisions: i, mean_confidence: nn, mean_reasoning_steps: nn })) }),
  'memory/operations': obj({ range, total: i, groups: arr(obj({ agent_id: s, operation: s, memory_type: s, operations: i, mean_confidence: nn })) }),
  'body/biometrics': obj({ range, scope: obj({ user_id: ns }), metrics: arr(obj({ metric: s, unit: s, samples: i, mean: nn, anomalies: i, anomaly_rate: nn })) }),
  'system/health': obj({ range, components: arr(obj({ component: s, reports: { type: 'object', additionalProperties: i }, worst_status: s })) }),
  'system/performance-metrics': obj({ range, metrics: arr(obj({ agent_id: ns, name: s, unit: s, samples: i, mean: nn })) }),
  'costs/traces': obj({ range, scope: obj({ user_id: ns }), traces: i, total_cost_usd: n, mean_cost_per_trace_usd: nn, top: arr(obj({ trace_id: s, user_id: ns, cost_usd: n, llm_calls: i, input_tokens: i, output_tokens: i })) }),
}
