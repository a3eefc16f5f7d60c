/**
 * The event-store entry of an enriched event (pure): stream = the trace, data = the enriched event
 * as JSON (seed 002 Module A: one stream per trace, a version per event in stream order).
 */
import type { EnrichedAgentEvent } from '../../schemas/index.ts'

/** An event to append to the event store (io/event-store.ts). */
export interface NewStreamEvent {
  /** Unique id (the dedup key). */
  readonly eventId: string
  readonly eventType: string
  /** Event time, UTC epoch microseconds. */
  readonly eventTimeUs: number
  readonly userId: string | null
  readonly tier: string | null
  /** JSON document stored as jsonb. */
  readonly data: unknown
}

/** An event with its stream (the trace). */
export interface StreamedEvent extends NewStreamEvent {
  readonly streamId: string
}

/** The event-store entry of an enriched event. */
export function streamEvent(e: EnrichedAgentEvent): StreamedEvent {
  return {
    streamId: e.event.trace_id,
    eventId: e.event.event_id,
    eventType: e.event.event_type,
    eventTimeUs: e.event.timestamp,
    userId: e.event.user_id,
    tier: e.tier,
    data: e,
  }
}

/**
 * The JSON of an event-store entry as the append takes it (io/event-store.ts
 * appendIdempotentJson): serialised once, in the transform, and sized by its length.
 */
export function serializeStreamEvent(e: StreamedEvent): string {
  return JSON.stringify(e)
}
