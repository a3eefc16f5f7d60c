import { describe, expect, it } from 'vitest'
import type { AgentEvent } from '../../../schemas/index.ts'
import { qualityWarnings, validateEvent } from '../../../schemas/validate-event.ts'

const NOW = 1_700_000_000_000
const opts = { nowMs: NOW, maxFutureSkewMs: 86_400_000 }

function event(eventType: AgentEvent['event_type'], payload: unknown, extra: Partial<AgentEvent> = {}): AgentEvent {
  return {
    event_id: '0b7f1c52-2d7e-4c55-8f8e-2b6a0f6d9a11', trace_id: 't', session_id: null, parent_event_id: null,
    timestamp: NOW * 1000, event_type: eventType, source_agent: { id: 'a', role: 'a', domain: null }, target_agent: null,
    user_id: null, source: 'test', payload, performance: null, attributes: {}, ...extra,
  } as AgentEvent
}
const llm = (p: Record<string, unknown> = {}, extra: Partial<AgentEvent> = {}) => event('llm_call_completed', {
  model: 'gpt-4', provider: 'openai', input_tokens: 10, output_tokens: 5, cached_input_tokens: null, reasoning_tokens: null,
  reported_cost_usd: null, latency_ms: 10, success: true, error_type: null, purpose: null, ...p,
}, extra)
const tool = (p: Record<string, unknown> = {}) => event('tool_usage_completed', {
  tool_name: 'git', input_size_bytes: 1, output_size_bytes: 1, execution_time_ms: 1, success: true, error_type: null, ...p,
})
const messages = (e: AgentEvent, o = opts) => validateEvent(e, o).map((v) => v.message)

