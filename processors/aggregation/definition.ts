import { fromEnrichedRecord, type EnrichedAgentEvent, type EnrichedAgentEventRecord } from '../../schemas/index.ts'
import { defineProcessor, type LagObservation, type ProcessorDefinition } from '../runtime/define-processor.ts'
import type { AcknowledgingSink } from '../runtime/sinks/sink.ts'
import type { RollupDelta } from './rollup-delta.ts'
import { createAggregationTransform } from './transform.ts'

/**
 * The aggregation processor: `auren.agent-events.enriched.v1` → PostgreSQL rollups, exactly-once
 * (offsets stored in the rollup transaction, see README.md); closed windows reach
 * `auren.agent-metrics.v1` through the outbox. Punctuation is on: on every tick the sink closes
 * the windows that idle partitions no longer hold back (postgres-sink.ts).
 * @param windowMs tumbling window size, ms
 */
export function aggregationDefinition(sink: AcknowledgingSink<RollupDelta>, windowMs: number): ProcessorDefinition<EnrichedAgentEvent, RollupDelta> {
  const transform = createAggregationTransform(windowMs)
  return defineProcessor<EnrichedAgentEvent, RollupDelta>({
    name: 'aggregation',
    inputs: [{ topic: 'enrichedEvents', schema: 'enriched-agent-event', decode: (value) => fromEnrichedRecord(value as EnrichedAgentEventRecord) }],
    sink,
    punctuation: {},
    transform: (enriched) => transform(enriched),
    observe: observeAggregation,
  })
}

/** Event time (ms) and tier of an aggregated event, for auren_event_lag_seconds{tier}. */
export function observeAggregation(input: EnrichedAgentEvent): LagObservation {
  return { eventTimeMs: input.event.timestamp / 1000, tier: input.tier }
}
