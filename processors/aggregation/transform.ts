/**
 * Aggregation's pure transform: one enriched event → its {@link RollupDelta}, the increments it
 * makes to every rollup table (rollup-delta.ts). No I/O and no clock: the delta depends on the
 * event alone, so replays, restarts and any number of instances produce the same deltas.
 *
 * Counting rules (sources in brackets):
 * - tokens only from `llm_call_completed`; `llm_call_started` carries a prompt estimate and
 *   counting both halves would double the totals (processors/enrichment/pricing.ts,
 *   scripts/sources/chatdev-events.ts);
 * - cost: the enriched event's `cost_usd`, whatever its type (CONTRACTS.md section 3), into the
 *   agent's window, the user's row and the LLM or tool row of the call;
 * - executions from `agent_execution_started` (started) and `_completed` (succeeded / failed,
 *   latency); LLM calls, tools (`tool_usage_completed`) by status with latency; memory tiers
 *   per tier tried (`memory_tier_access`: access, hit or miss, latency) and per tier served;
 *   edges primary → each collaborator (`agent_collaboration`) and from → to (`agent_handoff`);
 *   hypotheses by the status in the payload; knowledge per item and agent;
 * - the agent of an event is `source_agent.id` ('' when absent: such events still count in the
 *   '' agent row, so totals over all agents are complete, but '' gets no AgentMetricsWindow);
 * - a status is `succeeded` or `failed` (a missing `success` falls back to `performance.success`,
 *   then to "no error_type");
 * - an `llm_call_completed` is an *answered* LLM call when it succeeded or its producer reported
 *   usage for it (tokens or a reported cost: OpenAI-style error responses carry no `usage`, so a
 *   rate-limit retry, a timeout or a server error reports none); answered calls count as LLM
 *   calls (by status), with tokens, cost and latency. A failed call without usage is a failed
 *   *attempt*: counted apart by `error_type` (`llm_failure`, `llm_failed_attempts`) and as an
 *   error, never as a call, and its latency (if any) enters no histogram;
 * - a latency nobody measured is null and enters no sum or histogram (a fallback to
 *   `performance.latency_ms` applies only when the payload has no latency field value);
 * - `priced_events` / `priced_calls` count events whose enriched `cost_usd` is known (not null);
 * - every event adds 1 to its `event` row (per event type): the once-per-event counts.
 */
import type { AgentEvent, AgentEventOf, EnrichedAgentEvent } from '../../schemas/index.ts'
import { deadLetter, emit, type Outcome } from '../runtime/outcome.ts'
import { decimalOf } from './decimal.ts'
import { bucketOf } from '../../schemas/latency-histogram.ts'
import { RowAccumulator, type ActivityUpdate, type HypothesisState, type LatencyMetric, type LatencyObservation, type RollupDelta } from './rollup-delta.ts'
import { windowStartUs } from './tumbling-window.ts'
import { addSignalRows } from './signal-rows.ts'

/** Default window size, ms (config.ts AUREN_AGGREGATION_WINDOW_MS). */
export const DEFAULT_WINDOW_MS = 60_000

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

type Status = 'succeeded' | 'failed'
const statusOf = (ok: boolean): Status => (ok ? 'succeeded' : 'failed')

function succeeded(e: AgentEvent, success: boolean | null, errorType: string | null): boolean {
  return success ?? e.performance?.success ?? (errorType === null || errorType === '')
}

function latencyOf(payloadMs: number | null, e: AgentEvent): number | null {
  const ms = payloadMs ?? e.performance?.latency_ms ?? null
  return ms !== null && Number.isFinite(ms) && ms >= 0 ? ms : null
}

/**
 * The contribution of one enriched event to every rollup (see the module doc for the rules).
 * @param windowMs window size in ms (tumbling-window.ts); every row's window_start_us uses it
 */
