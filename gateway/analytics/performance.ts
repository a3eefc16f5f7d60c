/**
 * Shapes per-agent performance (GET /api/v2/agents/performance) from rollup rows (pure).
 *
 * All users (no user filter): counters from `agg_agent_minute` (events, executions, LLM calls by
 * status, tokens, cost of every event type, tools, errors, collaborations) and execution and LLM
 * latency p50/p95/p99 from `agg_latency_histogram` buckets merged over the range, means exact.
 * One user: the rollups keep per user only `agg_user_minute` (events, cost) and `agg_llm_minute`
 * (LLM calls by status, tokens, cost, latency count and sum), so executions, tools, errors,
 * collaborations and percentiles are null and the LLM latency has its exact mean only.
 * Tokens are those of completed LLM calls; cost is USD (enriched `cost_usd`); latency is ms.
 */
import { bucketsBy, latencyFigures, meanOnly, num, ratio, type LatencyFigures } from './figures.ts'

type N = string | number
/** agg_agent_minute sums per agent. */
export interface AgentRow {
  agent_id: string; events: N; executions_started: N; executions_succeeded: N; executions_failed: N; llm_calls_succeeded: N; llm_calls_failed: N
  input_tokens: N; output_tokens: N; cost_usd: N; tool_calls: N; tool_failures: N; errors: N; collaborations: N
  execution_latency_count: N; execution_latency_sum_ms: N; llm_latency_count: N; llm_latency_sum_ms: N
}
/** agg_user_minute sums per agent (one user). */
export interface UserAgentRow { agent_id: string; events: N; cost_usd: N }
/** agg_llm_minute sums per agent, model and status. */
export interface LlmRow { agent_id: string; model: string; status: string; calls: N; input_tokens: N; output_tokens: N; cost_usd: N; latency_count: N; latency_sum_ms: N }
/** agg_latency_histogram sums per agent, metric and bucket. */
export interface HistogramRow { agent_id: string; metric: string; bucket: number; n: N }

export interface ModelUsage { model: string; calls: number; input_tokens: number; output_tokens: number; cost_usd: number }

/** One agent's figures. */
export interface AgentPerformance {
  agent_id: string
  events: number
  /** USD, every event type. */
  cost_usd: number
  executions: { started: number; succeeded: number; failed: number; success_rate: number | null } | null
  llm: {
    calls: number; succeeded: number; failed: number; failure_rate: number | null
    input_tokens: number; output_tokens: number; total_tokens: number
    /** USD of LLM calls only. */
    cost_usd: number
    models: ModelUsage[]
  }
  tools: { calls: number; failures: number } | null
  errors: number | null
  collaborations: number | null
  latency: { execution: LatencyFigures | null; llm: LatencyFigures }
}

/** Rows of one request. `agents` for all users, `userAgents` for one user. */
export interface PerformanceRows {
  agents?: readonly AgentRow[]
  userAgents?: readonly UserAgentRow[]
  llm: readonly LlmRow[]
  histograms: readonly HistogramRow[]
}

function llmByAgent(llm: readonly LlmRow[]) {
  const out = new Map<string, { succeeded: number; failed: number; input: number; output: number; cost: number; latCount: number; latSum: number; models: Map<string, ModelUsage> }>()
  for (const r of llm) {
    const a = out.get(r.agent_id) ?? { succeeded: 0, failed: 0, input: 0, output: 0, cost: 0, latCount: 0, latSum: 0, models: new Map() }
    if (r.status === 'failed') a.failed += num(r.calls)
    else a.succeeded += num(r.calls)
    a.input += num(r.input_tokens)
    a.output += num(r.output_tokens)
    a.cost += num(r.cost_usd)
    a.latCount += num(r.latency_count)
    a.latSum += num(r.latency_sum_ms)
    const m = a.models.get(r.model) ?? { model: r.model, calls: 0, input_tokens: 0, output_tokens: 0, cost_usd: 0 }
    m.calls += num(r.calls)
    m.input_tokens += num(r.input_tokens)
    m.output_tokens += num(r.output_tokens)
    m.cost_usd += num(r.cost_usd)
    a.models.set(r.model, m)
    out.set(r.agent_id, a)
  }
  return out
}

