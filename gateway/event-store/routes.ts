/**
 * Event-store read routes (seed 002 Module A), JWT-scoped like the rest of `/api/v2`, over the
 * `es_events` table the event-store app appends to (same database and schema as the rollups):
 *
 * - `GET /api/v2/event-store/streams/:stream_id?from_version&limit`: one stream (a trace) in
 *   version order;
 * - `GET /api/v2/event-store/events?after&limit`: every event after a global sequence number, in
 *   global order (a catch-up subscription: pass back `next_after` until `events` is empty; the
 *   append order is the sequence order, processors/event-store/io/event-store.ts).
 *
 * A viewer reads only events whose user_id is its `sub`; operators and admins read all (a viewer
 * asking for another user's events simply does not see them). Every read is recorded in
 * `es_read_audit` (subject, roles, route, stream or position, rows returned) before the answer
 * is sent; a read that cannot be audited is not answered (503).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { highestRole, type Principal } from '../auth.ts'
import { forbidden, ApiError } from '../../processors/runtime/ops/errors.ts'
import { errorBody } from '../openapi.ts'
import type { Db } from '../queries/db.ts'

/** One event as the routes return it. */
interface StoredEventJson {
  global_seq: string
  event_id: string
  stream_id: string
  stream_version: number
  event_type: string
  event_time: string
  user_id: string | null
  tier: string | null
  recorded_at: string
  data: unknown
}

const EVENT_SCHEMA = {
  type: 'object',
  properties: {
    global_seq: { type: 'string', description: 'Global sequence number (decimal string; bigint)' },
    event_id: { type: 'string' }, stream_id: { type: 'string', description: 'The trace id' },
    stream_version: { type: 'integer', description: 'Position in the stream, from 1' },
    event_type: { type: 'string' }, event_time: { type: 'string', format: 'date-time' },
    user_id: { type: ['string', 'null'] }, tier: { type: ['string', 'null'] }, recorded_at: { type: 'string', format: 'date-time' },
    data: { type: 'object', description: 'The enriched event as archived (times in epoch µs)' },
  },
} as const
const LIMIT = { type: 'integer', minimum: 1, maximum: 1000, default: 100, description: 'Most events returned.' } as const
const ERRORS = Object.fromEntries([400, 401, 403, 503].map((c) => [c, errorBody]))

const COLUMNS = `global_seq::text, event_id, stream_id, stream_version, event_type, event_time, user_id, tier, recorded_at, data`
type Row = Omit<StoredEventJson, 'event_time' | 'recorded_at'> & { event_time: Date; recorded_at: Date }
const toJson = (r: Row): StoredEventJson => ({ ...r, event_time: r.event_time.toISOString(), recorded_at: r.recorded_at.toISOString() })

/** The user filter of a principal: its own id for a viewer, null (all) otherwise. */
function scopeOf(p: Principal): string | null {
  const role = highestRole(p)
  if (role === null) throw forbidden('token has no known role')
  return role === 'viewer' ? p.userId : null
}

async function query<R extends object>(db: Db, text: string, values: unknown[]): Promise<R[]> {
  try {
    return (await db.query(text, values)).rows as R[]
  } catch (err) {
    const code = (err as { code?: string }).code
    const missing = code === '42P01'
    throw new ApiError('UNAVAILABLE', missing ? 'the event store is not present in this database (run the event-store app, which creates es_events)' : 'the event store is unavailable; retry later', { cause: err })
  }
}

async function audit(db: Db, request: FastifyRequest, route: string, fields: { streamId?: string; afterSeq?: string }, n: number): Promise<void> {
  const p = request.principal!
  await query(db, 'INSERT INTO es_read_audit (subject, roles, route, stream_id, after_seq, rows) VALUES ($1, $2, $3, $4, $5, $6)', [
    p.userId, [...p.roles], route, fields.streamId ?? null, fields.afterSeq ?? null, n,
  ])
}

/** Registers the routes on the `/api/v2` plugin (after its auth hook). */
export function registerEventStoreRoutes(v2: FastifyInstance, db: Db): void {
  const tags = ['event-store']
  v2.get<{ Params: { stream_id: string }; Querystring: { from_version: number; limit: number } }>('/event-store/streams/:stream_id', {
    schema: {
      tags, summary: 'Read one stream (a trace) of the event store in version order', security: [{ bearerAuth: [] }],
      params: { type: 'object', properties: { stream_id: { type: 'string', minLength: 1, maxLength: 200 } }, required: ['stream_id'] },
      querystring: { type: 'object', additionalProperties: false, properties: { from_version: { type: 'integer', minimum: 1, default: 1, description: 'First version returned.' }, limit: LIMIT } },
      response: { 200: { type: 'object', properties: { stream_id: { type: 'string' }, events: { type: 'array', items: EVENT_SCHEMA }, next_version: { type: ['integer', 'null'] } } }, ...ERRORS },
    },
  }, async (request) => {
    const user = scopeOf(request.principal!)
    const { stream_id } = request.params
    const { from_version, limit } = request.query
    const rows = await query<Row>(db, `SELECT ${COLUMNS} FROM es_events WHERE stream_id = $1 AND stream_version >= $2 AND ($3::text IS NULL OR user_id = $3)
      ORDER BY stream_version LIMIT $4`, [stream_id, from_version, user, limit])
    await audit(db, request, 'event-store/streams', { streamId: stream_id }, rows.length)
    return { stream_id, events: rows.map(toJson), next_version: rows.length === limit ? rows.at(-1)!.stream_version + 1 : null }
  })
  v2.get<{ Querystring: { after: string; limit: number } }>('/event-store/events', {
    schema: {
      tags, summary: 'Read every event after a global sequence number (catch-up subscription)', security: [{ bearerAuth: [] }],
      querystring: { type: 'object', additionalProperties: false, properties: { after: { type: 'string', pattern: '^[0-9]{1,18}$', default: '0', description: 'Return events with a global sequence above this.' }, limit: LIMIT } },
      response: { 200: { type: 'object', properties: { events: { type: 'array', items: EVENT_SCHEMA }, next_after: { type: 'string', description: 'Pass as `after` to continue' } } }, ...ERRORS },
    },
  }, async (request) => {
    const user = scopeOf(request.principal!)
    const { after, limit } = request.query
    const rows = await query<Row>(db, `SELECT ${COLUMNS} FROM es_events WHERE global_seq > $1::bigint AND ($2::text IS NULL OR user_id = $2)
      ORDER BY global_seq LIMIT $3`, [after, user, limit])
    await audit(db, request, 'event-store/events', { afterSeq: after }, rows.length)
    return { events: rows.map(toJson), next_after: rows.at(-1)?.global_seq ?? after }
  })
}