export function toRollupDelta(enriched: EnrichedAgentEvent, windowMs = DEFAULT_WINDOW_MS): RollupDelta {
  const e = enriched.event
  // Lower case, so JS string order (merges in a batch) and PostgreSQL's uuid order agree.
  const eventId = e.event_id.toLowerCase()
  const w = windowStartUs(e.timestamp, windowMs)
  const agent = e.source_agent?.id ?? ''
  const user = e.user_id ?? ''
  const cost = enriched.cost_usd !== null && enriched.cost_usd !== 0 ? decimalOf(enriched.cost_usd) : undefined
  const priced = enriched.cost_usd !== null ? 1 : 0
  const rows = new RowAccumulator()
  const observations: LatencyObservation[] = []
  const hypothesisStates: HypothesisState[] = []
  let executionsInFlight = 0
  let llmInFlight = 0

  const observe = (metric: LatencyMetric, agentId: string, dim: string, ms: number) => {
    rows.add('histogram', { window_start_us: w, metric, agent_id: agentId, dim, bucket: bucketOf(ms), count: 1 })
    observations.push({ metric, agent_id: agentId, dim, ms })
  }

  rows.add('event', { window_start_us: w, event_type: e.event_type, events: 1 })
  rows.add('agent', { window_start_us: w, agent_id: agent, events: 1, cost_usd: cost, priced_events: priced })
  if (user !== '') rows.add('user', { window_start_us: w, user_id: user, agent_id: agent, events: 1, cost_usd: cost, priced_events: priced })

  switch (e.event_type) {
    case 'agent_execution_started':
      rows.add('agent', { window_start_us: w, agent_id: agent, executions_started: 1 })
      executionsInFlight = 1
      break
    case 'agent_execution_completed': {
      const p = e.payload
      const ok = succeeded(e, p.success, p.error_type)
      const ms = latencyOf(p.latency_ms, e)
      rows.add('agent', {
        window_start_us: w, agent_id: agent, executions_succeeded: ok ? 1 : 0, executions_failed: ok ? 0 : 1, errors: ok ? 0 : 1,
        ...(ms !== null ? { execution_latency_count: 1, execution_latency_sum_ms: decimalOf(ms) } : {}),
      })
      if (ms !== null) observe('execution', agent, '', ms)
      executionsInFlight = -1
      break
    }
    case 'llm_call_started':
      llmInFlight = 1 // tokens of a started call are an estimate: never counted
      break
    case 'llm_call_completed':
      llmInFlight = -1
      llmCompleted(e, w, agent, user, cost, priced, rows, observe)
      break
    case 'tool_usage_completed': {
      const p = e.payload
      const ok = succeeded(e, p.success, p.error_type)
      const ms = latencyOf(p.execution_time_ms, e)
      rows.add('agent', { window_start_us: w, agent_id: agent, tool_calls: 1, tool_failures: ok ? 0 : 1, errors: ok ? 0 : 1 })
      rows.add('tool', {
        window_start_us: w, agent_id: agent, tool: p.tool_name, status: statusOf(ok), calls: 1, cost_usd: cost,
        input_bytes: p.input_size_bytes ?? 0, output_bytes: p.output_size_bytes ?? 0,
        ...(ms !== null ? { latency_count: 1, latency_sum_ms: decimalOf(ms) } : {}),
      })
      if (ms !== null) observe('tool', agent, p.tool_name, ms)
      break
    }
    case 'agent_collaboration': {
      const p = e.payload
      const partners = [...new Set(p.collaborating_agents)].filter((a) => a !== p.primary_agent)
      for (const a of new Set([p.primary_agent, ...partners])) rows.add('agent', { window_start_us: w, agent_id: a, collaborations: 1 })
      const resolution = p.resolution_time_ms !== null && p.resolution_time_ms >= 0 ? p.resolution_time_ms : null
      for (const to of partners) {
        rows.add('edge', {
          window_start_us: w, from_agent: p.primary_agent, to_agent: to, kind: 'collaboration', count: 1,
          consensus_known: p.consensus_reached === null ? 0 : 1, consensus_reached: p.consensus_reached ? 1 : 0,
          knowledge_items_shared: p.knowledge_items_shared,
          ...(resolution !== null ? { resolution_count: 1, resolution_sum_ms: decimalOf(resolution) } : {}),
        })
      }
      if (resolution !== null) observe('collaboration_resolution', p.primary_agent, '', resolution)
      break
    }
    case 'agent_handoff': {
      const p = e.payload
      for (const a of new Set([p.from_agent, p.to_agent])) rows.add('agent', { window_start_us: w, agent_id: a, collaborations: 1 })
      rows.add('edge', { window_start_us: w, from_agent: p.from_agent, to_agent: p.to_agent, kind: 'handoff', count: 1 })
      break
    }
    case 'hypothesis_formed':
    case 'hypothesis_validated': {
      const p = e.payload
      const domain = p.domain ?? enriched.agent_domain ?? ''
      rows.add('hypothesis', { window_start_us: w, agent_id: agent, domain, status: p.status, events: 1 })
      hypothesisStates.push({ hypothesis_id: p.hypothesis_id, agent_id: agent, domain, status: p.status, status_time_us: e.timestamp, event_id: eventId })
      break
    }
    case 'knowledge_access': {
      const p = e.payload
      rows.add('knowledge', {
        window_start_us: w, item_id: p.knowledge_item_id, agent_id: agent, domain: p.domain ?? '', accesses: 1,
        found: p.found ? 1 : 0, items_retrieved: p.items_retrieved,
      })
      break
    }
    case 'memory_tier_access': {
      const p = e.payload
      for (const t of p.tier_latencies) {
        const ms = latencyOf(t.latency_ms, e)
        rows.add('memory', {
          window_start_us: w, tier: t.tier, accesses: 1, hits: t.hit ? 1 : 0, misses: t.hit ? 0 : 1,
          ...(ms !== null ? { latency_count: 1, latency_sum_ms: decimalOf(ms) } : {}),
        })
        if (ms !== null) observe('memory_tier', '', t.tier, ms)
      }
      if (p.tier_served !== null) rows.add('memory', { window_start_us: w, tier: p.tier_served, served: 1 })
      break
    }
    default:
      break
  }
  const answeredLlm = e.event_type === 'llm_call_completed' && isAnsweredCall(e.payload, succeeded(e, e.payload.success, e.payload.error_type))
  addSignalRows(enriched, w, agent, cost, rows, answeredLlm)

  const activity: ActivityUpdate[] = agent === '' ? [] : [{
    agent_id: agent, first_seen_us: e.timestamp, last_seen_us: e.timestamp, last_event_type: e.event_type, last_event_id: eventId,
    events: 1, executions_in_flight: executionsInFlight, llm_calls_in_flight: llmInFlight,
  }]
  return {
    event_id: eventId, event_type: e.event_type, event_time_us: e.timestamp, window_start_us: w, late: false,
    rows: rows.rows(), activity, hypothesis_states: hypothesisStates, observations,
  }
}

