import { fromEnrichedRecord, type EnrichedAgentEvent, type EnrichedAgentEventRecord } from '../../schemas/index.ts'
import { defineProcessor, type ProcessorDefinition } from '../runtime/define-processor.ts'
import type { LagObservation } from '../runtime/runner.ts'
import type { TransactionalSink } from '../runtime/sink.ts'
import type { RollupDelta } from './rollup-delta.ts'
import { createAggregationTransform } from './transform.ts'
import { hasReplayedTime } from '../../schemas/replay.ts'

/**
 * The aggregation processor: `auren.agent-events.enriched.v1` → PostgreSQL rollups, exactly-once
 * (offsets stored in the rollup transaction, see README.md); closed windows reach
 * `auren.agent-metrics.v1` through the outbox (main.ts).
 * @param windowMs tumbling window size, ms
 */
export function aggregationDefinition(sink: TransactionalSink<RollupDelta>, windowMs: number): ProcessorDefinition<EnrichedAgentEvent, RollupDelta> {
  const transform = createAggregationTransform(windowMs)
  return defineProcessor<EnrichedAgentEvent, RollupDelta>({
    name: 'aggregation',
    input: { topic: 'enrichedEvents', schema: 'enriched-agent-event' },
    sink,
    decode: (value) => fromEnrichedRecord(value as EnrichedAgentEventRecord),
    encode: (delta) => delta,
    transform: (enriched) => transform(enriched),
  })
}

/**
 * Event time (ms) and tier of an aggregated event, for auren_event_lag_seconds{tier}; replayed or
 * synthetic times are measured from the Kafka record's timestamp (schemas/replay.ts).
 */
export function observeAggregation(input: EnrichedAgentEvent): LagObservation {
  return { eventTimeMs: input.event.timestamp / 1000, tier: input.tier, fromRecordTime: hasReplayedTime(input.event.attributes) }
}
