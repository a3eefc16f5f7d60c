/**
 * Validation of decoded AgentEvents (CONTRACTS.md section 2). Avro already guarantees types and
 * required fields; these are the semantic rules Avro cannot express. An event with any
 * violation is dead-lettered as `VALIDATION_FAILED`, the messages joined in `auren.dlq.message`,
 * so each message names the field, the rule and the offending value.
 *
 * Data-quality notes that must NOT reject real data live in {@link qualityWarnings}: a failed
 * call without `error_type` is still a failure worth seeing (critical tier), and the recorded
 * runs the replay feeds us (ChatDev, Who&When) contain failures whose class is unknown.
 */
import type { AgentEvent } from './agent-event.ts'

/** One broken rule. `rule` is a stable label (also a metric label); `message` is for humans. */
export interface Violation {
  /** Dotted path of the field, e.g. `payload.input_tokens`. */
  readonly field: string
  /** Rule id: one of the keys of RULES. */
  readonly rule: ValidationRule
  /** e.g. "payload.input_tokens must be >= 0, got -5". */
  readonly message: string
}

/** Rule ids, bounded (safe as a metric label). */
export type ValidationRule =
  | 'uuid'
  | 'required'
  | 'non_negative'
  | 'unit_interval'
  | 'future_timestamp'
  | 'timestamp_unit'
  | 'token_breakdown'
  | 'failure_without_error_type'
  | 'error_type_on_success'

/** Options of {@link validateEvent}. */
export interface ValidateOptions {
  /** Processing clock, epoch ms. */
  readonly nowMs: number
  /** Max distance an event's timestamp may be ahead of nowMs, ms (config, default 24 h). */
  readonly maxFutureSkewMs: number
}

/** Any RFC 9562 layout (8-4-4-4-12 hex): replays derive v5 ids, SDKs send v4 or v7. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const NIL_UUID = '00000000-0000-0000-0000-000000000000'
/**
 * 2000-01-01T00:00:00Z in µs. A smaller timestamp is almost surely seconds or milliseconds sent
 * as microseconds (1.7e12 ms read as µs is January 1970), a common producer bug.
 */
export const MIN_TIMESTAMP_MICROS = 946_684_800_000_000

type Sink = Violation[]

function add(out: Sink, field: string, rule: ValidationRule, message: string): void {
  out.push({ field, rule, message })
}

function show(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : String(value)
}

/** null/undefined pass; anything else must be a finite number >= 0. */
function nonNegative(out: Sink, field: string, value: number | null | undefined): void {
  if (value === null || value === undefined) return
  if (!Number.isFinite(value) || value < 0) add(out, field, 'non_negative', `${field} must be a finite number >= 0, got ${show(value)}`)
}

/** null/undefined pass; anything else must lie in [0, 1]. */
function unitInterval(out: Sink, field: string, value: number | null | undefined): void {
  if (value === null || value === undefined) return
  if (!(value >= 0 && value <= 1)) add(out, field, 'unit_interval', `${field} must be within [0, 1], got ${show(value)}`)
}

function nonEmpty(out: Sink, field: string, value: string | null | undefined, why: string): void {
  if (typeof value !== 'string' || value.trim() === '') add(out, field, 'required', `${field} must be a non-empty string ${why}, got ${show(value)}`)
}

function validateCommon(e: AgentEvent, opts: ValidateOptions, out: Sink): void {
  if (typeof e.event_id !== 'string' || !UUID.test(e.event_id) || e.event_id === NIL_UUID) {
    add(out, 'event_id', 'uuid', `event_id must be a non-nil UUID (8-4-4-4-12 hex), got ${show(e.event_id)}`)
  }
  nonEmpty(out, 'trace_id', e.trace_id, '(it is the Kafka key)')
  const ts = e.timestamp
  if (!Number.isSafeInteger(ts) || ts < MIN_TIMESTAMP_MICROS) {
    add(out, 'timestamp', 'timestamp_unit', `timestamp must be epoch microseconds >= ${MIN_TIMESTAMP_MICROS} (2000-01-01), got ${show(ts)}; seconds or milliseconds?`)
  } else {
    const aheadMs = ts / 1000 - opts.nowMs
    if (aheadMs > opts.maxFutureSkewMs) {
      const iso = new Date(ts / 1000).toISOString()
      add(out, 'timestamp', 'future_timestamp', `timestamp ${ts} (${iso}) is ${Math.round(aheadMs)} ms ahead of the processing clock (${new Date(opts.nowMs).toISOString()}); max future skew is ${opts.maxFutureSkewMs} ms`)
    }
  }
  if (e.source_agent) nonEmpty(out, 'source_agent.id', e.source_agent.id, '')
  const p = e.performance
  if (p) {
    nonNegative(out, 'performance.latency_ms', p.latency_ms)
    nonNegative(out, 'performance.memory_usage_mb', p.memory_usage_mb)
    nonNegative(out, 'performance.cpu_percent', p.cpu_percent)
    unitInterval(out, 'performance.confidence_score', p.confidence_score)
  }
}