/**
 * Whether a completed LLM call was answered: it succeeded, or its producer reported usage for it
 * (input or output tokens, or a reported cost). See the module doc for the source of the rule.
 */
export function isAnsweredCall(p: AgentEventOf<'llm_call_completed'>['payload'], ok: boolean): boolean {
  return ok || p.input_tokens > 0 || p.output_tokens > 0 || p.reported_cost_usd !== null
}

function llmCompleted(
  e: AgentEventOf<'llm_call_completed'>, w: number, agent: string, user: string, cost: string | undefined, priced: number,
  rows: RowAccumulator, observe: (m: LatencyMetric, a: string, d: string, ms: number) => void,
): void {
  const p = e.payload
  const ok = succeeded(e, p.success, p.error_type)
  if (!isAnsweredCall(p, ok)) {
    const errorType = p.error_type ?? e.performance?.error_type ?? 'unknown'
    rows.add('agent', { window_start_us: w, agent_id: agent, llm_failed_attempts: 1, errors: 1 })
    rows.add('llm_failure', { window_start_us: w, agent_id: agent, model: p.model, user_id: user, error_type: errorType, attempts: 1 })
    if (user !== '') rows.add('user', { window_start_us: w, user_id: user, agent_id: agent, llm_failed_attempts: 1 })
    return
  }
  const ms = latencyOf(p.latency_ms, e)
  const latency = ms !== null ? { latency_count: 1, latency_sum_ms: decimalOf(ms) } : {}
  rows.add('agent', {
    window_start_us: w, agent_id: agent, llm_calls_succeeded: ok ? 1 : 0, llm_calls_failed: ok ? 0 : 1, errors: ok ? 0 : 1,
    input_tokens: p.input_tokens, output_tokens: p.output_tokens,
    ...(ms !== null ? { llm_latency_count: 1, llm_latency_sum_ms: decimalOf(ms) } : {}),
  })
  rows.add('llm', {
    window_start_us: w, agent_id: agent, model: p.model, user_id: user, status: statusOf(ok), calls: 1,
    input_tokens: p.input_tokens, output_tokens: p.output_tokens, cached_input_tokens: p.cached_input_tokens ?? 0,
    reasoning_tokens: p.reasoning_tokens ?? 0, cost_usd: cost, priced_calls: priced, ...latency,
  })
  if (user !== '') rows.add('user', { window_start_us: w, user_id: user, agent_id: agent, llm_calls: 1, input_tokens: p.input_tokens, output_tokens: p.output_tokens })
  if (ms !== null) observe('llm', agent, p.model, ms)
}

/**
 * The processor transform the runner calls: the event's delta, or a dead letter when the event
 * cannot be stored (an `event_id` that is not a UUID, the key of agg_seen_events; enrichment
 * already rejects those, so this only guards the sink against a poison record).
 */
export function createAggregationTransform(windowMs = DEFAULT_WINDOW_MS): (enriched: EnrichedAgentEvent) => Outcome<RollupDelta> {
  return (enriched) => {
    const e = enriched.event
    if (!UUID.test(e.event_id)) return deadLetter('VALIDATION_FAILED', `event_id must be a UUID, got '${e.event_id}'`)
    if (!Number.isSafeInteger(e.timestamp)) return deadLetter('VALIDATION_FAILED', `timestamp must be integer epoch µs, got ${e.timestamp}`)
    return emit({ key: e.event_id, value: toRollupDelta(enriched, windowMs) })
  }
}
