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
    expect(s.agents.Programmer).toEqual({ llm_calls: 2, llm_calls_failed: 0, input_tokens: 150, output_tokens: 15, cost_usd: 0.75 })
    expect(s.agents['Code Reviewer']!.input_tokens).toBe(7)
  })
})
