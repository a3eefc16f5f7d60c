/**
 * The ingest API `POST /v1/events` against the real gateway process, broker and schema registry:
 * accepted events are in Kafka when the answer comes (end offsets read right after it), field by
 * field as posted; invalid items are refused one by one with enrichment's rules while the valid
 * ones are written (207); gzip bodies; API key and JWT `events:write` auth; body, batch and rate
 * limits; a retried batch is not written twice; the auren_ingest_* metrics.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromAgentEventRecord, type AgentEvent, type AgentEventRecord } from '../../schemas/index.ts'
import { createTestDb, type TestDb } from '../helpers/aggregation-db.ts'
import { llmCallEvent } from '../helpers/events.ts'
import { createTestKafka, type TestKafka } from '../helpers/kafka.ts'
import type { AppProcess } from '../helpers/processes.ts'
import { startStreamGateway } from '../helpers/stream-gateway.ts'

const SECRET = randomBytes(32).toString('base64')
const KEY = randomBytes(24).toString('base64url') // 32 characters
const RATE_KEY = randomBytes(24).toString('base64url')
const jwt = (claims: Record<string, unknown>) => new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('producer-1').setExpirationTime('10m').sign(new TextEncoder().encode(SECRET))

describe('ingest API POST /v1/events (real gateway, broker, registry)', () => {
  let kafka: TestKafka
  let db: TestDb
  let gateway: AppProcess
  let url: string

  const post = async (body: unknown, headers: Record<string, string> = { 'x-api-key': KEY }) => {
    const raw = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body))
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: raw })
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> }
  }
  const endOffsetTotal = async () => [...(await kafka.admin.endOffsets(kafka.topics.agentEvents)).values()].reduce((a, b) => a + Number(b), 0)
  const readAll = async (n: number): Promise<AgentEvent[]> => {
    const records = await kafka.consumeUntil(kafka.topics.agentEvents, (rs) => rs.length >= n, 30_000)
    return Promise.all(records.map(async (r) => fromAgentEventRecord((await kafka.serde.decode(r.value, 'agent-event')) as AgentEventRecord)))
  }

  beforeAll(async () => {
    kafka = await createTestKafka()
    db = await createTestDb()
    gateway = await startStreamGateway(kafka.prefix, SECRET, {
      AUREN_GATEWAY_DB_SCHEMA: db.schema,
      AUREN_GATEWAY_INGEST_API_KEYS: `${KEY},${RATE_KEY}`,
      AUREN_GATEWAY_INGEST_MAX_BODY_BYTES: String(256 * 1024),
      AUREN_GATEWAY_INGEST_MAX_EVENTS: '100',
      AUREN_GATEWAY_INGEST_RATE_PER_S: '2',
      AUREN_GATEWAY_INGEST_RATE_BURST: '40',
    })
    url = `http://${gateway.address}/v1/events`
  })

  afterAll(async () => {
    gateway?.kill('SIGTERM')
    await gateway?.exited
    await kafka?.close()
    await db?.drop()
  })

  it('writes the valid events before answering (207), refuses the invalid ones item by item, and a retry writes nothing twice', async () => {
    const trace = `trace-${randomUUID()}`
    const good = Array.from({ length: 5 }, (_, i) => llmCallEvent({ agent: 'planner', trace, input: 100 + i, output: i, userId: i % 2 ? 'user-a' : null }))
    const bad = [
      { ...llmCallEvent(), payload: { ...llmCallEvent().payload, input_tokens: -1 } },
      { ...llmCallEvent(), timestamp: Date.now() }, // milliseconds sent as µs
      { ...llmCallEvent(), colour: 'blue' },
    ]
    const r = await post({ events: [good[0], bad[0], good[1], good[2], bad[1], good[3], bad[2], good[4]] })
    const offsetsAtAnswer = await endOffsetTotal()
    expect(r.status, JSON.stringify(r.body)).toBe(207)
    expect(offsetsAtAnswer).toBe(5) // acknowledged by Kafka before the answer
    expect(r.body).toMatchObject({ accepted: 5, rejected: 3 })
    expect((r.body.errors as { index: number; event_id: string; status: number; reason: string; errors: string[] }[]).map((e) => [e.index, e.event_id, e.status, e.reason])).toEqual([
      [1, bad[0]!.event_id, 400, 'validation'], [4, bad[1]!.event_id, 400, 'validation'], [6, bad[2]!.event_id, 400, 'schema'],
    ])
    expect(JSON.stringify(r.body.errors)).toMatch(/payload\.input_tokens must be a finite number >= 0, got -1/)

    const events = await readAll(5)
    expect(events.map((e) => e.event_id)).toEqual(good.map((e) => e.event_id)) // one trace, one partition: in order
    for (const [i, e] of events.entries()) expect(e).toEqual(good[i]) // field by field

    // The exporter retries the same batch (it did not see the answer): nothing is written again.
    const again = await post({ events: good })
    expect(again.status).toBe(200)
    expect(again.body).toEqual({ accepted: 5, rejected: 0 })
    expect(await endOffsetTotal()).toBe(5)
  })

  it('takes gzip bodies, JWTs with scope events:write, and refuses missing or wrong credentials', async () => {
    const before = await endOffsetTotal()
    const e1 = llmCallEvent({ agent: 'coder' })
    expect((await post(gzipSync(JSON.stringify({ events: [e1] })), { 'x-api-key': KEY, 'content-encoding': 'gzip' })).status).toBe(200)
    const e2 = llmCallEvent({ agent: 'coder' })
    const writer = await jwt({ scope: 'events:read events:write' })
    expect((await post([e2], { authorization: `Bearer ${writer}` })).status).toBe(200)
    expect(await endOffsetTotal()).toBe(before + 2)

    const reader = await jwt({ scope: 'events:read', roles: ['admin'] })
    const cases: [Record<string, string>, number, string][] = [
      [{}, 401, 'UNAUTHORIZED'],
      [{ 'x-api-key': 'k'.repeat(32) }, 401, 'UNAUTHORIZED'],
      [{ authorization: 'Bearer not-a-jwt' }, 401, 'UNAUTHORIZED'],
      [{ authorization: `Bearer ${reader}` }, 403, 'FORBIDDEN'],
    ]
    for (const [headers, status, error] of cases) {
      const r = await post([llmCallEvent()], headers)
      expect(r.status, JSON.stringify(headers)).toBe(status)
      expect(r.body.error).toBe(error)
    }
    expect(await endOffsetTotal()).toBe(before + 2)
  })

  it('limits: body size 413, batch size 400, bad JSON and bad gzip 400, nothing valid 400, rate 429 with Retry-After', async () => {
    const big = { events: [{ ...llmCallEvent(), attributes: { blob: 'x'.repeat(300 * 1024) } }] }
    const tooBig = await post(big)
    expect(tooBig.status).toBe(413)
    expect(String(tooBig.body.message)).toMatch(/larger than 262144 bytes/)
    const bomb = await post(gzipSync(JSON.stringify(big)), { 'x-api-key': KEY, 'content-encoding': 'gzip' })
    expect(bomb.status).toBe(413) // the limit counts decompressed bytes
    expect((await post(Array.from({ length: 101 }, () => llmCallEvent()))).status).toBe(400)
    expect((await post('{"events": [')).status).toBe(400)
    expect((await post(Buffer.from('not gzip'), { 'x-api-key': KEY, 'content-encoding': 'gzip' })).status).toBe(400)
    const none = await post({ events: [{ event_type: 'nope' }] })
    expect(none.status).toBe(400)
    expect(none.body).toMatchObject({ accepted: 0, rejected: 1 })

    const statuses: number[] = []
    let retryAfter: string | null = null
    for (let i = 0; i < 45; i++) {
      const r = await post([llmCallEvent()], { 'x-api-key': RATE_KEY })
      statuses.push(r.status)
      if (r.status === 429) retryAfter ??= r.headers.get('retry-after')
    }
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(40)
    expect(statuses).toContain(429)
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1)
  })

  it('exports auren_ingest_* metrics: received, accepted, rejected by reason, request duration', async () => {
    const text = await gateway.metrics()
    const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN)
    const offsets = await endOffsetTotal()
    expect(value(/auren_ingest_items_written_total\{api="events"\} (\d+)/)).toBe(offsets)
    expect(value(/auren_ingest_items_accepted_total\{api="events"\} (\d+)/)).toBe(offsets + 5) // the retried batch of 5
    expect(value(/auren_ingest_items_rejected_total\{api="events",reason="validation"\} (\d+)/)).toBe(2)
    expect(value(/auren_ingest_items_rejected_total\{api="events",reason="schema"\} (\d+)/)).toBe(1)
    expect(value(/auren_ingest_items_rejected_total\{api="events",reason="unknown_event_type"\} (\d+)/)).toBe(1)
    expect(text).toMatch(/auren_ingest_request_duration_seconds_count\{api="events",status="207"\} 1/)
    expect(value(/auren_ingest_items_received_total\{api="events"\} (\d+)/)).toBeGreaterThan(50)
  })
})
