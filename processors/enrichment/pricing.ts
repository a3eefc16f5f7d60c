/**
 * USD cost of an event (CONTRACTS.md section 3: `cost_usd`, `cost_source`, `pricing_ref`).
 *
 * Which events carry a cost: `llm_call_completed`, and `tool_usage_completed` of tools priced
 * in configuration. Started events never do: `llm_call_started` holds only an estimate of the
 * prompt, and pricing both halves of a call would double-count every sum over `cost_usd`.
 *
 * LLM calls, in order:
 * 1. `reported_cost_usd` set → that figure, `reported`, pricing_ref `reported by producer`
 *    (ChatDev's per-call `cost:` lines arrive this way, unchanged).
 * 2. the model is known to `@pydantic/genai-prices` (bundled data only; no auto-update, so a
 *    given library version always prices the same) → `computed`, pricing_ref
 *    `genai-prices@<version> <provider>/<model id>`, rounded to 1e-12 USD to drop float noise.
 *    Usage passed: input_tokens (total), cache_read_tokens (= cached_input_tokens, priced at the
 *    cache-read rate where the model has one), output_tokens (reasoning tokens are part of it).
 *    The event time is passed as the price date, so date-bound prices apply as of the call.
 *    A failed call with 0 tokens costs 0 (computed): the model is known, nothing was billed.
 * 3. otherwise → cost_usd null, `unknown_model`; never a guess.
 * Provider: `payload.provider` when the library knows it (aliases such as `azure_openai` map as
 * the library decides). A provider the library does not know (e.g. `simulator`) falls back to
 * the library's model-name matching; the matched provider shows in pricing_ref. A known provider
 * without that model is `unknown_model` (no cross-provider guess).
 */
import { calcPrice, findProvider } from '@pydantic/genai-prices'
import type { AgentEvent, AgentEventOf, CostSource } from '../../schemas/index.ts'
import { normalizeName } from './catalog.ts'

/**
 * Version of the installed `@pydantic/genai-prices`, named in every computed pricing_ref. Its
 * package.json is not exported, so it is stated here; a unit test fails when they differ.
 */
export const GENAI_PRICES_VERSION = '0.1.8'
const LIB = `genai-prices@${GENAI_PRICES_VERSION}`

/** The three cost fields of an EnrichedAgentEvent; all null for events without a cost. */
export interface CostFields {
  /** USD, or null. */
  readonly cost_usd: number | null
  readonly cost_source: CostSource | null
  readonly pricing_ref: string | null
}

/** Pricing configuration (config.ts: AUREN_ENRICHMENT_PRICED_TOOLS). */
export interface PricingOptions {
  /** Normalized tool name → USD per call. */
  readonly pricedTools: Readonly<Record<string, number>>
}

/** No cost: events that are not priced. */
export const NO_COST: CostFields = Object.freeze({ cost_usd: null, cost_source: null, pricing_ref: null })

const roundUsd = (usd: number): number => Math.round(usd * 1e12) / 1e12

/** Cost of one LLM call per the rules in the module documentation. */
export function priceLlmCall(event: AgentEventOf<'llm_call_completed'>): CostFields {
  const p = event.payload
  if (p.reported_cost_usd !== null) {
    return { cost_usd: p.reported_cost_usd, cost_source: 'reported', pricing_ref: 'reported by producer' }
  }
  const providerId = p.provider?.trim() || undefined
  const providerKnown = providerId !== undefined && findProvider({ providerId }) !== undefined
  const usage = {
    input_tokens: p.input_tokens,
    output_tokens: p.output_tokens,
    ...(p.cached_input_tokens ? { cache_read_tokens: p.cached_input_tokens } : {}),
  }
  // Without `timestamp` the library prices as of new Date(): impure, and wrong for replays.
  const timestamp = new Date(event.timestamp / 1000)
  const result = calcPrice(usage, p.model, providerKnown ? { providerId, timestamp } : { timestamp })
  if (result === null) {
    const asked = providerId === undefined ? p.model : `${providerId}/${p.model}`
    return { cost_usd: null, cost_source: 'unknown_model', pricing_ref: `${LIB} has no price for ${asked}` }
  }
  return { cost_usd: roundUsd(result.total_price), cost_source: 'computed', pricing_ref: `${LIB} ${result.provider.id}/${result.model.id}` }
}

/** Cost of one tool call: the configured price per call, or no cost for unpriced tools. */
export function priceToolCall(event: AgentEventOf<'tool_usage_completed'>, opts: PricingOptions): CostFields {
  const name = normalizeName(event.payload.tool_name)
  const usd = opts.pricedTools[name]
  if (usd === undefined) return NO_COST
  return { cost_usd: usd, cost_source: 'computed', pricing_ref: `config AUREN_ENRICHMENT_PRICED_TOOLS ${name}=${usd} USD/call` }
}

/** Cost fields of any event (see the module documentation for which events are priced). */
export function priceEvent(event: AgentEvent, opts: PricingOptions): CostFields {
  if (event.event_type === 'llm_call_completed') return priceLlmCall(event)
  if (event.event_type === 'tool_usage_completed') return priceToolCall(event, opts)
  return NO_COST
}
