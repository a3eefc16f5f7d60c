/**
 * Agents: per-agent performance over a range (agg_agent_window or, for one user,
 * agg_user_window; agg_llm_window; agg_latency_histogram) and the agents active now
 * (agg_agent_activity by processing time, CONTRACTS.md section 4 `auren_agents_active`).
 */
import { performanceTotals, shapePerformance, type AgentRow, type FailureRow, type HistogramRow, type LlmRow, type UserAgentRow } from '../analytics/performance.ts'
import { isoOfUs, rangeBody, type TimeRange } from '../analytics/range.ts'
import { num } from '../analytics/figures.ts'
import { Params, rows, whereOf, type Db, type Filter } from './db.ts'
import { RT } from '../../schemas/rollup-tables.ts'

const AGENT_SUMS = [
  'events', 'executions_started', 'executions_succeeded', 'executions_failed', 'llm_calls_succeeded', 'llm_calls_failed', 'input_tokens',
  'output_tokens', 'cost_usd', 'tool_calls', 'tool_failures', 'errors', 'collaborations', 'execution_latency_count', 'execution_latency_sum_ms',
  'llm_latency_count', 'llm_latency_sum_ms', 'llm_failed_attempts', 'priced_events',
] as const

/** agg_llm_window per agent, model and status (user and agent filters applied). */
export async function llmRows(db: Db, f: Filter): Promise<LlmRow[]> {
  const ps = new Params()
  return rows<LlmRow>(db,
    'SELECT agent_id, model, status, sum(calls)::text AS calls, sum(input_tokens)::text AS input_tokens, sum(output_tokens)::text AS output_tokens, ' +
    'sum(cost_usd)::text AS cost_usd, sum(priced_calls)::text AS priced_calls, sum(latency_count)::text AS latency_count, sum(latency_sum_ms)::text AS latency_sum_ms ' +
    `FROM ${RT.llm} WHERE ${whereOf(f, ps, { user: 'user_id', agent: 'agent_id' })} GROUP BY agent_id, model, status`, ps.values)
}

/** agg_llm_failure_window per agent, model and error type (failed attempts; user and agent filters applied). */
export async function failureRows(db: Db, f: Filter): Promise<FailureRow[]> {
  const ps = new Params()
  return rows<FailureRow>(db,
    'SELECT agent_id, model, error_type, sum(attempts)::text AS attempts ' +
    `FROM ${RT.llm_failure} WHERE ${whereOf(f, ps, { user: 'user_id', agent: 'agent_id' })} GROUP BY agent_id, model, error_type`, ps.values)
}

/**
 * GET /api/v2/agents/performance body: `{ range, scope, totals, agents: AgentPerformance[] }`
 * (analytics/performance.ts for the shape and units).
 */
export async function loadPerformance(db: Db, f: Filter) {
  const ps = new Params()
  const where = whereOf(f, ps, { agent: 'agent_id' })
  let agents: AgentRow[] | undefined
  let userAgents: UserAgentRow[] | undefined
  let histograms: HistogramRow[] = []
  if (f.userId === null) {
    agents = await rows<AgentRow>(db,
      `SELECT agent_id, ${AGENT_SUMS.map((c) => `sum(${c})::text AS ${c}`).join(', ')} FROM ${RT.agent} WHERE ${where} AND agent_id <> '' GROUP BY agent_id`, ps.values)
    const hs = new Params()
    histograms = await rows<HistogramRow>(db,
      `SELECT agent_id, metric, bucket, sum(count)::text AS n FROM ${RT.histogram} WHERE ${whereOf(f, hs, { agent: 'agent_id' })} ` +
      "AND metric IN ('execution', 'llm') GROUP BY agent_id, metric, bucket", hs.values)
  } else {
    const us = new Params()
    userAgents = await rows<UserAgentRow>(db,
      `SELECT agent_id, sum(events)::text AS events, sum(cost_usd)::text AS cost_usd, sum(priced_events)::text AS priced_events FROM ${RT.user} WHERE ${whereOf(f, us, { user: 'user_id', agent: 'agent_id' })} ` +
      "AND agent_id <> '' GROUP BY agent_id", us.values)
  }
  const llm = (await llmRows(db, f)).filter((r) => r.agent_id !== '')
  const failures = (await failureRows(db, f)).filter((r) => r.agent_id !== '')
  const shaped = shapePerformance({ agents, userAgents, llm, failures, histograms })
  return {
    range: rangeBody(f.range),
    scope: { user_id: f.userId, agent_id: f.agentId, per_user_detail: f.userId === null ? 'full' : 'llm_and_cost_only' },
    totals: performanceTotals(shaped),
    agents: shaped,
  }
}

interface ActivityRow {
  agent_id: string; first_seen_us: string; last_seen_us: string; last_event_type: string; events: string
  executions_in_flight: string; llm_calls_in_flight: string; last_processed_at: Date; idle_ms: string
}

/**
 * GET /api/v2/agents/active body: agents with an event processed within `withinMs` (processing
 * time), with their load (executions and LLM calls started minus completed, floored at 0) and
 * capabilities seen in the range (tools called, models used).
 */
export async function loadActiveAgents(db: Db, withinMs: number, range: TimeRange) {
  const active = await rows<ActivityRow>(db,
    'SELECT agent_id, first_seen_us::text, last_seen_us::text, last_event_type, events::text, executions_in_flight::text, llm_calls_in_flight::text, ' +
    `last_processed_at, (extract(epoch FROM now() - last_processed_at) * 1000)::text AS idle_ms FROM ${RT.activity} ` +
    "WHERE last_processed_at >= now() - $1 * interval '1 millisecond' ORDER BY last_processed_at DESC, agent_id", [withinMs])
  const ids = active.map((a) => a.agent_id)
  const caps = ids.length === 0 ? [] : await rows<{ agent_id: string; kind: string; name: string }>(db,
    `SELECT DISTINCT agent_id, 'tool' AS kind, tool AS name FROM ${RT.tool} WHERE agent_id = ANY($1) AND window_start_us >= $2 AND window_start_us < $3 ` +
    `UNION SELECT DISTINCT agent_id, 'model', model FROM ${RT.llm} WHERE agent_id = ANY($1) AND window_start_us >= $2 AND window_start_us < $3 ORDER BY 1, 2, 3`,
    [ids, range.fromUs, range.toUs])
  const capsOf = (id: string, kind: string) => caps.filter((c) => c.agent_id === id && c.kind === kind).map((c) => c.name)
  return {
    active_within_ms: withinMs,
    active_count: active.length,
    capabilities_range: rangeBody(range),
    agents: active.map((a) => {
      const load = Math.max(0, num(a.executions_in_flight))
      return {
        id: a.agent_id,
        status: load > 0 ? 'busy' : 'active',
        last_activity: isoOfUs(num(a.last_seen_us)),
        first_seen: isoOfUs(num(a.first_seen_us)),
        last_processed_at: a.last_processed_at.toISOString(),
        idle_ms: Math.max(0, num(a.idle_ms)),
        last_event_type: a.last_event_type,
        events: num(a.events),
        current_load: load,
        llm_calls_in_flight: Math.max(0, num(a.llm_calls_in_flight)),
        capabilities: { tools: capsOf(a.agent_id, 'tool'), models: capsOf(a.agent_id, 'model') },
      }
    }),
  }
}
