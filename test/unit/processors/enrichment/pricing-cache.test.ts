import { calcPrice, findProvider } from '@pydantic/genai-prices'
import { describe, expect, it } from 'vitest'
import type { AgentEventOf } from '../../../../schemas/index.ts'
import { GENAI_PRICES_VERSION, LlmPricer, priceLlmCall, type CostFields } from '../../../../processors/enrichment/pricing.ts'

/** priceLlmCall as it was before LlmPricer: a full calcPrice lookup per call (the reference). */
function uncachedPrice(event: AgentEventOf<'llm_call_completed'>): CostFields {
  const p = event.payload
  if (p.reported_cost_usd !== null) return { cost_usd: p.reported_cost_usd, cost_source: 'reported', pricing_ref: 'reported by producer' }
  const providerId = p.provider?.trim() || undefined
  const providerKnown = providerId !== undefined && findProvider({ providerId }) !== undefined
  const usage = { input_tokens: p.input_tokens, output_tokens: p.output_tokens, ...(p.cached_input_tokens ? { cache_read_tokens: p.cached_input_tokens } : {}) }
  const timestamp = new Date(event.timestamp / 1000)
  const result = calcPrice(usage, p.model, providerKnown ? { providerId, timestamp } : { timestamp })
  const lib = `genai-prices@${GENAI_PRICES_VERSION}`
  if (result === null) return { cost_usd: null, cost_source: 'unknown_model', pricing_ref: `${lib} has no price for ${providerId === undefined ? p.model : `${providerId}/${p.model}`}` }
  return { cost_usd: Math.round(result.total_price * 1e12) / 1e12, cost_source: 'computed', pricing_ref: `${lib} ${result.provider.id}/${result.model.id}` }
}

function llm(model: string, provider: string | null, timestampMs: number, usage: { input: number; output: number; cached?: number }): AgentEventOf<'llm_call_completed'> {
  return {
    event_id: '0b7f1c52-2d7e-4c55-8f8e-2b6a0f6d9a11', trace_id: 't', session_id: null, parent_event_id: null, timestamp: timestampMs * 1000,
    event_type: 'llm_call_completed', source_agent: { id: 'a', role: 'a', domain: null }, target_agent: null, user_id: null, source: 'test',
    performance: null, attributes: {},
    payload: {
      model, provider, input_tokens: usage.input, output_tokens: usage.output, cached_input_tokens: usage.cached ?? null,
      reasoning_tokens: null, reported_cost_usd: null, latency_ms: null, success: true, error_type: null, purpose: null,
    },
  }
}

const modelsOf = (providerId: string) => findProvider({ providerId })!.models.map((m) => m.id)

/** Dates around price changes, each at a peak and an off-peak hour (DeepSeek: off-peak 16:30-00:30 UTC). */
const TIMES = ['2023-10-22', '2024-09-01', '2025-06-15', '2026-03-01'].flatMap((d) => [Date.parse(`${d}T03:00:00Z`), Date.parse(`${d}T17:15:00Z`)])
/** Plain, cached input, and above Claude's 200k-input-token tier. */
const USAGES = [{ input: 441, output: 59 }, { input: 10_000, output: 900, cached: 8_000 }, { input: 250_000, output: 4_000, cached: 20_000 }]
/** Dated ids the library matches only after normalizing their date, and names it does not know. */
const ODD_MODELS = ['claude-3-5-sonnet-20241022', 'gpt-4o-2024-08-06', 'gpt-3.5-turbo-16k-0613', 'acme-7b', 'GPT-4o ']

