/**
 * The rows one enriched event adds to the signal tables (schemas/rollup-tables.ts): decisions, memory
 * operations, biometrics, system health, conversation turns, performance metrics, and the cost
 * of its trace. Pure; called by transform.ts for every event.
 *
 * Rules: a confidence counts only when present and within 0..1 (CONTRACTS.md section 2 gives the
 * range); a value that is not finite is not summed (the sample still counts); a missing category,
 * urgency or agent is '' (as in every rollup key). The trace row is written for completed LLM
 * calls (tokens from `llm_call_completed` only, as in transform.ts) and for every event that
 * carries a cost, so a trace's cost equals the sum of its events' enriched `cost_usd`.
 */
import type { EnrichedAgentEvent } from '../../schemas/index.ts'
import { decimalOf } from './decimal.ts'
import type { RowAccumulator } from './rollup-delta.ts'

const confidenceOf = (c: number | null): { confidence_count: number; confidence_sum: string } | Record<string, never> =>
  c !== null && Number.isFinite(c) && c >= 0 && c <= 1 ? { confidence_count: 1, confidence_sum: decimalOf(c) } : {}

/**
 * Adds the event's signal rows to `rows`.
 * @param w the event's window start, epoch µs
 * @param agent the event's agent id ('' when none)
 * @param cost the enriched cost as a decimal string, undefined when none or 0
 * @param answeredLlmCall for llm_call_completed: whether the call was answered (a failed attempt with no answer counts as no LLM call of its trace)
 */
export function addSignalRows(enriched: EnrichedAgentEvent, w: number, agent: string, cost: string | undefined, rows: RowAccumulator, answeredLlmCall: boolean): void {
  const e = enriched.event
  const user = e.user_id ?? ''
  switch (e.event_type) {
    case 'agent_decision': {
      const p = e.payload
      rows.add('decision', {
        window_start_us: w, agent_id: agent, category: p.category ?? '', urgency: p.urgency ?? '', decisions: 1,
        reasoning_steps: p.reasoning_steps.length, ...confidenceOf(p.confidence),
      })
      break
    }
    case 'memory_operation': {
      const p = e.payload
      rows.add('memory_operation', {
        window_start_us: w, agent_id: agent, operation: p.operation, memory_type: p.memory_type, operations: 1, ...confidenceOf(p.confidence),
      })
      break
    }
    case 'biometric_analysis': {
      const p = e.payload
      rows.add('biometric', {
        window_start_us: w, user_id: user, metric: p.metric, unit: p.unit, samples: 1, anomalies: p.anomaly ? 1 : 0,
        ...(Number.isFinite(p.value) ? { value_sum: decimalOf(p.value) } : {}),
      })
      break
    }
    case 'system_health':
      rows.add('system_health', { window_start_us: w, component: e.payload.component, status: e.payload.status, reports: 1 })
      break
    case 'conversation_turn':
      rows.add('conversation', { window_start_us: w, agent_id: agent, turns: 1, message_bytes: e.payload.message_size_bytes })
      break
    case 'performance_metric': {
      const p = e.payload
      rows.add('performance_metric', {
        window_start_us: w, agent_id: agent, name: p.name, unit: p.unit, samples: 1, ...(Number.isFinite(p.value) ? { value_sum: decimalOf(p.value) } : {}),
      })
      break
    }
    default:
      break
  }
  // A failed attempt without an answer is no LLM call (the answered-call rule of transform.ts).
  const llm = e.event_type === 'llm_call_completed' && answeredLlmCall ? e.payload : null
  if (llm !== null || cost !== undefined) {
    rows.add('trace', {
      window_start_us: w, trace_id: e.trace_id, user_id: user, events: 1, cost_usd: cost,
      ...(llm !== null ? { llm_calls: 1, input_tokens: llm.input_tokens, output_tokens: llm.output_tokens } : {}),
    })
  }
}
