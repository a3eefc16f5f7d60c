/**
 * The event-store app's domain metrics (README.md "Metrics"), recorded after an append's
 * transaction committed (a failed append is retried and counted once, when it commits).
 */
import { Counter, Histogram, type Registry } from 'prom-client'

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** The metric objects; every name is in README.md's metrics table. */
export interface EventStoreMetrics {
  /** Events appended (new event_ids). */
  readonly appends: Counter
  /** Events of an append whose event_id was stored already (a redelivery or a duplicated input): appended nothing. */
  readonly duplicates: Counter
  /** Appends refused because the stream's version was not the expected one (io/event-store.ts appendToStream). */
  readonly conflicts: Counter
  /** One append transaction of a partition buffer, seconds. */
  readonly appendDuration: Histogram
}

/** Registers the event-store metrics on `registry` (once per registry). */
export function createEventStoreMetrics(registry: Registry): EventStoreMetrics {
  const registers = [registry]
  return {
    appends: new Counter({ name: 'auren_event_store_appends_total', help: 'Events appended to the event store', registers }),
    duplicates: new Counter({ name: 'auren_event_store_duplicate_events_total', help: 'Events not appended because their event_id is in the event store already (redelivery or duplicated input)', registers }),
    conflicts: new Counter({ name: 'auren_event_store_append_conflicts_total', help: 'Appends refused by optimistic concurrency: the stream was not at the expected version', registers }),
    appendDuration: new Histogram({ name: 'auren_event_store_append_duration_seconds', help: 'One append transaction of a partition buffer (parse, dedup, version numbering, insert, commit), seconds', buckets: SECONDS, registers }),
  }
}

/** Records a committed append of `events` events of which `appended` were new. */
export function recordAppend(m: EventStoreMetrics, events: number, appended: number, seconds: number): void {
  if (appended > 0) m.appends.inc(appended)
  if (events > appended) m.duplicates.inc(events - appended)
  m.appendDuration.observe(seconds)
}
