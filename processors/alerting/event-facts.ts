/**
 * What the rule engine reads from an enriched event: its labels (the values rules select on and
 * group by), success, latency, cost and tokens. Pure; one function per question so that every
 * rule reads an event the same way.
 *
 * The alerting processor decodes its enriched events with {@link FACTS_FIELDS}, a reader-schema
 * projection of the fields read here and nothing else (schemas/projection.ts): ids, attributes,
 * the other payload fields are skipped, not decoded. {@link EnrichedEventView} is that shape; a
 * full EnrichedAgentEvent is one too.
 */
import type { AgentEventOf, AgentEventType, AgentRef, EnrichedAgentEvent, PayloadByType, PAYLOAD_RECORD, PerformanceMetrics } from '../../schemas/index.ts'
import type { FieldProjection } from '../../schemas/projection.ts'
import type { GroupLabel, Selector } from './rule-schema.ts'

/**
 * The fields of `enriched-agent-event` that {@link eventFacts}, the replay mark and the event-lag
 * observation read (the alerting input's projection). {@link EnrichedEventView} is derived from it.
 */
export const FACTS_FIELDS = Object.freeze({
  'auren.events.EnrichedAgentEvent': ['event', 'tier', 'cost_usd', 'ingest_lag_ms'],
  'auren.events.AgentEvent': ['timestamp', 'event_type', 'source_agent', 'user_id', 'source', 'payload', 'performance'],
  'auren.events.AgentRef': ['id'],
  'auren.events.PerformanceMetrics': ['latency_ms', 'success', 'error_type'],
  'auren.events.AgentExecutionPayload': ['latency_ms', 'success', 'error_type'],
  'auren.events.LlmCallPayload': ['model', 'input_tokens', 'output_tokens', 'latency_ms', 'success', 'error_type'],
  'auren.events.ToolUsagePayload': ['execution_time_ms', 'success', 'error_type'],
  'auren.events.SystemHealthPayload': ['component', 'status'],
  'auren.events.BiometricAnalysisPayload': ['metric', 'anomaly'],
  'auren.events.PerformanceMetricPayload': ['name'],
  // Read for the union branch only (it must match event_type).
  'auren.events.CollaborationPayload': [],
  'auren.events.HandoffPayload': [],
  'auren.events.DecisionPayload': [],
  'auren.events.HypothesisPayload': [],
  'auren.events.KnowledgeAccessPayload': [],
  'auren.events.MemoryTierAccessPayload': [],
  'auren.events.MemoryOperationPayload': [],
  'auren.events.ConversationTurnPayload': [],
} as const satisfies FieldProjection)

/** `T` with the fields {@link FACTS_FIELDS} keeps of record `R` (none for a record it does not list). */
type Kept<T, R> = Pick<T, (R extends keyof typeof FACTS_FIELDS ? (typeof FACTS_FIELDS)[R][number] : never) & keyof T>

type EventViewOf<T extends AgentEventType> = Omit<Kept<AgentEventOf<T>, 'auren.events.AgentEvent'>, 'source_agent' | 'performance' | 'payload'> & {
  source_agent: Kept<AgentRef, 'auren.events.AgentRef'> | null
  performance: Kept<PerformanceMetrics, 'auren.events.PerformanceMetrics'> | null
  payload: Kept<PayloadByType[T], (typeof PAYLOAD_RECORD)[T]>
}

/** An enriched event as decoded with {@link FACTS_FIELDS} (payload unwrapped); a full EnrichedAgentEvent is one too. */
export type EnrichedEventView = Omit<Kept<EnrichedAgentEvent, 'auren.events.EnrichedAgentEvent'>, 'event'> & { event: { [T in AgentEventType]: EventViewOf<T> }[AgentEventType] }

/** The facts of one event the engine uses. Absent values are null, never 0. */
export interface EventFacts {
  /** Event time, UTC epoch ms. */
  timeMs: number
  /** Label values (null when the event has none for that label). */
  labels: Readonly<Record<GroupLabel, string | null>>
  /** Whether the operation succeeded (payload's success, else performance.success); null when unknown. */
  success: boolean | null
  /** Latency of the operation in ms (LLM, tool, execution payloads, else performance.latency_ms); null when unknown. */
  latencyMs: number | null
  /** Cost in USD from enrichment; null when unpriced. */
  costUsd: number | null
  /** Input + output tokens of an LLM call; null for other events. */
  tokens: number | null
  /** system_health status, or null. */
  healthStatus: string | null
  /** biometric_analysis anomaly flag, or null. */
  anomaly: boolean | null
}

/** Reads the facts of an enriched event. */
export function eventFacts(enriched: EnrichedEventView): EventFacts {
  const e = enriched.event
  let model: string | null = null
  let success: boolean | null = e.performance?.success ?? null
  let latencyMs: number | null = e.performance?.latency_ms ?? null
  let errorType: string | null = e.performance?.error_type ?? null
  let tokens: number | null = null
  let component: string | null = null
  let metric: string | null = null
  let healthStatus: string | null = null
  let anomaly: boolean | null = null
  switch (e.event_type) {
    case 'llm_call_started':
    case 'llm_call_completed':
      model = e.payload.model
      success = e.payload.success
      latencyMs = e.payload.latency_ms ?? latencyMs
      errorType = e.payload.error_type ?? errorType
      tokens = e.payload.input_tokens + e.payload.output_tokens
      break
    case 'tool_usage_started':
    case 'tool_usage_completed':
      success = e.payload.success
      latencyMs = e.payload.execution_time_ms ?? latencyMs
      errorType = e.payload.error_type ?? errorType
      break
    case 'agent_execution_started':
    case 'agent_execution_completed':
      success = e.payload.success ?? success
      latencyMs = e.payload.latency_ms ?? latencyMs
      errorType = e.payload.error_type ?? errorType
      break
    case 'system_health':
      component = e.payload.component
      healthStatus = e.payload.status
      break
    case 'biometric_analysis':
      metric = e.payload.metric
      anomaly = e.payload.anomaly
      break
    case 'performance_metric':
      metric = e.payload.name
      break
    default:
      break
  }
  return {
    timeMs: Math.floor(e.timestamp / 1000),
    labels: {
      agent: e.source_agent?.id ?? null,
      model,
      user: e.user_id ?? null,
      event_type: e.event_type,
      tier: enriched.tier,
      source: e.source,
      component,
      metric,
      error_type: errorType,
    },
    success,
    latencyMs,
    costUsd: enriched.cost_usd ?? null,
    tokens,
    healthStatus,
    anomaly,
  }
}

function oneOf(list: readonly string[] | undefined, value: string | null): boolean {
  return list === undefined || (value !== null && list.includes(value))
}

/** Whether an event's facts match a selector: every field the selector gives must match. */
export function matches(selector: Selector, f: EventFacts): boolean {
  return (
    oneOf(selector.event_types, f.labels.event_type) &&
    oneOf(selector.agents, f.labels.agent) &&
    oneOf(selector.models, f.labels.model) &&
    oneOf(selector.users, f.labels.user) &&
    oneOf(selector.tiers, f.labels.tier) &&
    oneOf(selector.sources, f.labels.source) &&
    oneOf(selector.error_types, f.labels.error_type) &&
    oneOf(selector.health_status, f.healthStatus) &&
    (selector.success === undefined || f.success === selector.success) &&
    (selector.anomaly === undefined || f.anomaly === selector.anomaly)
  )
}
