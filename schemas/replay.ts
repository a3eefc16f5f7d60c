/**
 * Replayed and synthetic event times (scripts/sources: `auren.replay.*` attributes on events
 * converted from recorded runs, `auren.time.synthetic` where the time was made up). Such an
 * event's `timestamp` is the age of the data, not when the pipeline saw it, so freshness figures
 * (`auren_event_lag_seconds`, `auren_gateway_delivery_latency_seconds`) measure it from the
 * Kafka record's timestamp (when it entered the topic) instead of its event time.
 */

/** Attribute naming the recorded file an event was replayed from. */
export const REPLAY_FILE_ATTRIBUTE = 'auren.replay.file'
/** Attribute marking a made-up event time (value: how it was made). */
export const SYNTHETIC_TIME_ATTRIBUTE = 'auren.time.synthetic'

/** True when the event's time is replayed history or synthetic (see the module doc). */
export function hasReplayedTime(attributes: Readonly<Record<string, string>>): boolean {
  return attributes[REPLAY_FILE_ATTRIBUTE] !== undefined || attributes[SYNTHETIC_TIME_ATTRIBUTE] !== undefined
}
