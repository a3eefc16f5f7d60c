import { describe, expect, it } from 'vitest'
import { summarize } from '../../../scripts/demo/summary.ts'
import type { EnrichedAgentEvent } from '../../../schemas/index.ts'
import { llmCallEvent } from '../../helpers/events.ts'

const enriched = (e: ReturnType<typeof llmCallEvent>, cost: number): EnrichedAgentEvent => ({
  event: e,
  tier: 'operational',
  cost_usd: cost,
  cost_source: 'computed',
  pricing_ref: 'test',
  agent_domain: null,
  tool_category: null,
  input_complexity: null,
  ingest_lag_ms: 0,
  enriched_at: 0,
})

describe('summarize', () => {
  it('sums tokens and cost per agent and counts a duplicated event_id once', () => {
    const a = llmCallEvent({ agent: 'Programmer', input: 100, output: 10 })
    const b = llmCallEvent({ agent: 'Programmer', input: 50, output: 5 })
    const c = llmCallEvent({ agent: 'Code Reviewer', input: 7, output: 3 })
    const s = summarize(5, [enriched(a, 0.5), enriched(b, 0.25), enriched(a, 0.5), enriched(c, 0.125)], ['VALIDATION_FAILED'])
    expect(s.enriched).toBe(3)
    expect(s.dead_lettered).toEqual({ VALIDATION_FAILED: 1 })
    expect(s.duplicates_skipped).toBe(1)
    expect(s.agents.Programmer).toEqual({ llm_calls: 2, llm_calls_failed: 0, llm_failed_attempts: 0, llm_failed_attempts_by_error_type: {}, input_tokens: 150, output_tokens: 15, cost_usd: 0.75 })
    expect(s.agents['Code Reviewer']!.input_tokens).toBe(7)
  })

  it('counts answered calls as LLM calls and rate-limit retries apart; unknown tokens and cost are null', () => {
    const ok = llmCallEvent({ agent: 'Programmer', input: 100, output: 10 })
    const retry = llmCallEvent({ agent: 'Programmer', input: 0, output: 0 })
    retry.payload = { ...retry.payload, success: false, error_type: 'rate_limit_exceeded' }
    const turn = { ...llmCallEvent({ agent: 'WebSurfer', input: 0, output: 0 }), event_type: 'conversation_turn', payload: { conversation_id: 'c', turn_index: 0, message_size_bytes: 10 } } as unknown as ReturnType<typeof llmCallEvent>
    const s = summarize(3, [enriched(ok, 0.0507), { ...enriched(retry, 0), cost_usd: null, cost_source: null }, { ...enriched(turn, 0), cost_usd: null, cost_source: null }], [])
    expect(s.agents.Programmer).toEqual({ llm_calls: 1, llm_calls_failed: 0, llm_failed_attempts: 1, llm_failed_attempts_by_error_type: { rate_limit_exceeded: 1 }, input_tokens: 100, output_tokens: 10, cost_usd: 0.0507 })
    expect(s.agents.WebSurfer).toEqual({ llm_calls: null, llm_calls_failed: null, llm_failed_attempts: null, llm_failed_attempts_by_error_type: {}, input_tokens: null, output_tokens: null, cost_usd: null })
  })
})
