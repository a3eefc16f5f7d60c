/**
 * The domain shape of events: the generated Avro records with the payload union unwrapped and
 * typed by `event_type`, and the conversions to and from the shape avsc encodes and decodes.
 */
import type * as gen from './generated/types.ts'

/** Event type symbols (CONTRACTS.md section 2). */
export type AgentEventType = gen.AgentEventType
export { AGENT_EVENT_TYPE_SYMBOLS as AGENT_EVENT_TYPES } from './generated/types.ts'

/** Payload record of each event type. */
export interface PayloadByType {
  agent_execution_started: gen.AgentExecutionPayload
  agent_execution_completed: gen.AgentExecutionPayload
  llm_call_started: gen.LlmCallPayload
  llm_call_completed: gen.LlmCallPayload
  tool_usage_started: gen.ToolUsagePayload
  tool_usage_completed: gen.ToolUsagePayload
  agent_collaboration: gen.CollaborationPayload
  agent_handoff: gen.HandoffPayload
  agent_decision: gen.DecisionPayload
  hypothesis_formed: gen.HypothesisPayload
  hypothesis_validated: gen.HypothesisPayload
  knowledge_access: gen.KnowledgeAccessPayload
  memory_tier_access: gen.MemoryTierAccessPayload
  memory_operation: gen.MemoryOperationPayload
  biometric_analysis: gen.BiometricAnalysisPayload
  conversation_turn: gen.ConversationTurnPayload
  system_health: gen.SystemHealthPayload
  performance_metric: gen.PerformanceMetricPayload
}

/** Avro full name of the payload branch of each event type: the union wrapper key. */
export const PAYLOAD_RECORD = Object.freeze({
  agent_execution_started: 'auren.events.AgentExecutionPayload',
  agent_execution_completed: 'auren.events.AgentExecutionPayload',
  llm_call_started: 'auren.events.LlmCallPayload',
  llm_call_completed: 'auren.events.LlmCallPayload',
  tool_usage_started: 'auren.events.ToolUsagePayload',
  tool_usage_completed: 'auren.events.ToolUsagePayload',
  agent_collaboration: 'auren.events.CollaborationPayload',
  agent_handoff: 'auren.events.HandoffPayload',
  agent_decision: 'auren.events.DecisionPayload',
  hypothesis_formed: 'auren.events.HypothesisPayload',
  hypothesis_validated: 'auren.events.HypothesisPayload',
  knowledge_access: 'auren.events.KnowledgeAccessPayload',
  memory_tier_access: 'auren.events.MemoryTierAccessPayload',
  memory_operation: 'auren.events.MemoryOperationPayload',
  biometric_analysis: 'auren.events.BiometricAnalysisPayload',
  conversation_turn: 'auren.events.ConversationTurnPayload',
  system_health: 'auren.events.SystemHealthPayload',
  performance_metric: 'auren.events.PerformanceMetricPayload',
} as const satisfies { readonly [T in AgentEventType]: string })

type CommonFields = Omit<gen.AgentEvent, 'event_type' | 'payload'>

/** An event of one type, its payload unwrapped. `timestamp` is UTC epoch microseconds. */
export type AgentEventOf<T extends AgentEventType> = CommonFields & { event_type: T; payload: PayloadByType[T] }

/** An agent event as processors see it: discriminated by `event_type`. */
export type AgentEvent = { [T in AgentEventType]: AgentEventOf<T> }[AgentEventType]

/** An enriched event as processors see it: `event` is the unwrapped AgentEvent. */
export type EnrichedAgentEvent = Omit<gen.EnrichedAgentEvent, 'event'> & { event: AgentEvent }

/** The Avro wire shapes (payload union wrapped), as avsc encodes and decodes them. */
export type AgentEventRecord = gen.AgentEvent
export type EnrichedAgentEventRecord = gen.EnrichedAgentEvent

/** Thrown by the conversions when payload and event_type disagree. */
export class PayloadMismatchError extends Error {
  override readonly name = 'PayloadMismatchError'
}

/**
 * Wraps the payload for Avro encoding.
 * @throws PayloadMismatchError when event_type is not a known type.
 */
export function toAgentEventRecord(event: AgentEvent): AgentEventRecord {
  const branch = PAYLOAD_RECORD[event.event_type]
  if (!branch) throw new PayloadMismatchError(`unknown event_type '${String(event.event_type)}'`)
  return { ...event, payload: { [branch]: event.payload } } as unknown as AgentEventRecord
}

/**
 * Unwraps a decoded record's payload.
 * @throws PayloadMismatchError when the payload branch is not the one event_type requires
 *   (a producer bug; the runner dead-letters it as VALIDATION_FAILED).
 */
export function fromAgentEventRecord(record: AgentEventRecord): AgentEvent {
  const expected = PAYLOAD_RECORD[record.event_type]
  const [branch] = Object.keys(record.payload)
  if (branch !== expected) {
    throw new PayloadMismatchError(`event_type ${record.event_type} needs payload ${expected}, got ${String(branch)}`)
  }
  const payload = (record.payload as Record<string, unknown>)[branch]
  return { ...record, payload } as unknown as AgentEvent
}

/** Wraps the nested event's payload for Avro encoding. */
export function toEnrichedRecord(enriched: EnrichedAgentEvent): EnrichedAgentEventRecord {
  return { ...enriched, event: toAgentEventRecord(enriched.event) }
}

/** Unwraps the nested event's payload. @throws PayloadMismatchError as fromAgentEventRecord. */
export function fromEnrichedRecord(record: EnrichedAgentEventRecord): EnrichedAgentEvent {
  return { ...record, event: fromAgentEventRecord(record.event) }
}
