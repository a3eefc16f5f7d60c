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
 * 3. otherwise → cost_usd null, `unknown_model`; never a guess.
 * Before 2 and 3: a failed call (`success` false) is priced only when its producer reported
 * usage for it (input or output tokens > 0, or a reported cost); without usage it carries no
 * cost (cost_usd and cost_source null, pricing_ref {@link FAILED_WITHOUT_USAGE}). Source: the
 * OpenAI Chat Completions API returns `usage` only with a completion; an error response
 * (429 rate limit, 5xx, timeout) has an `error` object and no `usage`
 * (https://platform.openai.com/docs/guides/error-codes), so nothing is known to be billed.
 * Provider: `payload.provider` when the library knows it (aliases such as `azure_openai` map as
 * the library decides). A provider the library does not know (e.g. `simulator`) falls back to
 * the library's model-name matching; the matched provider shows in pricing_ref. A known provider
 * without that model is `unknown_model` (no cross-provider guess).
 *
 * Speed: the library resolves provider and model by scanning its data on every call. Which
 * provider and model a (provider, model) pair resolves to depends on neither usage nor time, so
 * it is looked up once and kept ({@link LlmPricer}); each later call prices the usage as of the
 * event time with the library's own `calcPrice`, handed that one resolved model. Time-bound
 * prices (start dates, time-of-day prices such as DeepSeek's off-peak rates) and tiered prices
 * (e.g. Claude above 200k input tokens) are therefore still chosen per call, as before.
 */
import { calcPrice, findProvider, type PriceCalculationResult, type Provider, type Usage } from '@pydantic/genai-prices'
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

/** pricing_ref of a failed LLM call without reported usage (not priced). */
export const FAILED_WITHOUT_USAGE = 'not priced: failed call without reported usage'

/** No cost: events that are not priced. */
export const NO_COST: CostFields = Object.freeze({ cost_usd: null, cost_source: null, pricing_ref: null })

function roundUsd(usd: number): number {
  return Math.round(usd * 1e12) / 1e12
}

/**
 * What a (provider id, model) pair resolves to in the library's data:
 * - `model`: `provider` is the resolved provider with only the resolved model in its list, to pass
 *   as calcPrice's `provider` option (the library then resolves that same model again, in a list
 *   of one);
 * - `none`: the library has no price for the pair (calcPrice answered null);
 * - `uncached`: the one-model provider did not reproduce the full lookup (see {@link resolve}),
 *   so every call does the full lookup, as before.
 */
type Resolution =
  | { readonly kind: 'model'; readonly provider: Provider }
  | { readonly kind: 'none' }
  | { readonly kind: 'uncached'; readonly providerKnown: boolean }

/**
 * Prices LLM calls with `@pydantic/genai-prices`, keeping what each (provider, model) pair
 * resolves to (at most `maxEntries` pairs; the cache is emptied when full).
 *
 * Why the results are identical to calling `calcPrice(usage, model, { providerId, timestamp })`
 * every time (genai-prices 0.1.8, `calcPrice`): the provider (findProvider) and the model
 * (matched by name in the provider's list, its fallback providers, then under a date-normalized
 * name) are chosen from the model id and the provider id alone, in data that never changes in
 * this process (bundled data; `updatePrices` is never called). Given `{ provider }` holding just
 * the resolved model, calcPrice finds that model again by the same name rules (the full lookup
 * found it first, so it matches the name or the date-normalized name), then, exactly as on the
 * full path, selects its price for `timestamp` and prices `usage` with it. A pair is used this
 * way only after one call has been checked to give the same provider, model, price list and
 * total both ways (this also rules out data the library would normalize differently); the
 * `litellm` provider id, whose `provider/model` ids calcPrice rewrites, always takes the full path.
 */
export class LlmPricer {
  readonly #resolutions = new Map<string | undefined, Map<string, Resolution>>()
  readonly #maxEntries: number
  #entries = 0
  #hits = 0

  constructor(opts: { maxEntries?: number } = {}) {
    this.#maxEntries = opts.maxEntries ?? 1_000
  }

  /** Pairs held and calls answered from them (for tests). */
  get stats(): { readonly entries: number; readonly hits: number } {
    return { entries: this.#entries, hits: this.#hits }
  }

  /**
   * calcPrice's answer for this call: provider id (trimmed, undefined when blank), model id,
   * usage and price time; null when the library has no price.
   */
  calc(providerId: string | undefined, model: string, usage: Usage, timestamp: Date): PriceCalculationResult {
    const known = this.#resolutions.get(providerId)?.get(model)
    if (known !== undefined && known.kind !== 'uncached') {
      this.#hits += 1
      return known.kind === 'none' ? null : calcPrice(usage, model, { provider: known.provider, timestamp })
    }
    const providerKnown = known?.providerKnown ?? (providerId !== undefined && findProvider({ providerId }) !== undefined)
    const result = calcPrice(usage, model, providerKnown ? { providerId, timestamp } : { timestamp })
    if (known === undefined) this.#remember(providerId, model, resolve(result, providerKnown, providerId, model, usage, timestamp))
    return result
  }

  #remember(providerId: string | undefined, model: string, resolution: Resolution): void {
    if (this.#entries >= this.#maxEntries) {
      this.#resolutions.clear()
      this.#entries = 0
    }
    let byModel = this.#resolutions.get(providerId)
    if (!byModel) this.#resolutions.set(providerId, (byModel = new Map()))
    byModel.set(model, resolution)
    this.#entries += 1
  }
}

/** The Resolution of a pair from the result of its full lookup (see {@link LlmPricer}). */
function resolve(result: PriceCalculationResult, providerKnown: boolean, providerId: string | undefined, model: string, usage: Usage, timestamp: Date): Resolution {
  const uncached: Resolution = { kind: 'uncached', providerKnown }
  if (result === null) return { kind: 'none' }
  if (providerId?.toLowerCase() === 'litellm') return uncached
  const provider: Provider = { ...result.provider, models: [result.model] }
  let again: PriceCalculationResult
  try {
    again = calcPrice(usage, model, { provider, timestamp })
  } catch {
    return uncached
  }
  const same =
    again !== null &&
    again.provider.id === result.provider.id &&
    again.model.id === result.model.id &&
    Object.is(again.total_price, result.total_price) &&
    JSON.stringify(again.model.prices) === JSON.stringify(result.model.prices) &&
    JSON.stringify(again.model_price) === JSON.stringify(result.model_price)
  return same ? { kind: 'model', provider } : uncached
}

const pricer = new LlmPricer()

/** Cost of one LLM call per the rules in the module documentation. */
export function priceLlmCall(event: AgentEventOf<'llm_call_completed'>): CostFields {
  const p = event.payload
  if (p.reported_cost_usd !== null) {
    return { cost_usd: p.reported_cost_usd, cost_source: 'reported', pricing_ref: 'reported by producer' }
  }
  if (!p.success && p.input_tokens <= 0 && p.output_tokens <= 0) return { ...NO_COST, pricing_ref: FAILED_WITHOUT_USAGE }
  const providerId = p.provider?.trim() || undefined
  const usage = {
    input_tokens: p.input_tokens,
    output_tokens: p.output_tokens,
    ...(p.cached_input_tokens ? { cache_read_tokens: p.cached_input_tokens } : {}),
  }
  // Without `timestamp` the library prices as of new Date(): impure, and wrong for replays.
  const timestamp = new Date(event.timestamp / 1000)
  const result = pricer.calc(providerId, p.model, usage, timestamp)
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
