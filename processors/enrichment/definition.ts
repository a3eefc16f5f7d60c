import { fromAgentEventRecord, toEnrichedRecord, type AgentEvent, type AgentEventRecord, type EnrichedAgentEvent } from '../../schemas/index.ts'
import { defineProcessor, type ProcessorDefinition } from '../runtime/define-processor.ts'
import type { LagObservation } from '../runtime/runner.ts'
import type { EnrichmentTransform } from './transform.ts'
import { hasReplayedTime } from '../../schemas/replay.ts'

/**
 * The enrichment processor: `auren.agent-events.v1` → `auren.agent-events.enriched.v1`,
 * at-least-once with an idempotent producer (see README.md).
 */
export function enrichmentDefinition(transform: EnrichmentTransform): ProcessorDefinition<AgentEvent, EnrichedAgentEvent> {
  return defineProcessor<AgentEvent, EnrichedAgentEvent>({
    name: 'enrichment',
    input: { topic: 'agentEvents', schema: 'agent-event' },
    output: { topic: 'enrichedEvents', schema: 'enriched-agent-event' },
    decode: (value) => fromAgentEventRecord(value as AgentEventRecord),
    encode: toEnrichedRecord,
    transform,
  })
}

/**
 * Event time (ms) and tier of an enriched event, for auren_event_lag_seconds{tier}; replayed or
 * synthetic times are measured from the Kafka record's timestamp (schemas/replay.ts).
 */
export function observeEnrichment(input: AgentEvent, outputs: readonly EnrichedAgentEvent[]): LagObservation | undefined {
  const out = outputs[0]
  return out ? { eventTimeMs: input.timestamp / 1000, tier: out.tier, fromRecordTime: hasReplayedTime(input.attributes) } : undefined
}
