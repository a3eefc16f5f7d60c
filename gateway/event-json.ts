/**
 * Plain JSON bodies of stream frames (CONTRACTS.md section 5): the enriched event's fields
 * flattened with the original event's, the payload without Avro union wrappers (`event_type`
 * says which payload it is), and every timestamp (stored as UTC microseconds since the epoch) as
 * an ISO-8601 UTC string with microseconds, e.g. `2026-11-21T14:11:16.123456Z`.
 */
import type { AgentMetricsWindow, Alert, EnrichedAgentEvent } from '../schemas/index.ts'
import { hasReplayedTime } from '../schemas/replay.ts'

/**
 * ISO-8601 UTC string of epoch microseconds, keeping the microseconds.
 * @param us UTC microseconds since the Unix epoch
 */
export function isoFromMicros(us: number): string {
  const ms = Math.floor(us / 1000)
  const micros = Math.round(us - ms * 1000)
  return `${new Date(ms).toISOString().slice(0, -1)}${String(micros).padStart(3, '0')}Z`
}

/** Frame body of an enriched event: `{ event_id, …, timestamp: ISO, payload: {…}, tier, cost_usd, …, enriched_at: ISO }`. */
export function enrichedEventJson(e: EnrichedAgentEvent): Record<string, unknown> {
  const { event, ...enrichment } = e
  return {
    ...event,
    timestamp: isoFromMicros(event.timestamp),
    ...enrichment,
    enriched_at: isoFromMicros(e.enriched_at),
  }
}

/** Frame body of a metrics window (window_start and window_end as ISO-8601). */
export function metricsWindowJson(w: AgentMetricsWindow): Record<string, unknown> {
  return { ...w, window_start: isoFromMicros(w.window_start), window_end: isoFromMicros(w.window_end) }
}

/** Frame body of an alert (starts_at, ends_at and source_window's start and end as ISO-8601). */
export function alertJson(a: Alert): Record<string, unknown> {
  return {
    ...a,
    starts_at: isoFromMicros(a.starts_at),
    ends_at: a.ends_at === null ? null : isoFromMicros(a.ends_at),
    source_window: a.source_window === null ? null : { start: isoFromMicros(a.source_window.start), end: isoFromMicros(a.source_window.end) },
  }
}

/** One record of the stream, shaped once per gateway and routed to every subscription. */
export type StreamItem =
  | {
      readonly kind: 'event'
      /** Dedup key: event_id. */
      readonly key: string
      readonly json: Record<string, unknown>
      readonly eventType: EnrichedAgentEvent['event']['event_type']
      readonly tier: EnrichedAgentEvent['tier']
      /** source and target agent ids. */
      readonly agentIds: readonly string[]
      readonly userId: string | null
      /** performance.confidence_score, else the payload's `confidence`; null when neither. */
      readonly confidence: number | null
      /** Event time, epoch ms. */
      readonly timeMs: number
      /**
       * Start of the delivery latency, epoch ms: the event time, or for a replayed or synthetic
       * event time the Kafka record's timestamp (schemas/replay.ts).
       */
      readonly latencyFromMs: number
    }
  | { readonly kind: 'metrics'; readonly key: string; readonly json: Record<string, unknown>; readonly agentIds: readonly string[]; readonly timeMs: number }
  | { readonly kind: 'alert'; readonly key: string; readonly json: Record<string, unknown>; readonly agentIds: readonly string[]; readonly timeMs: number }

/**
 * Stream item of an enriched event.
 * @param recordTimestampMs the Kafka record's timestamp, epoch ms (default: the event time)
 */
export function eventItem(e: EnrichedAgentEvent, recordTimestampMs?: number): StreamItem {
  const ev = e.event
  const payloadConfidence = (ev.payload as { confidence?: unknown }).confidence
  const confidence = ev.performance?.confidence_score ?? (typeof payloadConfidence === 'number' ? payloadConfidence : null)
  const agentIds = [ev.source_agent?.id, ev.target_agent?.id].filter((x): x is string => typeof x === 'string')
  return {
    kind: 'event', key: ev.event_id, json: enrichedEventJson(e), eventType: ev.event_type, tier: e.tier,
    agentIds, userId: ev.user_id, confidence, timeMs: ev.timestamp / 1000,
    latencyFromMs: recordTimestampMs !== undefined && hasReplayedTime(ev.attributes) ? recordTimestampMs : ev.timestamp / 1000,
  }
}

/**
 * Stream item of a closed metrics window (time: window end). Key: agent, window start and
 * `late_events`: a window published again after a late event (aggregation's `late_update`)
 * carries one more late event, so it is a new item, while the same publication delivered twice
 * (the outbox publishes at least once) is recognised by the subscriptions' dedup.
 */
export function metricsItem(w: AgentMetricsWindow): StreamItem {
  return { kind: 'metrics', key: `${w.agent_id}@${w.window_start}#${w.late_events}`, json: metricsWindowJson(w), agentIds: [w.agent_id], timeMs: w.window_end / 1000 }
}

/** Stream item of an alert change (key: fingerprint, status and start; time: ends_at or starts_at). */
export function alertItem(a: Alert): StreamItem {
  const agent = a.labels.agent
  return {
    kind: 'alert', key: `${a.fingerprint}:${a.status}:${a.starts_at}`, json: alertJson(a),
    agentIds: agent ? [agent] : [], timeMs: (a.ends_at ?? a.starts_at) / 1000,
  }
}
