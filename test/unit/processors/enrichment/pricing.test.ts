import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { AgentEventOf } from '../../../../schemas/index.ts'
import { GENAI_PRICES_VERSION, priceEvent, priceLlmCall, priceToolCall } from '../../../../processors/enrichment/pricing.ts'

/** 2023-10-22T15:41:33Z, a ChatDev run with per-call cost lines. */
const TS = 1_697_989_293_000_000

function llm(payload: Partial<AgentEventOf<'llm_call_completed'>['payload']>): AgentEventOf<'llm_call_completed'> {
  return {
    event_id: '0b7f1c52-2d7e-4c55-8f8e-2b6a0f6d9a11', trace_id: 't', session_id: null, parent_event_id: null, timestamp: TS,
    event_type: 'llm_call_completed', source_agent: { id: 'Programmer', role: 'Programmer', domain: null }, target_agent: null,
    user_id: null, source: 'chatdev', performance: null, attributes: {},
    payload: {
      model: 'gpt-3.5-turbo-16k-0613', provider: 'openai', input_tokens: 1000, output_tokens: 1000, cached_input_tokens: null,
      reasoning_tokens: null, reported_cost_usd: null, latency_ms: null, success: true, error_type: null, purpose: null, ...payload,
    },
  }
}

describe('pricing: LLM calls', () => {
  it('prices a failed call only when its producer reported usage for it', () => {
    const retry = priceLlmCall(llm({ input_tokens: 0, output_tokens: 0, success: false, error_type: 'rate_limit_exceeded' }))
    expect(retry).toEqual({ cost_usd: null, cost_source: null, pricing_ref: 'not priced: failed call without reported usage' })
    const withUsage = priceLlmCall(llm({ input_tokens: 1668, output_tokens: 0, success: false, error_type: 'content_filter' }))
    expect(withUsage.cost_source).toBe('computed')
    expect(withUsage.cost_usd).toBeCloseTo(1668 * 0.003 / 1000, 12)
    const reported = priceLlmCall(llm({ input_tokens: 0, output_tokens: 0, success: false, reported_cost_usd: 0.01 }))
    expect(reported).toEqual({ cost_usd: 0.01, cost_source: 'reported', pricing_ref: 'reported by producer' })
  })

  it('states the failed-call rule and its source in the enrichment README', () => {
    const readme = readFileSync(join(import.meta.dirname, '../../../../processors/enrichment/README.md'), 'utf8')
    expect(readme).toMatch(/A failed call \(`success` false\) is priced only when its producer reported\s+usage/)
    expect(readme).toContain('https://platform.openai.com/docs/guides/error-codes')
  })

  it('names the installed genai-prices version', () => {
    const entry = createRequire(import.meta.url).resolve('@pydantic/genai-prices')
    const pkg = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string }
    expect(GENAI_PRICES_VERSION).toBe(pkg.version)
  })

  it('prices ChatDev gpt-3.5-turbo-16k at $0.003 / $0.004 per 1K, as its per-call cost lines do', () => {
    // ChatDev FaceWall: prompt 441, completion 59, "cost: $0.001559"
    const cost = priceLlmCall(llm({ input_tokens: 441, output_tokens: 59 }))
    expect(cost).toEqual({ cost_usd: 0.001559, cost_source: 'computed', pricing_ref: `genai-prices@${GENAI_PRICES_VERSION} openai/gpt-3.5-turbo-16k` })
  })

  // Per 1K input + 1K output tokens, as genai-prices 0.1.8 answers (see README "Pricing sources").
  it.each([
    ['gpt-3.5-turbo-16k-0613', 'openai', 'openai/gpt-3.5-turbo-16k', 0.007],
    ['gpt-3.5-turbo-16k', 'openai', 'openai/gpt-3.5-turbo-16k', 0.007],
    ['gpt-4', 'openai', 'openai/gpt-4', 0.09],
    ['gpt-4-32k', 'openai', 'openai/gpt-4-32k', 0.18],
    ['gpt-4o', 'openai', 'openai/gpt-4o', 0.0125],
    ['gpt-4o-mini', 'openai', 'openai/gpt-4o-mini', 0.00075],
    ['claude-sonnet-4-5', 'anthropic', 'anthropic/claude-sonnet-4-5', 0.018],
    ['claude-3-5-haiku', 'anthropic', 'anthropic/claude-3-5-haiku-latest', 0.0048],
    ['gpt-4o-mini', null, 'openai/gpt-4o-mini', 0.00075],
    ['gpt-4', 'simulator', 'openai/gpt-4', 0.09],
  ])('%s (provider %s) → %s at %f USD', (model, provider, ref, usd) => {
    const cost = priceLlmCall(llm({ model, provider }))
    expect(cost.cost_source).toBe('computed')
    expect(cost.pricing_ref).toBe(`genai-prices@${GENAI_PRICES_VERSION} ${ref}`)
    expect(cost.cost_usd).toBe(usd)
  })

  it('prefers the producer-reported cost, even when the model is unknown', () => {
    expect(priceLlmCall(llm({ reported_cost_usd: 0.42, model: 'who-knows' }))).toEqual({ cost_usd: 0.42, cost_source: 'reported', pricing_ref: 'reported by producer' })
    expect(priceLlmCall(llm({ reported_cost_usd: 0 }))).toEqual({ cost_usd: 0, cost_source: 'reported', pricing_ref: 'reported by producer' })
  })

  it('never guesses an unknown model; a known provider without that model is unknown too', () => {
    expect(priceLlmCall(llm({ model: 'acme-7b', provider: null }))).toEqual({ cost_usd: null, cost_source: 'unknown_model', pricing_ref: `genai-prices@${GENAI_PRICES_VERSION} has no price for acme-7b` })
    expect(priceLlmCall(llm({ model: 'claude-sonnet-4-5', provider: 'openai' })).cost_source).toBe('unknown_model')
  })

  it('prices cached input tokens at the cache-read rate', () => {
    const full = priceLlmCall(llm({ model: 'gpt-4o', input_tokens: 10_000, output_tokens: 0 }))
    const cached = priceLlmCall(llm({ model: 'gpt-4o', input_tokens: 10_000, cached_input_tokens: 10_000, output_tokens: 0 }))
    expect(full.cost_usd).toBe(0.025)
    expect(cached.cost_usd).toBe(0.0125)
  })

  it('costs nothing known (null, not $0) for a failed call with no tokens, even on a known model', () => {
    expect(priceLlmCall(llm({ model: 'gpt-4', input_tokens: 0, output_tokens: 0, success: false, error_type: 'rate_limit_exceeded' }))).toMatchObject({ cost_usd: null, cost_source: null })
  })
})

describe('pricing: which events', () => {
  it('does not price llm_call_started or unpriced events', () => {
    const started = { ...llm({}), event_type: 'llm_call_started' } as AgentEventOf<'llm_call_started'>
    expect(priceEvent(started, { pricedTools: {} })).toEqual({ cost_usd: null, cost_source: null, pricing_ref: null })
  })

  it('prices configured tools per call, by normalized name', () => {
    const tool = {
      ...llm({}), event_type: 'tool_usage_completed',
      payload: { tool_name: 'Web Search', input_size_bytes: null, output_size_bytes: null, execution_time_ms: null, success: true, error_type: null },
    } as AgentEventOf<'tool_usage_completed'>
    expect(priceToolCall(tool, { pricedTools: { web_search: 0.01 } })).toEqual({ cost_usd: 0.01, cost_source: 'computed', pricing_ref: 'config AUREN_ENRICHMENT_PRICED_TOOLS web_search=0.01 USD/call' })
    expect(priceEvent(tool, { pricedTools: {} }).cost_usd).toBeNull()
  })
})