describe('validateEvent', () => {
  it('accepts a valid event (any UUID version, upper case too)', () => {
    expect(validateEvent(llm(), opts)).toEqual([])
    expect(validateEvent(llm({}, { event_id: '0190A5F2-7C3B-7D4E-8F00-123456789ABC' }), opts)).toEqual([])
  })

  it.each([
    ['input_tokens', -5, 'payload.input_tokens must be a finite number >= 0, got -5'],
    ['output_tokens', -1, 'payload.output_tokens must be a finite number >= 0, got -1'],
    ['reported_cost_usd', -0.01, 'payload.reported_cost_usd must be a finite number >= 0, got -0.01'],
    ['latency_ms', Number.NaN, 'payload.latency_ms must be a finite number >= 0, got NaN'],
  ])('rejects LLM %s = %s', (field, value, message) => {
    expect(validateEvent(llm({ [field]: value }), opts)).toEqual([{ field: `payload.${field}`, rule: 'non_negative', message }])
  })

  it('rejects negative sizes and times of tools, executions, memory tiers and performance', () => {
    expect(messages(tool({ input_size_bytes: -1, execution_time_ms: -3 }))).toEqual([
      'payload.input_size_bytes must be a finite number >= 0, got -1',
      'payload.execution_time_ms must be a finite number >= 0, got -3',
    ])
    expect(messages(llm({}, { performance: { latency_ms: -2, success: true, error_type: null, confidence_score: null, memory_usage_mb: null, cpu_percent: null } }))).toEqual([
      'performance.latency_ms must be a finite number >= 0, got -2',
    ])
    const mem = event('memory_tier_access', { tier_served: null, tier_latencies: [{ tier: 'redis_immediate', latency_ms: -1, hit: false }], items_retrieved: 0, query_hash: null })
    expect(messages(mem)).toEqual(['payload.tier_latencies[0].latency_ms must be a finite number >= 0, got -1'])
  })

  it('requires a model and a source agent on LLM calls, and a tool name on tool calls', () => {
    expect(validateEvent(llm({ model: '  ' }), opts)).toEqual([{ field: 'payload.model', rule: 'required', message: "payload.model must be a non-empty string for llm_call_completed, got '  '" }])
    expect(validateEvent(llm({}, { source_agent: null }), opts)).toEqual([{ field: 'source_agent', rule: 'required', message: 'source_agent is required for llm_call_completed, got null' }])
    expect(validateEvent({ ...llm({}, { source_agent: null }), event_type: 'llm_call_started' } as AgentEvent, opts)[0]?.field).toBe('source_agent')
    expect(validateEvent(tool({ tool_name: '' }), opts)[0]?.field).toBe('payload.tool_name')
    // other events may have no source agent (system_health from infrastructure)
    expect(validateEvent(event('system_health', { component: 'redis', status: 'healthy', details: {} }, { source_agent: null }), opts)).toEqual([])
  })

  it('rejects timestamps beyond the configured future skew, not within it', () => {
    const ahead = (ms: number) => llm({}, { timestamp: (NOW + ms) * 1000 })
    expect(validateEvent(ahead(86_400_000), opts)).toEqual([])
    expect(validateEvent(ahead(86_400_001), opts)[0]?.rule).toBe('future_timestamp')
    expect(validateEvent(ahead(60_001), { nowMs: NOW, maxFutureSkewMs: 60_000 })[0]?.message).toBe(
      'timestamp 1700000060001000 (2023-11-14T22:14:20.001Z) is 60001 ms ahead of the processing clock (2023-11-14T22:13:20.000Z); max future skew is 60000 ms',
    )
    // old events (replays of 2023 runs) are fine
    expect(validateEvent(llm({}, { timestamp: 1_695_035_133_000_000 }), opts)).toEqual([])
  })

  it('rejects timestamps that are not epoch microseconds', () => {
    expect(validateEvent(llm({}, { timestamp: 1_695_035_133_000 }), opts)[0]?.rule).toBe('timestamp_unit')
    expect(validateEvent(llm({}, { timestamp: 1.5e15 + 0.5 }), opts)[0]?.rule).toBe('timestamp_unit')
  })

  it('rejects ids that are not UUIDs and empty trace ids', () => {
    expect(validateEvent(llm({}, { event_id: 'evt-1' }), opts)).toEqual([{ field: 'event_id', rule: 'uuid', message: "event_id must be a non-nil UUID (8-4-4-4-12 hex), got 'evt-1'" }])
    expect(validateEvent(llm({}, { event_id: '00000000-0000-0000-0000-000000000000' }), opts)[0]?.rule).toBe('uuid')
    expect(validateEvent(llm({}, { trace_id: '' }), opts)[0]?.field).toBe('trace_id')
  })

  it('rejects confidences outside [0, 1] wherever they appear', () => {
    const decision = event('agent_decision', { decision: 'x', category: null, confidence: -0.1, urgency: null, reasoning_steps: [] })
    expect(messages(decision)).toEqual(['payload.confidence must be within [0, 1], got -0.1'])
    const collab = event('agent_collaboration', { primary_agent: 'a', collaborating_agents: ['b'], collaboration_type: 'consensus', consensus_reached: true, confidence_by_agent: { a: 0.9, b: 1.01 }, resolution_time_ms: null, knowledge_items_shared: 0 })
    expect(messages(collab)).toEqual(['payload.confidence_by_agent.b must be within [0, 1], got 1.01'])
    const hyp = event('hypothesis_formed', { hypothesis_id: 'h', statement: 's', domain: null, confidence: 1, status: 'formed', evidence_count: 0 })
    expect(validateEvent(hyp, opts)).toEqual([])
    expect(messages(llm({}, { performance: { latency_ms: 1, success: true, error_type: null, confidence_score: 2, memory_usage_mb: null, cpu_percent: null } }))).toEqual([
      'performance.confidence_score must be within [0, 1], got 2',
    ])
  })

  it('rejects token parts larger than their totals', () => {
    expect(validateEvent(llm({ input_tokens: 10, cached_input_tokens: 11 }), opts)[0]?.rule).toBe('token_breakdown')
    expect(validateEvent(llm({ output_tokens: 5, reasoning_tokens: 6 }), opts)[0]?.rule).toBe('token_breakdown')
    expect(validateEvent(llm({ input_tokens: 10, cached_input_tokens: 10 }), opts)).toEqual([])
  })

  it('reports every violation, in field order', () => {
    const bad = llm({ model: '', input_tokens: -1 }, { event_id: 'x', trace_id: '', source_agent: null })
    expect(validateEvent(bad, opts).map((v) => v.field)).toEqual(['event_id', 'trace_id', 'payload.model', 'source_agent', 'payload.input_tokens'])
  })
})

describe('qualityWarnings', () => {
  it('notes a failure without error_type but does not reject it', () => {
    const failed = llm({ success: false, error_type: null })
    expect(validateEvent(failed, opts)).toEqual([])
    expect(qualityWarnings(failed)).toEqual([{ field: 'payload.error_type', rule: 'failure_without_error_type', message: 'payload.success is false but payload.error_type is not set' }])
  })

  it('is silent for a failure with its error_type (ChatDev rate limits) and for successes', () => {
    expect(qualityWarnings(llm({ success: false, error_type: 'rate_limit_exceeded' }))).toEqual([])
    expect(qualityWarnings(llm())).toEqual([])
  })

  it('notes an error_type on a success, in the performance block too', () => {
    const e = llm({}, { performance: { latency_ms: 1, success: true, error_type: 'timeout', confidence_score: null, memory_usage_mb: null, cpu_percent: null } })
    expect(qualityWarnings(e).map((w) => w.rule)).toEqual(['error_type_on_success'])
  })
})
