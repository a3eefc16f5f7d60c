/**
 * The event store on the real PostgreSQL: append-only enforced by the database, optimistic
 * concurrency per stream, idempotent appends by event_id, NOTIFY on append.
 */
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { appendIdempotent, appendToStream, StreamConflictError } from '../../processors/event-store/io/event-store.ts'
import { createEventStoreMetrics } from '../../processors/event-store/metrics.ts'
import type { NewStreamEvent } from '../../processors/event-store/stream-event.ts'
import { createEventStoreTestSchema, type EventStoreTestSchema } from '../helpers/event-store.ts'
import { waitUntil } from '../helpers/wait-until.ts'

let env: EventStoreTestSchema
const ev = (eventType = 'agent_decision'): NewStreamEvent => ({ eventId: randomUUID(), eventType, eventTimeUs: Date.now() * 1000, userId: 'u1', tier: 'operational', data: { x: 1 } })

async function inTx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await env.pool.connect()
  try {
    await c.query('BEGIN')
    const out = await fn(c)
    await c.query('COMMIT')
    return out
  } catch (err) {
    await c.query('ROLLBACK')
    throw err
  } finally {
    c.release()
  }
}

beforeAll(async () => {
  env = await createEventStoreTestSchema()
})
afterAll(async () => {
  await env?.drop()
})

describe('event store', () => {
  it('refuses UPDATE, DELETE and TRUNCATE in the database itself', async () => {
    await inTx((c) => appendToStream(c, 'trace-ro', 0, [ev()]))
    await expect(env.pool.query("UPDATE es_events SET event_type = 'x' WHERE stream_id = 'trace-ro'")).rejects.toThrow(/append-only: UPDATE refused/)
    await expect(env.pool.query("DELETE FROM es_events WHERE stream_id = 'trace-ro'")).rejects.toThrow(/append-only: DELETE refused/)
    await expect(env.pool.query('TRUNCATE es_events')).rejects.toThrow(/append-only: TRUNCATE refused/)
    const r = await env.pool.query("SELECT count(*)::int AS n FROM es_events WHERE stream_id = 'trace-ro' AND event_type = 'agent_decision'")
    expect(r.rows[0].n).toBe(1)
  })

  it('lets exactly one of two concurrent appends at the same expected version win; the other gets a conflict, counted', async () => {
    const registry = new Registry()
    const { conflicts } = createEventStoreMetrics(registry)
    await inTx((c) => appendToStream(c, 'trace-cc', 0, [ev(), ev()], { conflicts }))
    const results = await Promise.allSettled([inTx((c) => appendToStream(c, 'trace-cc', 2, [ev()], { conflicts })), inTx((c) => appendToStream(c, 'trace-cc', 2, [ev()], { conflicts }))])
    expect(results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<number>).value)).toEqual([3])
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult
    expect(lost.reason).toBeInstanceOf(StreamConflictError)
    expect(lost.reason).toMatchObject({ streamId: 'trace-cc', expectedVersion: 2, actualVersion: 3 })
    const v = await env.pool.query("SELECT array_agg(stream_version ORDER BY stream_version) AS v FROM es_events WHERE stream_id = 'trace-cc'")
    expect(v.rows[0].v).toEqual([1, 2, 3])
    expect(await registry.getSingleMetricAsString('auren_event_store_append_conflicts_total')).toMatch(/^auren_event_store_append_conflicts_total 1$/m)
  })

  it('appends a redelivered event_id once, at the end of its stream, and notifies listeners with the new global sequence', async () => {
    const listener = new pg.Client({ connectionString: env.databaseUrl })
    await listener.connect()
    const notes: string[] = []
    listener.on('notification', (n) => notes.push(n.payload ?? ''))
    await listener.query('LISTEN auren_es_append')
    try {
      const a = { ...ev(), streamId: 'trace-id' }
      const b = { ...ev(), streamId: 'trace-id' }
      expect(await inTx((c) => appendIdempotent(c, [a, b]))).toBe(2)
      expect(await inTx((c) => appendIdempotent(c, [b, a, b]))).toBe(0)
      const rows = await env.pool.query("SELECT event_id, stream_version, global_seq::text AS seq FROM es_events WHERE stream_id = 'trace-id' ORDER BY stream_version")
      expect(rows.rows.map((r) => [r.event_id, r.stream_version])).toEqual([[a.eventId, 1], [b.eventId, 2]])
      const top = rows.rows[1].seq
      await waitUntil('the NOTIFY of the append', () => notes.includes(`${env.schema}:${top}`), { timeoutMs: 10_000 })
    } finally {
      await listener.end()
    }
  })

  it('appends concurrent batches (one per partition, overlapping, with repeats) each event_id once, stream versions gapless in global order', async () => {
    const streams = ['s-a', 's-b', 's-c'].map((s) => `${s}-${randomUUID().slice(0, 8)}`)
    const events = Array.from({ length: 600 }, (_, i) => ({ ...ev(), streamId: streams[i % 3]! }))
    // Six batches of 150 from overlapping ranges: every event is in two batches; one repeats an event inside the batch.
    const batches = Array.from({ length: 6 }, (_, b) => events.slice(b * 90, b * 90 + 150))
    batches[2]!.push(batches[2]![0]!)
    const appended = await Promise.all(batches.map((batch) => inTx((c) => appendIdempotent(c, batch))))
    const wanted = new Set(batches.flat().map((e) => e.eventId))
    expect(appended.reduce((a, b) => a + b, 0)).toBe(wanted.size)
    const rows = (await env.pool.query<{ event_id: string; stream_id: string; stream_version: number }>(
      'SELECT event_id, stream_id, stream_version FROM es_events WHERE stream_id = ANY($1::text[]) ORDER BY global_seq', [streams],
    )).rows
    expect(rows.map((r) => r.event_id).sort()).toEqual([...wanted].sort())
    for (const s of streams) {
      const versions = rows.filter((r) => r.stream_id === s).map((r) => r.stream_version)
      expect(versions).toEqual(versions.map((_, i) => i + 1)) // 1, 2, 3… in global sequence order
    }
    expect(await inTx((c) => appendIdempotent(c, events))).toBe(events.length - wanted.size) // the rest only
  })
})
