import { fromAgentEventRecord, toEnrichedRecord, type AgentEvent, type AgentEventRecord, type EnrichedAgentEvent } from '../../schemas/index.ts'
import { defineProcessor, type LagObservation, type ProcessorDefinition } from '../runtime/define-processor.ts'
import { countCommitted, type EnrichmentMetrics } from './metrics.ts'
import type { EnrichmentTransform } from './transform.ts'

/**
 * The enrichment processor: `auren.agent-events.v1` → `auren.agent-events.enriched.v1` through
 * the Kafka topic sink in the configured delivery mode (see README.md); domain metrics are
 * counted after each commit (metrics.ts countCommitted) when `metrics` is given.
 */
export function enrichmentDefinition(transform: EnrichmentTransform, metrics?: EnrichmentMetrics): ProcessorDefinition<AgentEvent, EnrichedAgentEvent> {
  return defineProcessor<AgentEvent, EnrichedAgentEvent>({
    name: 'enrichment',
    inputs: [{ topic: 'agentEvents', schema: 'agent-event', decode: (value) => fromAgentEventRecord(value as AgentEventRecord) }],
    output: { topic: 'enrichedEvents', schema: 'enriched-agent-event', encode: toEnrichedRecord },
    transform,
    ...(metrics ? { afterCommit: (batch) => countCommitted(metrics, batch) } : {}),
    observe: observeEnrichment,
  })
}

/** Event time (ms) and tier of an enriched event, for auren_event_lag_seconds{tier}. */
export function observeEnrichment(input: AgentEvent, outputs: readonly EnrichedAgentEvent[]): LagObservation | undefined {
  const out = outputs[0]
  return out ? { eventTimeMs: input.timestamp / 1000, tier: out.tier } : undefined
}
