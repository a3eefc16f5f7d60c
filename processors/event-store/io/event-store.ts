/**
 * Appends to the PostgreSQL event store (table `es_events`, migrations/…_event-store.sql):
 * append-only (UPDATE/DELETE/TRUNCATE raise in a trigger), a global sequence, a stream per
 * trace with a version per event, unique by `event_id`, NOTIFY on channel `auren_es_append`.
 *
 * Global order: every append takes the transaction-scoped advisory lock
 * {@link ES_APPEND_LOCK_ID} before inserting, so appends commit one at a time and a global
 * sequence number is visible only after every smaller one is (a catch-up reader that asks "after
 * N" never skips a row that commits later with a smaller number). The figures this design needs
 * (appends per second) are far below what one lock allows.
 */
import type pg from 'pg'
import { serializeStreamEvent, type NewStreamEvent, type StreamedEvent } from '../stream-event.ts'

/** Advisory lock serialising appends: the ASCII bytes of 'ESAPND'. */
export const ES_APPEND_LOCK_ID = 0x45_53_41_50_4e_44

export type { NewStreamEvent, StreamedEvent } from '../stream-event.ts'

/** The stream's version was not the expected one: someone appended first. */
export class StreamConflictError extends Error {
  override readonly name = 'StreamConflictError'
  readonly code = 'AUREN_ERR_STREAM_CONFLICT'
  constructor(readonly streamId: string, readonly expectedVersion: number, readonly actualVersion: number) {
    super(`stream ${streamId}: expected version ${expectedVersion}, found ${actualVersion}`)
  }
}

async function currentVersions(client: pg.ClientBase, streamIds: readonly string[]): Promise<Map<string, number>> {
  const r = await client.query<{ stream_id: string; v: number }>(
    'SELECT stream_id, max(stream_version) AS v FROM es_events WHERE stream_id = ANY($1::text[]) GROUP BY stream_id',
    [streamIds],
  )
  return new Map(r.rows.map((x) => [x.stream_id, Number(x.v)]))
}

async function insertRows(client: pg.ClientBase, rows: readonly (StreamedEvent & { version: number })[]): Promise<void> {
  if (rows.length === 0) return
  await client.query(
    `INSERT INTO es_events (event_id, stream_id, stream_version, event_type, event_time, user_id, tier, data)
     SELECT event_id, stream_id, v, event_type, to_timestamp(us / 1e6), user_id, tier, data
       FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::double precision[], $6::text[], $7::text[], $8::jsonb[])
         WITH ORDINALITY AS t(event_id, stream_id, v, event_type, us, user_id, tier, data, n)
      ORDER BY n`,
    [
      rows.map((r) => r.eventId),
      rows.map((r) => r.streamId),
      rows.map((r) => r.version),
      rows.map((r) => r.eventType),
      rows.map((r) => r.eventTimeUs),
      rows.map((r) => r.userId),
      rows.map((r) => r.tier),
      rows.map((r) => JSON.stringify(r.data)),
    ],
  )
}

/**
 * Appends events to one stream when its version is `expectedVersion` (0: the stream must not
 * exist yet). Runs in the caller's transaction (call between BEGIN and COMMIT).
 * @param opts.conflicts counted once per refused append (auren_event_store_append_conflicts_total)
 * @returns the new version of the stream
 * @throws StreamConflictError when the stream's version differs (nothing is appended); the
 *   unique (stream_id, stream_version) constraint is the last guard if the lock is bypassed
 */
export async function appendToStream(
  client: pg.ClientBase,
  streamId: string,
  expectedVersion: number,
  events: readonly NewStreamEvent[],
  opts: { readonly conflicts?: { inc(): void } } = {},
): Promise<number> {
  await client.query('SELECT pg_advisory_xact_lock($1)', [ES_APPEND_LOCK_ID])
  const actual = (await currentVersions(client, [streamId])).get(streamId) ?? 0
  if (actual !== expectedVersion) {
    opts.conflicts?.inc()
    throw new StreamConflictError(streamId, expectedVersion, actual)
  }
  await insertRows(client, events.map((e, i) => ({ ...e, streamId, version: expectedVersion + i + 1 })))
  return expectedVersion + events.length
}

/**
 * Appends events whose `event_id` is not stored yet, each at the end of its stream, in the given
 * order (a redelivered event appends nothing). Runs in the caller's transaction. One round trip:
 * the batch goes as one jsonb parameter to the SQL function `es_append_idempotent`
 * (migrations/…_event-store-append-jsonb.sql), which parses the batch and drops repeated
 * event_ids, then takes the append lock, drops known event_ids, numbers the versions and inserts.
 * @returns how many events were appended
 */
export async function appendIdempotent(client: pg.ClientBase, events: readonly StreamedEvent[]): Promise<number> {
  return appendIdempotentJson(client, events.map(serializeStreamEvent))
}

/**
 * {@link appendIdempotent} of events serialised already, each the JSON of a StreamedEvent (the
 * event-store app's path: its transform serialises each event once, stream-event.ts).
 * @returns how many events were appended
 */
export async function appendIdempotentJson(client: pg.ClientBase, events: readonly string[]): Promise<number> {
  if (events.length === 0) return 0
  const r = await client.query<{ n: number }>('SELECT es_append_idempotent($1::jsonb, $2) AS n', [`[${events.join(',')}]`, ES_APPEND_LOCK_ID])
  return r.rows[0]!.n
}
