/**
 * Shapes per-agent performance (GET /api/v2/agents/performance) from rollup rows (pure).
 *
 * All users (no user filter): counters from `agg_agent_window` (events, executions, LLM calls by
 * status, tokens, cost of every event type, tools, errors, collaborations) and execution and LLM
 * latency p50/p95/p99 from `agg_latency_histogram` buckets merged over the range, means exact.
 * One user: the rollups keep per user only `agg_user_window` (events, cost) and `agg_llm_window`
 * (LLM calls by status, tokens, cost, latency count and sum), so executions, tools, errors,
 * collaborations and percentiles are null and the LLM latency has its exact mean only.
 * Tokens are those of completed LLM calls; cost is USD (enriched `cost_usd`); latency is ms.
 *
 * LLM calls are *answered* calls (a response came back; processors/aggregation/transform.ts):
 * `llm_calls`; failed attempts without an answer are `llm_failed_attempts` (total) and
 * `llm_failed_attempts_by_error_type`, never calls. Unknown is null, never 0: an agent with no
 * LLM event at all has null `llm_calls` and failed attempts; without an answered call, null
 * tokens; without a priced event, null cost. Per-call figures divide by answered calls.
 */
import { bucketsBy, latencyFigures, meanOnly, num, ratio, type LatencyFigures } from './figures.ts'

type N = string | number
/** agg_agent_window sums per agent. */
export interface AgentRow {
  agent_id: string; events: N; executions_started: N; executions_succeeded: N; executions_failed: N; llm_calls_succeeded: N; llm_calls_failed: N
  input_tokens: N; output_tokens: N; cost_usd: N; tool_calls: N; tool_failures: N; errors: N; collaborations: N
  execution_latency_count: N; execution_latency_sum_ms: N; llm_latency_count: N; llm_latency_sum_ms: N; llm_failed_attempts: N; priced_events: N
}
/** agg_user_window sums per agent (one user). */
export interface UserAgentRow { agent_id: string; events: N; cost_usd: N; priced_events: N }
/** agg_llm_window sums per agent, model and status (answered calls). */
export interface LlmRow { agent_id: string; model: string; status: string; calls: N; input_tokens: N; output_tokens: N; cost_usd: N; priced_calls: N; latency_count: N; latency_sum_ms: N }
/** agg_llm_failure_window sums per agent, model and error type (failed attempts). */
export interface FailureRow { agent_id: string; model: string; error_type: string; attempts: N }
/** agg_latency_histogram sums per agent, metric and bucket. */
export interface HistogramRow { agent_id: string; metric: string; bucket: number; n: N }

/** Answered calls of one model (tokens; USD null when none was priced). */
export interface ModelUsage { model: string; calls: number; input_tokens: number; output_tokens: number; cost_usd: number | null }

