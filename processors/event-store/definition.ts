import { fromEnrichedRecord, type EnrichedAgentEvent, type EnrichedAgentEventRecord } from '../../schemas/index.ts'
import { hasReplayedTime } from '../../schemas/replay.ts'
import { defineProcessor, type LagObservation, type ProcessorDefinition } from '../runtime/define-processor.ts'
import { emit, type Outcome } from '../runtime/outcome.ts'
import type { AcknowledgingSink } from '../runtime/sinks/sink.ts'
import { serializeStreamEvent, streamEvent } from './stream-event.ts'

/**
 * The event store's transform (pure): an enriched event → its event-store entry (stream = the
 * trace), serialised as JSON (stream-event.ts; key = trace id, unused by the sink). Nothing is
 * filtered: the store drops a repeated event_id itself.
 */
export function eventStoreTransform(e: EnrichedAgentEvent): Outcome<string> {
  return emit({ key: e.event.trace_id, value: serializeStreamEvent(streamEvent(e)) })
}

/**
 * Event time (ms) and tier of an appended event, for auren_event_lag_seconds{tier}; replayed or
 * synthetic times are measured from the Kafka record's timestamp (schemas/replay.ts).
 */
export function observeEventStore(input: EnrichedAgentEvent): LagObservation {
  return { eventTimeMs: input.event.timestamp / 1000, tier: input.tier, fromRecordTime: hasReplayedTime(input.event.attributes) }
}

/**
 * The event-store processor: `auren.agent-events.enriched.v1` → `es_events` through the
 * buffered sink whose flush is one append transaction per partition buffer (README.md for the
 * delivery guarantee: at least once into the append, once in the store by event_id).
 */
export function eventStoreDefinition(sink: AcknowledgingSink<string>): ProcessorDefinition<EnrichedAgentEvent, string> {
  return defineProcessor<EnrichedAgentEvent, string>({
    name: 'event-store',
    inputs: [{ topic: 'enrichedEvents', schema: 'enriched-agent-event', decode: (value) => fromEnrichedRecord(value as EnrichedAgentEventRecord) }],
    sink,
    transform: eventStoreTransform,
    observe: observeEventStore,
  })
}