const sortModels = (m: Map<string, ModelUsage> | undefined) => [...(m?.values() ?? [])].sort((a, b) => b.cost_usd - a.cost_usd || a.model.localeCompare(b.model))

/** Per-agent figures, sorted by agent id. */
export function shapePerformance(rows: PerformanceRows): AgentPerformance[] {
  const llm = llmByAgent(rows.llm)
  const hist = bucketsBy(rows.histograms, (r) => `${r.metric}|${r.agent_id}`)
  if (rows.agents) {
    return rows.agents.map((r) => {
      const l = llm.get(r.agent_id)
      const succeeded = num(r.llm_calls_succeeded)
      const failed = num(r.llm_calls_failed)
      const execOk = num(r.executions_succeeded)
      const execFailed = num(r.executions_failed)
      return {
        agent_id: r.agent_id,
        events: num(r.events),
        cost_usd: num(r.cost_usd),
        executions: { started: num(r.executions_started), succeeded: execOk, failed: execFailed, success_rate: ratio(execOk, execOk + execFailed) },
        llm: {
          calls: succeeded + failed, succeeded, failed, failure_rate: ratio(failed, succeeded + failed),
          input_tokens: num(r.input_tokens), output_tokens: num(r.output_tokens), total_tokens: num(r.input_tokens) + num(r.output_tokens),
          cost_usd: l?.cost ?? 0, models: sortModels(l?.models),
        },
        tools: { calls: num(r.tool_calls), failures: num(r.tool_failures) },
        errors: num(r.errors),
        collaborations: num(r.collaborations),
        latency: {
          execution: latencyFigures(hist.get(`execution|${r.agent_id}`), num(r.execution_latency_count), num(r.execution_latency_sum_ms)),
          llm: latencyFigures(hist.get(`llm|${r.agent_id}`), num(r.llm_latency_count), num(r.llm_latency_sum_ms)),
        },
      }
    }).sort((a, b) => a.agent_id.localeCompare(b.agent_id))
  }
  const user = new Map((rows.userAgents ?? []).map((r) => [r.agent_id, r]))
  const ids = [...new Set([...user.keys(), ...llm.keys()])].sort((a, b) => a.localeCompare(b))
  return ids.map((id) => {
    const u = user.get(id)
    const l = llm.get(id)
    const calls = (l?.succeeded ?? 0) + (l?.failed ?? 0)
    return {
      agent_id: id,
      events: num(u?.events),
      cost_usd: num(u?.cost_usd),
      executions: null,
      llm: {
        calls, succeeded: l?.succeeded ?? 0, failed: l?.failed ?? 0, failure_rate: ratio(l?.failed ?? 0, calls),
        input_tokens: l?.input ?? 0, output_tokens: l?.output ?? 0, total_tokens: (l?.input ?? 0) + (l?.output ?? 0),
        cost_usd: l?.cost ?? 0, models: sortModels(l?.models),
      },
      tools: null,
      errors: null,
      collaborations: null,
      latency: { execution: null, llm: meanOnly(l?.latCount ?? 0, l?.latSum ?? 0) },
    }
  })
}

/** Sums of the per-agent figures (tokens, calls, USD). */
export function performanceTotals(agents: readonly AgentPerformance[]) {
  const sum = (f: (a: AgentPerformance) => number) => agents.reduce((s, a) => s + f(a), 0)
  return {
    agents: agents.length,
    events: sum((a) => a.events),
    llm_calls: sum((a) => a.llm.calls),
    input_tokens: sum((a) => a.llm.input_tokens),
    output_tokens: sum((a) => a.llm.output_tokens),
    cost_usd: sum((a) => a.cost_usd),
  }
}
