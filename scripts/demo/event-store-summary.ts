/**
 * The demo's event-store part: the event-store app's settings and the line printed at the end,
 * read from `es_events` (events appended, streams, the global sequence's range).
 */
import pg from 'pg'

/** What the demo prints about the event store. */
export interface EventStoreSummary {
  /** Rows of es_events (each a distinct event_id). */
  readonly events: number
  /** Distinct streams (traces). */
  readonly streams: number
  /** Highest stream version: events of the longest stream. */
  readonly longest_stream: number
  /** Global sequence of the first and last row; null when the store is empty. */
  readonly first_seq: number | null
  readonly last_seq: number | null
}

/** Environment of the demo's event-store app (the schema the gateway reads). */
export function eventStoreDemoEnv(databaseUrl: string, schema: string): Record<string, string> {
  return { AUREN_DATABASE_URL: databaseUrl, AUREN_EVENT_STORE_DB_SCHEMA: schema }
}

/** Reads the event store's figures. @throws on connection or SQL errors */
export async function readEventStoreSummary(databaseUrl: string, schema: string): Promise<EventStoreSummary> {
  const client = new pg.Client({ connectionString: databaseUrl, options: `-c search_path=${schema}` })
  await client.connect()
  try {
    const r = (await client.query<{ n: number; s: number; v: number | null; lo: string | null; hi: string | null }>(
      'SELECT count(*)::int AS n, count(DISTINCT stream_id)::int AS s, max(stream_version) AS v, min(global_seq)::text AS lo, max(global_seq)::text AS hi FROM es_events',
    )).rows[0]!
    return { events: r.n, streams: r.s, longest_stream: r.v ?? 0, first_seq: r.lo === null ? null : Number(r.lo), last_seq: r.hi === null ? null : Number(r.hi) }
  } finally {
    await client.end()
  }
}

/** The event-store line of the demo's text summary. */
export function renderEventStoreSummary(s: EventStoreSummary): string {
  const seq = s.first_seq === null ? 'empty' : `global sequence ${s.first_seq}..${s.last_seq}`
  return `event store: ${s.events} events in ${s.streams} streams (one per trace, the longest ${s.longest_stream} events; ${seq}; GET /api/v2/event-store/events on the gateway)`
}