function validatePayload(e: AgentEvent, out: Sink): void {
  switch (e.event_type) {
    case 'agent_execution_started':
    case 'agent_execution_completed':
      nonNegative(out, 'payload.latency_ms', e.payload.latency_ms)
      nonNegative(out, 'payload.output_length', e.payload.output_length)
      return
    case 'llm_call_started':
    case 'llm_call_completed': {
      const p = e.payload
      nonEmpty(out, 'payload.model', p.model, `for ${e.event_type}`)
      if (!e.source_agent) add(out, 'source_agent', 'required', `source_agent is required for ${e.event_type}, got null`)
      nonNegative(out, 'payload.input_tokens', p.input_tokens)
      nonNegative(out, 'payload.output_tokens', p.output_tokens)
      nonNegative(out, 'payload.cached_input_tokens', p.cached_input_tokens)
      nonNegative(out, 'payload.reasoning_tokens', p.reasoning_tokens)
      nonNegative(out, 'payload.reported_cost_usd', p.reported_cost_usd)
      nonNegative(out, 'payload.latency_ms', p.latency_ms)
      // The schema defines both as parts of the totals; the pricing library rejects the opposite.
      if (p.cached_input_tokens !== null && p.cached_input_tokens > p.input_tokens) {
        add(out, 'payload.cached_input_tokens', 'token_breakdown', `payload.cached_input_tokens (${p.cached_input_tokens}) must be <= payload.input_tokens (${p.input_tokens}), it is a part of them`)
      }
      if (p.reasoning_tokens !== null && p.reasoning_tokens > p.output_tokens) {
        add(out, 'payload.reasoning_tokens', 'token_breakdown', `payload.reasoning_tokens (${p.reasoning_tokens}) must be <= payload.output_tokens (${p.output_tokens}), it is a part of them`)
      }
      return
    }
    case 'tool_usage_started':
    case 'tool_usage_completed':
      nonEmpty(out, 'payload.tool_name', e.payload.tool_name, `for ${e.event_type}`)
      nonNegative(out, 'payload.input_size_bytes', e.payload.input_size_bytes)
      nonNegative(out, 'payload.output_size_bytes', e.payload.output_size_bytes)
      nonNegative(out, 'payload.execution_time_ms', e.payload.execution_time_ms)
      return
    case 'agent_collaboration':
      for (const [agent, c] of Object.entries(e.payload.confidence_by_agent)) unitInterval(out, `payload.confidence_by_agent.${agent}`, c)
      nonNegative(out, 'payload.resolution_time_ms', e.payload.resolution_time_ms)
      nonNegative(out, 'payload.knowledge_items_shared', e.payload.knowledge_items_shared)
      return
    case 'agent_decision':
      unitInterval(out, 'payload.confidence', e.payload.confidence)
      return
    case 'hypothesis_formed':
    case 'hypothesis_validated':
      unitInterval(out, 'payload.confidence', e.payload.confidence)
      nonNegative(out, 'payload.evidence_count', e.payload.evidence_count)
      return
    case 'knowledge_access':
      nonNegative(out, 'payload.items_retrieved', e.payload.items_retrieved)
      return
    case 'memory_tier_access':
      e.payload.tier_latencies.forEach((t, i) => nonNegative(out, `payload.tier_latencies[${i}].latency_ms`, t.latency_ms))
      nonNegative(out, 'payload.items_retrieved', e.payload.items_retrieved)
      return
    case 'memory_operation':
      unitInterval(out, 'payload.confidence', e.payload.confidence)
      return
    case 'conversation_turn':
      nonNegative(out, 'payload.turn_index', e.payload.turn_index)
      nonNegative(out, 'payload.message_size_bytes', e.payload.message_size_bytes)
      return
    default:
      return // agent_handoff, biometric_analysis, system_health, performance_metric: Avro suffices
  }
}

/**
 * Semantic validation. Rejects negative counts, sizes, latencies and costs; an LLM call without
 * model or source agent; a tool call without tool name; a timestamp that is not plausible
 * epoch µs or is more than `maxFutureSkewMs` ahead of `nowMs`; an event_id that is not a UUID;
 * an empty trace_id; a confidence outside [0, 1]; token parts larger than their totals.
 * @returns every violation found, in field order; empty means valid.
 */
export function validateEvent(event: AgentEvent, opts: ValidateOptions): Violation[] {
  const out: Sink = []
  validateCommon(event, opts, out)
  validatePayload(event, out)
  return out
}

/**
 * Non-rejecting data-quality notes, counted in a metric and logged at debug: `success` false
 * with no `error_type` (payload or performance), or an `error_type` on a success. The event is
 * still enriched and emitted (a failure stays critical-tier whether or not its class is known).
 */
export function qualityWarnings(event: AgentEvent): Violation[] {
  const out: Sink = []
  const p = event.payload as { success?: boolean | null; error_type?: string | null }
  if ('success' in p) checkOutcome(out, 'payload', p.success, p.error_type)
  if (event.performance) checkOutcome(out, 'performance', event.performance.success, event.performance.error_type)
  return out
}

/** The two rules of {@link qualityWarnings} on one success/error_type pair (a module function, not a closure per event). */
function checkOutcome(out: Sink, prefix: string, success: boolean | null | undefined, errorType: string | null | undefined): void {
  const hasError = typeof errorType === 'string' && errorType.trim() !== ''
  if (success === false && !hasError) add(out, `${prefix}.error_type`, 'failure_without_error_type', `${prefix}.success is false but ${prefix}.error_type is not set`)
  if (success === true && hasError) add(out, `${prefix}.error_type`, 'error_type_on_success', `${prefix}.error_type is '${errorType}' but ${prefix}.success is true`)
}
