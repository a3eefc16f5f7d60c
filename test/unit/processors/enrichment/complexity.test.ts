import { describe, expect, it } from 'vitest'
import type { AgentEvent } from '../../../../schemas/index.ts'
import { DEFAULT_ENRICHMENT_CONFIG } from '../../../../processors/enrichment/config.ts'
import { classify, inputComplexity } from '../../../../processors/enrichment/complexity.ts'

const base = {
  event_id: '0b7f1c52-2d7e-4c55-8f8e-2b6a0f6d9a11', trace_id: 't', session_id: null, parent_event_id: null, timestamp: 1,
  source_agent: null, target_agent: null, user_id: null, source: 'test', performance: null, attributes: {},
}
const llm = (input_tokens: number) => ({
  ...base, event_type: 'llm_call_started',
  payload: { model: 'm', provider: null, input_tokens, output_tokens: 0, cached_input_tokens: null, reasoning_tokens: null, reported_cost_usd: null, latency_ms: null, success: true, error_type: null, purpose: null },
}) as AgentEvent
const tool = (input_size_bytes: number | null) => ({
  ...base, event_type: 'tool_usage_completed',
  payload: { tool_name: 't', input_size_bytes, output_size_bytes: null, execution_time_ms: null, success: true, error_type: null },
}) as AgentEvent

const opts = DEFAULT_ENRICHMENT_CONFIG.complexity

describe('input complexity', () => {
  it('classifies with inclusive lower bounds', () => {
    const t = { medium: 10, complex: 20 }
    expect([0, 9, 10, 19, 20, 1e9].map((n) => classify(n, t))).toEqual(['simple', 'simple', 'medium', 'medium', 'complex', 'complex'])
  })

  it('uses input tokens for LLM calls (defaults 1,000 and 4,096)', () => {
    expect([441, 999, 1000, 4095, 4096].map((n) => inputComplexity(llm(n), opts))).toEqual(['simple', 'simple', 'medium', 'medium', 'complex'])
  })

  it('uses input bytes for tool calls (defaults 1 KiB and 16 KiB), null when not measured', () => {
    expect([24, 1024, 16_383, 16_384].map((n) => inputComplexity(tool(n), opts))).toEqual(['simple', 'medium', 'medium', 'complex'])
    expect(inputComplexity(tool(null), opts)).toBeNull()
  })

  it('is null for other events', () => {
    const handoff = { ...base, event_type: 'agent_handoff', payload: { from_agent: 'a', to_agent: 'b', topic: null, reason: null } } as AgentEvent
    expect(inputComplexity(handoff, opts)).toBeNull()
  })
})
