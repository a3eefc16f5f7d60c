/**
 * The gateway's event-store routes on the real PostgreSQL, through `app.inject` with real
 * signed tokens: a stream in order, a catch-up read after a global sequence, viewer scoping,
 * 401 without a token, 400 on bad parameters, and an audit row for every read.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildGateway } from '../../gateway/app.ts'
import { createAuthenticator } from '../../gateway/auth.ts'
import { DEFAULT_API_CONFIG } from '../../gateway/config.ts'
import { appendIdempotent } from '../../processors/event-store/io/event-store.ts'
import type { StreamedEvent } from '../../processors/event-store/stream-event.ts'
import { createEventStoreTestSchema, type EventStoreTestSchema } from '../helpers/event-store.ts'
import { hs256Token } from '../helpers/stream-gateway.ts'

let env: EventStoreTestSchema
let app: FastifyInstance
const secret = randomBytes(32).toString('hex')
const ev = (streamId: string, userId: string, i: number): StreamedEvent => ({
  streamId, eventId: randomUUID(), eventType: 'agent_decision', eventTimeUs: Date.parse('2026-11-30T10:00:00Z') * 1000 + i, userId, tier: 'operational', data: { i },
})

async function get(url: string, sub: string | null, roles: string[] = ['operator']) {
  const headers = sub === null ? {} : { authorization: `Bearer ${await hs256Token(secret, sub, roles)}` }
  return app.inject({ method: 'GET', url, headers })
}

beforeAll(async () => {
  env = await createEventStoreTestSchema()
  const c = await env.pool.connect()
  await c.query('BEGIN')
  await appendIdempotent(c, [ev('trace-a', 'alice', 1), ev('trace-b', 'bob', 2), ev('trace-a', 'alice', 3), ev('trace-a', 'bob', 4), ev('trace-b', 'bob', 5)])
  await c.query('COMMIT')
  c.release()
  app = buildGateway({ db: env.pool, auth: createAuthenticator({ mode: 'hs256', secret, clockToleranceS: 0 }), registry: new Registry(), api: DEFAULT_API_CONFIG })
  await app.ready()
})
afterAll(async () => {
  await app?.close()
  await env?.drop()
})

describe('event-store routes', () => {
  it('read a stream in version order, page by page', async () => {
    const res = await get('/api/v2/event-store/streams/trace-a?limit=2', 'ops-1')
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body.events.map((e: { stream_version: number; data: { i: number } }) => [e.stream_version, e.data.i])).toEqual([[1, 1], [2, 3]])
    expect(body.next_version).toBe(3)
    const rest = (await get('/api/v2/event-store/streams/trace-a?from_version=3', 'ops-1')).json()
    expect(rest.events.map((e: { data: { i: number } }) => e.data.i)).toEqual([4])
    expect(rest.next_version).toBeNull()
  })

  it('read every event after a global sequence, in global order (catch-up)', async () => {
    const first = (await get('/api/v2/event-store/events?limit=3', 'ops-1')).json()
    expect(first.events.map((e: { data: { i: number } }) => e.data.i)).toEqual([1, 2, 3])
    const next = (await get(`/api/v2/event-store/events?after=${first.next_after}`, 'ops-1')).json()
    expect(next.events.map((e: { data: { i: number } }) => e.data.i)).toEqual([4, 5])
    const done = (await get(`/api/v2/event-store/events?after=${next.next_after}`, 'ops-1')).json()
    expect(done).toEqual({ events: [], next_after: next.next_after })
  })

  it("scope a viewer to its own user's events", async () => {
    const stream = (await get('/api/v2/event-store/streams/trace-a', 'alice', ['viewer'])).json()
    expect(stream.events.map((e: { user_id: string }) => e.user_id)).toEqual(['alice', 'alice'])
    const all = (await get('/api/v2/event-store/events', 'bob', ['viewer'])).json()
    expect(all.events.map((e: { data: { i: number } }) => e.data.i)).toEqual([2, 4, 5])
  })

  it('refuse a missing token (401) and bad parameters (400)', async () => {
    expect((await get('/api/v2/event-store/events', null)).statusCode).toBe(401)
    expect((await get('/api/v2/event-store/events?after=-1', 'ops-1')).statusCode).toBe(400)
    expect((await get('/api/v2/event-store/events?bogus=1', 'ops-1')).statusCode).toBe(400)
    expect((await get('/api/v2/event-store/streams/trace-a?limit=0', 'ops-1')).statusCode).toBe(400)
  })

  it('record every read in the audit table: who, what, when', async () => {
    const before = Number((await env.pool.query('SELECT count(*) AS n FROM es_read_audit')).rows[0].n)
    const t0 = new Date()
    await get('/api/v2/event-store/streams/trace-b', 'carol', ['admin'])
    await get('/api/v2/event-store/events?after=2&limit=1', 'alice', ['viewer'])
    const rows = (await env.pool.query('SELECT subject, roles, route, stream_id, after_seq::text, rows, read_at FROM es_read_audit ORDER BY id OFFSET $1', [before])).rows
    expect(rows.map(({ read_at: _r, ...r }) => r)).toEqual([
      { subject: 'carol', roles: ['admin'], route: 'event-store/streams', stream_id: 'trace-b', after_seq: null, rows: 2 },
      { subject: 'alice', roles: ['viewer'], route: 'event-store/events', stream_id: null, after_seq: '2', rows: 1 },
    ])
    expect(rows.every((r) => r.read_at.getTime() >= t0.getTime() - 1000)).toBe(true)
  })
})