describe('LlmPricer (cached model resolution)', () => {
  it('prices exactly as a full calcPrice lookup per call, for every model of several providers, at several times and usages', () => {
    const pairs: Array<[string, string | null]> = []
    for (const provider of ['openai', 'anthropic', 'deepseek', 'google', 'groq']) for (const m of modelsOf(provider)) pairs.push([m, provider])
    for (const m of [...modelsOf('openai').slice(0, 15), ...modelsOf('deepseek')]) pairs.push([m, 'azure']) // resolved through fallback providers
    for (const m of [...modelsOf('anthropic'), ...modelsOf('deepseek'), ...ODD_MODELS]) for (const provider of [null, 'simulator', ' ', 'anthropic']) pairs.push([m, provider])
    pairs.push(['openai/gpt-4o', 'litellm'], ['anthropic/claude-sonnet-4-5', 'LiteLLM'])
    let computed = 0
    let calls = 0
    const pricer = new LlmPricer({ maxEntries: 10_000 })
    for (const [model, provider] of pairs) {
      for (const t of TIMES) {
        for (const u of USAGES) {
          const event = llm(model, provider, t, u)
          const expected = uncachedPrice(event)
          const what = `${provider}/${model} at ${new Date(t).toISOString()} ${JSON.stringify(u)}`
          expect(priceLlmCall(event), what).toEqual(expected)
          // the unrounded result too, through a pricer of this test's own
          const usage = { input_tokens: u.input, output_tokens: u.output, ...(u.cached ? { cache_read_tokens: u.cached } : {}) }
          const providerId = provider?.trim() || undefined
          const full = calcPrice(usage, model, providerId !== undefined && findProvider({ providerId }) ? { providerId, timestamp: new Date(t) } : { timestamp: new Date(t) })
          const cached = pricer.calc(providerId, model, usage, new Date(t))
          expect(cached && { total: cached.total_price, provider: cached.provider.id, model: cached.model.id, price: cached.model_price }, what).toEqual(
            full && { total: full.total_price, provider: full.provider.id, model: full.model.id, price: full.model_price },
          )
          calls++
          if (expected.cost_source === 'computed') computed++
        }
      }
    }
    expect(computed).toBeGreaterThan(5_000)
    // every pair was answered from the cache after its first call (the two litellm pairs at most excepted)
    expect(pricer.stats.entries).toBe(new Set(pairs.map(([m, p]) => `${p?.trim() || ''}|${m}`)).size)
    expect(pricer.stats.hits).toBeGreaterThanOrEqual(calls - pricer.stats.entries - 2 * (TIMES.length * USAGES.length - 1))
  }, 120_000) // thousands of full, uncached library lookups as the reference: seconds on an idle core, more on a loaded one

  it('applies time-of-day and tiered prices per call, not per cached model', () => {
    const pricer = new LlmPricer()
    const usage = { input_tokens: 100_000, output_tokens: 10_000 }
    const deepseek = (iso: string) => pricer.calc('deepseek', 'deepseek-chat', usage, new Date(iso))!.total_price
    const peak = deepseek('2025-03-01T03:00:00Z')
    const offPeak = deepseek('2025-03-01T17:00:00Z')
    expect(offPeak).not.toBe(peak)
    expect(deepseek('2025-03-01T03:00:00Z')).toBe(peak)
    expect(offPeak).toBe(calcPrice(usage, 'deepseek-chat', { providerId: 'deepseek', timestamp: new Date('2025-03-01T17:00:00Z') })!.total_price)

    const claude = (input: number) => pricer.calc('anthropic', 'claude-sonnet-4-5', { input_tokens: input, output_tokens: 0 }, new Date('2025-11-01T00:00:00Z'))!.total_price
    expect(claude(200_000)).toBeCloseTo(0.6, 12) // $3 / Mtok up to 200k input tokens
    expect(claude(200_001)).toBeCloseTo(1.200006, 12) // $6 / Mtok for the whole prompt above it
    expect(pricer.stats).toEqual({ entries: 2, hits: 3 })
  })

  it('answers repeated pairs from the cache, unknown models too, and keeps at most maxEntries pairs', () => {
    const pricer = new LlmPricer({ maxEntries: 3 })
    const at = new Date('2025-01-01T00:00:00Z')
    const usage = { input_tokens: 1_000, output_tokens: 100 }
    for (let i = 0; i < 3; i++) {
      expect(pricer.calc('openai', 'gpt-4o', usage, at)?.model.id).toBe('gpt-4o')
      expect(pricer.calc(undefined, 'acme-7b', usage, at)).toBeNull()
    }
    expect(pricer.stats).toEqual({ entries: 2, hits: 4 })
    pricer.calc('openai', 'gpt-4o-mini', usage, at)
    pricer.calc('anthropic', 'claude-haiku-4-5', usage, at) // fourth pair: the cache starts over
    expect(pricer.stats.entries).toBe(1)
    expect(pricer.calc('openai', 'gpt-4o', usage, at)!.total_price).toBe(calcPrice(usage, 'gpt-4o', { providerId: 'openai', timestamp: at })!.total_price)
  })

  it('raises the same error as the library for usage it rejects, cached or not', () => {
    const pricer = new LlmPricer()
    const at = new Date('2025-01-01T00:00:00Z')
    const bad = { input_tokens: 10, output_tokens: 1, cache_read_tokens: 50 }
    const expected = (() => {
      try {
        calcPrice(bad, 'gpt-4o', { providerId: 'openai', timestamp: at })
      } catch (err) {
        return (err as Error).message
      }
      return 'no error'
    })()
    expect(expected).not.toBe('no error')
    expect(() => pricer.calc('openai', 'gpt-4o', bad, at)).toThrow(expected)
    pricer.calc('openai', 'gpt-4o', { input_tokens: 10, output_tokens: 1 }, at)
    expect(() => pricer.calc('openai', 'gpt-4o', bad, at)).toThrow(expected)
  })
})