/** One agent's figures. */
export interface AgentPerformance {
  agent_id: string
  events: number
  /** USD, every event type; null when no event of the agent carried a known cost. */
  cost_usd: number | null
  /** Answered LLM calls; null when the agent has no LLM event at all. */
  llm_calls: number | null
  /** Failed LLM attempts without an answer (not calls); null like llm_calls. */
  llm_failed_attempts: number | null
  /** Failed attempts by error_type. */
  llm_failed_attempts_by_error_type: Record<string, number>
  executions: { started: number; succeeded: number; failed: number; success_rate: number | null } | null
  llm: {
    /** Answered calls by status: a response came back, successful or with an error. */
    succeeded: number; failed: number
    /** failed ÷ answered calls. */
    failure_rate: number | null
    /** Answered calls + failed attempts. */
    attempts: number
    /** Tokens of answered calls; null without an answered call. */
    input_tokens: number | null; output_tokens: number | null; total_tokens: number | null
    /** USD of LLM calls only; null when none was priced. */
    cost_usd: number | null
    /** cost_usd ÷ answered calls. */
    cost_per_call_usd: number | null
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
  /** agg_llm_failure_window sums (failed attempts). */
  failures: readonly FailureRow[]
  histograms: readonly HistogramRow[]
}

interface LlmAcc {
  succeeded: number; failed: number; input: number; output: number; cost: number; priced: number; latCount: number; latSum: number
  models: Map<string, ModelUsage & { priced: number }>
}

function llmByAgent(llm: readonly LlmRow[]) {
  const out = new Map<string, LlmAcc>()
  for (const r of llm) {
    const a = out.get(r.agent_id) ?? { succeeded: 0, failed: 0, input: 0, output: 0, cost: 0, priced: 0, latCount: 0, latSum: 0, models: new Map() }
    if (r.status === 'failed') a.failed += num(r.calls)
    else a.succeeded += num(r.calls)
    a.input += num(r.input_tokens)
    a.output += num(r.output_tokens)
    a.cost += num(r.cost_usd)
    a.priced += num(r.priced_calls)
    a.latCount += num(r.latency_count)
    a.latSum += num(r.latency_sum_ms)
    const m = a.models.get(r.model) ?? { model: r.model, calls: 0, input_tokens: 0, output_tokens: 0, cost_usd: 0, priced: 0 }
    m.calls += num(r.calls)
    m.input_tokens += num(r.input_tokens)
    m.output_tokens += num(r.output_tokens)
    m.cost_usd = (m.cost_usd ?? 0) + num(r.cost_usd)
    m.priced += num(r.priced_calls)
    a.models.set(r.model, m)
    out.set(r.agent_id, a)
  }
  return out
}

/** Failed attempts per agent: total and by error_type. */
export function failuresByAgent(rows: readonly FailureRow[]): Map<string, { total: number; byType: Record<string, number> }> {
  const out = new Map<string, { total: number; byType: Record<string, number> }>()
  for (const r of rows) {
    const a = out.get(r.agent_id) ?? { total: 0, byType: {} }
    a.total += num(r.attempts)
    a.byType[r.error_type] = (a.byType[r.error_type] ?? 0) + num(r.attempts)
    out.set(r.agent_id, a)
  }
  return out
}

const sortModels = (m: Map<string, ModelUsage & { priced: number }> | undefined): ModelUsage[] =>
  [...(m?.values() ?? [])]
    .map(({ priced, ...u }) => ({ ...u, cost_usd: priced > 0 ? u.cost_usd : null }))
    .sort((a, b) => (b.cost_usd ?? -1) - (a.cost_usd ?? -1) || a.model.localeCompare(b.model))

/** The LLM figures of one agent (see the module doc for the null rules). */
function llmFigures(l: LlmAcc | undefined, f: { total: number; byType: Record<string, number> } | undefined) {
  const answered = (l?.succeeded ?? 0) + (l?.failed ?? 0)
  const failedAttempts = f?.total ?? 0
  const any = l !== undefined || f !== undefined
  const tokens = answered > 0
  const cost = l !== undefined && l.priced > 0 ? l.cost : null
  return {
    top: {
      llm_calls: any ? answered : null,
      llm_failed_attempts: any ? failedAttempts : null,
      llm_failed_attempts_by_error_type: f?.byType ?? {},
    },
    llm: {
      succeeded: l?.succeeded ?? 0, failed: l?.failed ?? 0, failure_rate: ratio(l?.failed ?? 0, answered), attempts: answered + failedAttempts,
      input_tokens: tokens ? l!.input : null, output_tokens: tokens ? l!.output : null, total_tokens: tokens ? l!.input + l!.output : null,
      cost_usd: cost, cost_per_call_usd: cost === null ? null : ratio(cost, answered), models: sortModels(l?.models),
    },
  }
}

/** Per-agent figures, sorted by agent id. */
export function shapePerformance(rows: PerformanceRows): AgentPerformance[] {
  const llm = llmByAgent(rows.llm)
  const failures = failuresByAgent(rows.failures)
  const hist = bucketsBy(rows.histograms, (r) => `${r.metric}|${r.agent_id}`)
  if (rows.agents) {
    return rows.agents.map((r) => {
      const { top, llm: l } = llmFigures(llm.get(r.agent_id), failures.get(r.agent_id))
      const execOk = num(r.executions_succeeded)
      const execFailed = num(r.executions_failed)
      return {
        agent_id: r.agent_id,
        events: num(r.events),
        cost_usd: num(r.priced_events) > 0 ? num(r.cost_usd) : null,
        ...top,
        executions: { started: num(r.executions_started), succeeded: execOk, failed: execFailed, success_rate: ratio(execOk, execOk + execFailed) },
        llm: l,
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
  const ids = [...new Set([...user.keys(), ...llm.keys(), ...failures.keys()])].sort((a, b) => a.localeCompare(b))
  return ids.map((id) => {
    const u = user.get(id)
    const l = llm.get(id)
    const { top, llm: figures } = llmFigures(l, failures.get(id))
    return {
      agent_id: id,
      events: num(u?.events),
      cost_usd: num(u?.priced_events) > 0 ? num(u?.cost_usd) : null,
      ...top,
      executions: null,
      llm: figures,
      tools: null,
      errors: null,
      collaborations: null,
      latency: { execution: null, llm: meanOnly(l?.latCount ?? 0, l?.latSum ?? 0) },
    }
  })
}

/** Sum of the known values; null when none is known. */
export function sumKnown(values: readonly (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null)
  return known.length === 0 ? null : known.reduce((a, b) => a + b, 0)
}

/** Sums of the per-agent figures (tokens, calls, USD; null where no agent knows the figure). */
export function performanceTotals(agents: readonly AgentPerformance[]) {
  const byType: Record<string, number> = {}
  for (const a of agents) for (const [k, v] of Object.entries(a.llm_failed_attempts_by_error_type)) byType[k] = (byType[k] ?? 0) + v
  return {
    agents: agents.length,
    events: agents.reduce((s, a) => s + a.events, 0),
    llm_calls: sumKnown(agents.map((a) => a.llm_calls)),
    llm_failed_attempts: sumKnown(agents.map((a) => a.llm_failed_attempts)),
    llm_failed_attempts_by_error_type: byType,
    input_tokens: sumKnown(agents.map((a) => a.llm.input_tokens)),
    output_tokens: sumKnown(agents.map((a) => a.llm.output_tokens)),
    cost_usd: sumKnown(agents.map((a) => a.cost_usd)),
  }
}
