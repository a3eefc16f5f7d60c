/**
 * The enrichment transform (STYLE.md principles 1 and 2): one AgentEvent in, one outcome out.
 *
 * 1. validate (validate.ts) → `deadLetter('VALIDATION_FAILED', <every violation, joined>)`;
 * 2. dedup by event_id (dedup.ts) → `skip('duplicate')` when seen at other coordinates; a
 *    redelivery of the same record (same topic/partition/offset) is enriched and emitted again;
 * 3. enrich → `emit({ key: trace_id, value: EnrichedAgentEvent })` with tier (tiering.ts), cost
 *    (pricing.ts), agent domain and tool category (catalog.ts), input complexity
 *    (complexity.ts), `ingest_lag_ms = round(now_ms - timestamp_µs / 1000)` (negative for an
 *    event stamped slightly ahead of our clock) and `enriched_at = now_ms * 1000` (µs).
 *
 * The only state is the dedup window (and a small set of models already warned about); an id
 * is remembered only after its enrichment succeeded, so a record the runner dead-letters as
 * PROCESSING_FAILED never shadows a later good copy. Domain counters are not touched here (a
 * retried batch would count twice): the outcome carries the facts only the transform knows as
 * notes (`redelivery`, `rule:<violated rule>`) and metrics.ts countCommitted counts them after
 * the commit. Only the dedup window gauge is set here (a level, not a count).
 */
import type { AgentEvent, EnrichedAgentEvent } from '../../schemas/index.ts'
import type { ProcessorContext } from '../runtime/context.ts'
import { deadLetter, emit, skip, withNotes, type Outcome } from '../runtime/outcome.ts'
import { agentDomain, DEFAULT_CATALOG, toolCategory, type Catalog } from './catalog.ts'
import { inputComplexity } from './complexity.ts'
import type { EnrichmentConfig } from './config.ts'
import { DedupWindow } from './dedup.ts'
import { createEnrichmentMetrics, type EnrichmentMetrics } from './metrics.ts'
import { priceEvent } from './pricing.ts'
import { decideTier } from './tiering.ts'
import { validateEvent } from './validate.ts'

/** Optional collaborators; each defaults to one built from config (tests inject their own). */
export interface EnrichmentDeps {
  /** Dedup window; default: a new one with the config's bounds. */
  readonly dedup?: DedupWindow
  /** Agent/tool catalogue; default: the bundled catalog.default.json. Load files with loadCatalog. */
  readonly catalog?: Catalog
  /** Domain metrics; default: registered on `ctx.registry` on first use. */
  readonly metrics?: EnrichmentMetrics
}

/** The part of the runner's context the transform reads. */
export type EnrichmentContext = Pick<ProcessorContext, 'log' | 'now' | 'source' | 'registry'>

/** Note of an outcome emitted again for a redelivered record (same coordinates). */
export const REDELIVERY_NOTE = 'redelivery'
/** Prefix of the notes naming the violated rules of a dead-lettered event. */
export const RULE_NOTE_PREFIX = 'rule:'

/** Signature the runner calls (ProcessorDefinition.transform). */
export type EnrichmentTransform = (event: AgentEvent, ctx: EnrichmentContext) => Outcome<EnrichedAgentEvent>

/** Unknown models logged at warn once each, up to this many (then only counted). */
const MAX_WARNED_MODELS = 100

/**
 * Builds the transform for one processor instance. Keep one per process: the dedup window
 * lives in the closure.
 */
export function createEnrichmentTransform(config: EnrichmentConfig, deps: EnrichmentDeps = {}): EnrichmentTransform {
  const dedup = deps.dedup ?? new DedupWindow({ maxEntries: config.dedupMaxEntries, maxAgeMs: config.dedupMaxAgeMs })
  const catalog = deps.catalog ?? DEFAULT_CATALOG
  const tierOptions = { overrides: config.tierOverrides, criticalRules: config.criticalRules }
  const pricingOptions = { pricedTools: config.pricedTools }
  const warnedModels = new Set<string>()

  return (event, ctx) => {
    const metrics = deps.metrics ?? createEnrichmentMetrics(ctx.registry)
    const nowMs = ctx.now()

    const violations = validateEvent(event, { nowMs, maxFutureSkewMs: config.maxFutureSkewMs })
    if (violations.length > 0) {
      const head = violations.length === 1 ? '' : `${violations.length} violations: `
      return withNotes(deadLetter('VALIDATION_FAILED', head + violations.map((v) => v.message).join('; ')), violations.map((v) => RULE_NOTE_PREFIX + v.rule))
    }

    const verdict = dedup.check(event.event_id, ctx.source, nowMs)
    if (verdict.kind === 'duplicate') {
      ctx.log.debug({ event_id: event.event_id, first: verdict.first }, 'duplicate event_id skipped')
      return skip('duplicate')
    }

    const tier = decideTier(event, tierOptions).tier
    const cost = priceEvent(event, pricingOptions)
    const enriched: EnrichedAgentEvent = {
      event,
      tier,
      cost_usd: cost.cost_usd,
      cost_source: cost.cost_source,
      pricing_ref: cost.pricing_ref,
      agent_domain: agentDomain(event, catalog),
      tool_category: toolCategory(event, catalog),
      input_complexity: inputComplexity(event, config.complexity),
      ingest_lag_ms: Math.round(nowMs - event.timestamp / 1000),
      enriched_at: Math.round(nowMs * 1000),
    }

    dedup.remember(event.event_id, ctx.source, nowMs)
    metrics.dedupEntries.set(dedup.size)
    if (cost.cost_source === 'unknown_model' && event.event_type === 'llm_call_completed') {
      const model = event.payload.model
      if (warnedModels.size < MAX_WARNED_MODELS && !warnedModels.has(model)) {
        warnedModels.add(model)
        ctx.log.warn({ model, provider: event.payload.provider, pricing_ref: cost.pricing_ref }, 'no price for model; cost_usd left null')
      }
    }
    const out = emit({ key: event.trace_id, value: enriched })
    return verdict.kind === 'redelivery' ? withNotes(out, [REDELIVERY_NOTE]) : out
  }
}
