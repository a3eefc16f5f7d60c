/**
 * Enrichment's domain metrics (STYLE.md principle 6; the runner records the standard ones:
 * consumed, produced, dead-lettered, durations, lag). Base units, `_total` counters. Labels
 * are bounded sets only (event type, tier, rule, cost source): never user_id, trace_id,
 * event_id, model or agent (CONTRACTS.md section 4; per-model figures are aggregation's).
 *
 * Created once per registry: {@link createEnrichmentMetrics} caches by registry, because prom-client
 * refuses to register a name twice and a transform must not create metrics per call.
 */
import { Counter, Gauge, type Registry } from 'prom-client'
import type { AgentEvent, EnrichedAgentEvent } from '../../schemas/index.ts'
import type { CommittedBatch } from '../runtime/define-processor.ts'
import { qualityWarnings } from './validate.ts'

/** The metric objects; names are listed in the README's metrics table. */
export interface EnrichmentMetrics {
  /** auren_enrichment_events_total{event_type,tier}: events emitted, by type and tier. */
  readonly events: Counter<'event_type' | 'tier'>
  /** auren_enrichment_duplicates_total: skipped, event_id seen at other coordinates. */
  readonly duplicates: Counter
  /** auren_enrichment_redeliveries_total: same record seen again (at-least-once replay), emitted again. */
  readonly redeliveries: Counter
  /** auren_enrichment_validation_failures_total{rule}: violations of dead-lettered events, by rule. */
  readonly validationFailures: Counter<'rule'>
  /** auren_enrichment_quality_warnings_total{rule}: non-rejecting data-quality notes, by rule. */
  readonly qualityWarnings: Counter<'rule'>
  /** auren_enrichment_cost_usd_total{source}: USD attached to emitted events, by cost_source. */
  readonly costUsd: Counter<'source'>
  /** auren_enrichment_unpriced_llm_calls_total: completed LLM calls with an unknown model. */
  readonly unpricedLlmCalls: Counter
  /** auren_enrichment_dedup_window_entries: ids in the dedup window now. */
  readonly dedupEntries: Gauge
}

const cache = new WeakMap<Registry, EnrichmentMetrics>()

/** Registers the enrichment metrics on `registry`, or returns the ones already registered there. */
export function createEnrichmentMetrics(registry: Registry): EnrichmentMetrics {
  const existing = cache.get(registry)
  if (existing) return existing
  const registers = [registry]
  const metrics: EnrichmentMetrics = Object.freeze({
    events: new Counter({ name: 'auren_enrichment_events_total', help: 'Events enriched and emitted, by event type and tier.', labelNames: ['event_type', 'tier'] as const, registers }),
    duplicates: new Counter({ name: 'auren_enrichment_duplicates_total', help: 'Events skipped because their event_id was already seen at other coordinates.', registers }),
    redeliveries: new Counter({ name: 'auren_enrichment_redeliveries_total', help: 'Records delivered again at the same coordinates (at-least-once) and emitted again.', registers }),
    validationFailures: new Counter({ name: 'auren_enrichment_validation_failures_total', help: 'Validation violations of dead-lettered events, by rule.', labelNames: ['rule'] as const, registers }),
    qualityWarnings: new Counter({ name: 'auren_enrichment_quality_warnings_total', help: 'Non-rejecting data-quality notes on emitted events, by rule.', labelNames: ['rule'] as const, registers }),
    costUsd: new Counter({ name: 'auren_enrichment_cost_usd_total', help: 'USD attached to emitted events, by cost source (reported, computed).', labelNames: ['source'] as const, registers }),
    unpricedLlmCalls: new Counter({ name: 'auren_enrichment_unpriced_llm_calls_total', help: 'Completed LLM calls whose model has no known price (cost_source unknown_model).', registers }),
    dedupEntries: new Gauge({ name: 'auren_enrichment_dedup_window_entries', help: 'Event ids currently held by the dedup window.', registers }),
  })
  cache.set(registry, metrics)
  return metrics
}

/**
 * The `afterCommit` hook of enrichment: counts a committed batch's outcomes once (a retried
 * batch is counted when it finally commits, never per attempt). Events, cost and unpriced calls
 * from the emitted values; duplicates from `skip('duplicate')`; redeliveries and validation rules
 * from the outcome notes (transform.ts); quality warnings from the input (validate.ts, pure).
 */
export function countCommitted(m: EnrichmentMetrics, batch: CommittedBatch<AgentEvent, EnrichedAgentEvent>): void {
  for (const { input, outcome } of batch.results) {
    if (outcome.kind === 'skip') {
      if (outcome.reason === 'duplicate') m.duplicates.inc()
      continue
    }
    if (outcome.kind === 'dead-letter') {
      for (const note of outcome.notes ?? []) if (note.startsWith('rule:')) m.validationFailures.inc({ rule: note.slice(5) })
      continue
    }
    if (outcome.notes?.includes('redelivery')) m.redeliveries.inc()
    for (const { value } of outcome.records) {
      m.events.inc({ event_type: value.event.event_type, tier: value.tier })
      if (value.cost_usd !== null && value.cost_source !== null) m.costUsd.inc({ source: value.cost_source }, value.cost_usd)
      if (value.cost_source === 'unknown_model' && value.event.event_type === 'llm_call_completed') m.unpricedLlmCalls.inc()
    }
    for (const w of qualityWarnings(input)) m.qualityWarnings.inc({ rule: w.rule })
  }
}
