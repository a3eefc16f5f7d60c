/**
 * The gateway under real faults of the stack of `$AUREN_STACK_DIR` (the servers are stopped and
 * started through `scripts/stack.sh`, restored in `finally`; run this file alone, or point
 * AUREN_STACK_DIR at a stack instance of your own while others use the shared one):
 *
 * - PostgreSQL stopped (fast shutdown): every /api/v2 route answers 503 `UNAVAILABLE`, never 500,
 *   `/readyz` is 503 naming the database `down`; after the restart the same requests answer 200
 *   again, from the same process (issue 8 item 12).
 * - SIGTERM during a broker outage: WebSocket clients are closed 1001, the stream consumer is
 *   stopped without waiting on the broker, the process exits 0 within its 10 s limit (issue 10
 *   item 10).
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { STOP_TIMEOUT_MS } from '../../gateway/kafka-fanout.ts'
import { API_ROUTES } from '../../gateway/routes.ts'
import { spanEventId } from '../../gateway/ingest/otlp-map.ts'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { createTestDb, feed, splitByTrace, type TestDb } from '../helpers/aggregation-db.ts'
import { ensureAlertTables } from '../../processors/alerting/notifiers/alert-delivery.ts'
import { enriched } from '../helpers/aggregation-events.ts'
import { llmCallEvent } from '../helpers/events.ts'
import { createTestKafka, type TestKafka } from '../helpers/kafka.ts'
import { startGateway, type AppProcess } from '../helpers/processes.ts'
import { brokerOutage, databaseOutage, restoreStack } from '../helpers/stack-control.ts'
import { hs256Token, startStreamGateway } from '../helpers/stream-gateway.ts'
import { pause, waitUntil as sharedWaitUntil } from '../helpers/wait-until.ts'

const SECRET = randomBytes(32).toString('base64')
const T0 = Date.parse('2025-03-01T10:00:00Z')
const RANGE = 'from=2025-03-01T09:00:00Z&to=2025-03-01T12:00:00Z'

/** Polls `check` every 200 ms until it returns true (the shared helper); throws with `what` after timeoutMs. */
const waitUntil = async (what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> => {
  await sharedWaitUntil(what, check, { timeoutMs, everyMs: 200 })
}

/** Every route with a query that answers 200 on the data below (agent_id where the route takes one, so the agent check reads the database too). */
const routeUrls = () => API_ROUTES.map((r) => {
  const props = (r.query as { properties: Record<string, unknown> }).properties
  return `/api/v2/${r.path}?${RANGE}${'agent_id' in props ? '&agent_id=planner' : ''}${r.path === 'export/analytics' ? '&dataset=token_usage&format=json' : ''}`
})

describe('gateway with PostgreSQL stopped', () => {
  let db: TestDb
  let gateway: AppProcess
  let token: string

  beforeAll(async () => {
    db = await createTestDb()
    await ensureAlertTables(db.pool(1)) // the alerting app's tables, in the same schema as a deployment has them (GET /api/v2/alerts)
    const events = Array.from({ length: 12 }, (_, i) => llmCallEvent({ agent: i % 2 ? 'planner' : 'coder', userId: 'user-a', timestampUs: (T0 + i * 5_000) * 1000 }))
    await feed([db.sink()], splitByTrace(events.map((e) => enriched(e, { cost_usd: 0.001 })), 2), { seed: 9 })
    gateway = await startGateway({ AUREN_GATEWAY_DB_SCHEMA: db.schema, AUREN_GATEWAY_JWT_SECRET: SECRET })
    await gateway.waitReady()
    token = await hs256Token(SECRET, 'ops-1', ['operator'])
  })

  afterAll(async () => {
    await restoreStack()
    gateway?.kill('SIGTERM')
    await gateway?.exited
    await db?.drop()
  })

  const call = async (url: string) => {
    const res = await fetch(`http://${gateway.address}${url}`, { headers: { authorization: `Bearer ${token}` } })
    return { status: res.status, body: (await res.json()) as Record<string, unknown> }
  }

  it('answers 503 UNAVAILABLE on every /api/v2 route while the database is down, /readyz names it, and 200 again after', async () => {
    for (const url of routeUrls()) expect((await call(url)).status, url).toBe(200)
    const seen = new Map<string, number[]>()
    const { outageMs } = await databaseOutage(8_000, async () => {
      await waitUntil('/readyz reports the database down', async () => {
        const res = await fetch(`http://${gateway.address}/readyz`)
        const body = (await res.json()) as { database?: string; reason?: string }
        return res.status === 503 && body.database === 'down' && typeof body.reason === 'string'
      }, 20_000)
      // Several rounds: the first meets pooled connections the shutdown closed, later ones new connects refused.
      for (let round = 0; round < 3; round++) {
        for (const url of routeUrls()) {
          const r = await call(url)
          seen.set(url, [...(seen.get(url) ?? []), r.status])
          expect(r.status, `${url}: ${JSON.stringify(r.body)}`).toBe(503)
          expect(r.body).toEqual({ error: 'UNAVAILABLE', message: 'the rollup database is unavailable; retry later' })
        }
      }
    })
    expect(seen.size).toBe(API_ROUTES.length)
    await waitUntil('/readyz ready again', async () => (await fetch(`http://${gateway.address}/readyz`)).status === 200, 60_000)
    for (const url of routeUrls()) expect((await call(url)).status, url).toBe(200)
    expect(gateway.alive()).toBe(true)
    const metrics = await gateway.metrics()
    expect(metrics.split('\n').filter((l) => l.startsWith('auren_gateway_http_requests_total{') && /status="500"/.test(l))).toEqual([])
    expect(outageMs).toBeGreaterThanOrEqual(8_000)
  })
})

describe('gateway SIGTERM during a broker outage', () => {
  /** SIGTERM this long after the broker's SIGKILL, one gateway each: before, while and after its consumer notices. */
  const DELAYS_MS = [500, 4_000, 12_000]
  let kafka: TestKafka
  let db: TestDb
  const gateways: AppProcess[] = []

  beforeAll(async () => {
    kafka = await createTestKafka()
    db = await createTestDb()
    for (const _ of DELAYS_MS) gateways.push(await startStreamGateway(kafka.prefix, SECRET, { AUREN_GATEWAY_DB_SCHEMA: db.schema }))
  })

  afterAll(async () => {
    await restoreStack()
    for (const g of gateways) if (g.alive()) g.kill('SIGKILL')
    await kafka?.close().catch(() => {})
    await db?.drop()
  })

  it('closes clients 1001, stops the consumer without waiting on the broker and exits 0 within 10 s', async () => {
    const clients = await Promise.all(gateways.flatMap((g) => [0, 1].map(async (i) => {
      const ws = new WebSocket(`ws://${g.address}/v1/stream`, { headers: { authorization: `Bearer ${await hs256Token(SECRET, `ops-${i}`, ['operator'])}` } })
      ws.on('error', () => {})
      const messages: Record<string, unknown>[] = []
      ws.on('message', (d) => messages.push(JSON.parse(d.toString()) as Record<string, unknown>))
      const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })))
      await waitUntil('welcome', async () => messages.some((m) => m.type === 'welcome'), 10_000)
      const id = randomUUID()
      ws.send(JSON.stringify({ type: 'subscribe', id, channels: ['events'] }))
      await waitUntil('subscribed', async () => messages.some((m) => m.id === id && m.type === 'subscribed'), 10_000)
      return { closed }
    })))

    const stops: { delayMs: number; exit: number | string; stopMs: number }[] = []
    await brokerOutage(DELAYS_MS.at(-1)! + 12_000, async () => {
      const t0 = Date.now()
      await Promise.all(gateways.map(async (g, i) => {
        await pause(DELAYS_MS[i]! - (Date.now() - t0))
        const t = Date.now()
        g.kill('SIGTERM')
        const exit = await g.exited
        stops.push({ delayMs: DELAYS_MS[i]!, exit, stopMs: Date.now() - t })
      }))
    })
    const closes = await Promise.all(clients.map((c) => c.closed))
    expect(closes.map((c) => c.code)).toEqual(clients.map(() => 1001))
    const output = gateways.map((g, i) => `--- gateway ${i}:\n${g.output().slice(-2500)}`).join('\n')
    for (const s of stops) {
      expect(s.exit, `${JSON.stringify(stops)}\n${output}`).toBe(0)
      expect(s.stopMs, `${JSON.stringify(stops)}\n${output}`).toBeLessThan(10_000)
      // Without waiting on the broker: the consumer's stop budget plus the rest of the shutdown.
      expect(s.stopMs, `${JSON.stringify(stops)}\n${output}`).toBeLessThan(STOP_TIMEOUT_MS + 2_000)
    }
    for (const g of gateways) {
      expect(g.output()).toMatch(/stream consumer (stopped|not stopped in time)/)
      expect(g.output()).toMatch(/shutdown complete/)
    }
    console.log(`SIGTERM during a broker outage: ${stops.map((s) => `${s.delayMs} ms after the kill: exit ${s.exit} in ${s.stopMs} ms`).join('; ')}`)
  })
})

describe('ingest API during a broker outage', () => {
  const KEY = randomBytes(24).toString('base64url')
  let kafka: TestKafka
  let db: TestDb
  let gateway: AppProcess

  beforeAll(async () => {
    kafka = await createTestKafka()
    db = await createTestDb()
    gateway = await startStreamGateway(kafka.prefix, SECRET, { AUREN_GATEWAY_DB_SCHEMA: db.schema, AUREN_GATEWAY_INGEST_API_KEYS: KEY, AUREN_GATEWAY_INGEST_ACK_TIMEOUT_MS: '2000' })
  })

  afterAll(async () => {
    await restoreStack()
    gateway?.kill('SIGTERM')
    await gateway?.exited
    await kafka?.close().catch(() => {})
    await db?.drop()
  })

  it('answers 503 with Retry-After while the broker is down; after it returns, the retried batch is in Kafka once per event_id', async () => {
    const post = async (events: unknown[]) => {
      const res = await fetch(`http://${gateway.address}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': KEY }, body: JSON.stringify({ events }) })
      return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as Record<string, unknown> }
    }
    const before = Array.from({ length: 3 }, () => llmCallEvent({ agent: 'planner' }))
    expect((await post(before)).status).toBe(200)
    const during = Array.from({ length: 4 }, () => llmCallEvent({ agent: 'planner' }))
    const answers: { status: number; retryAfter: string | null; ms: number }[] = []
    await brokerOutage(15_000, async () => {
      for (let i = 0; i < 3; i++) {
        const t0 = Date.now()
        const r = await post(during)
        answers.push({ status: r.status, retryAfter: r.retryAfter, ms: Date.now() - t0 })
      }
    })
    for (const a of answers) {
      expect(a.status, JSON.stringify(answers)).toBe(503)
      expect(Number(a.retryAfter)).toBeGreaterThanOrEqual(1)
      expect(a.ms).toBeLessThan(2_000 + 2_000)
    }
    // The exporter keeps retrying until accepted.
    let last = { status: 0 }
    await waitUntil('the retried batch is accepted after the broker returned', async () => (last = await post(during)).status === 200, 120_000)
    expect(last.status).toBe(200)
    const ids = [...before, ...during].map((e) => e.event_id)
    const records = await kafka.consumeUntil(kafka.topics.agentEvents, (rs) => rs.length >= ids.length, 60_000)
    const seen = await Promise.all(records.map(async (r) => ((await kafka.serde.decode(r.value, 'agent-event')) as { event_id: string }).event_id))
    // Exactly once: read to the end offsets (nothing more arrives later).
    const end = [...(await kafka.admin.endOffsets(kafka.topics.agentEvents)).values()].reduce((a, b) => a + Number(b), 0)
    expect(end).toBe(ids.length)
    expect([...seen].sort()).toEqual([...ids].sort())
  })

  it('the OpenTelemetry exporter retries the 503s of a broker outage; every span is then in Kafka once by event_id', async () => {
    const topicEnd = async () => [...(await kafka.admin.endOffsets(kafka.topics.agentEvents)).values()].reduce((a, b) => a + Number(b), 0)
    const before = await topicEnd()
    const exporter = new OTLPTraceExporter({ url: `http://${gateway.address}/v1/traces`, headers: { 'x-api-key': KEY }, timeoutMillis: 120_000 })
    const provider = new BasicTracerProvider({ forceFlushTimeoutMillis: 120_000, spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 600_000, exportTimeoutMillis: 120_000 })] })
    const tracer = provider.getTracer('auren-test')
    const spans = Array.from({ length: 20 }, (_, i) => {
      const s = tracer.startSpan(`chat ${i}`, { attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.agent.name': 'planner', 'gen_ai.usage.input_tokens': 10 + i, 'gen_ai.usage.output_tokens': i } })
      s.end()
      return s
    })
    let flushed: Promise<void> | null = null
    const t0 = Date.now()
    await brokerOutage(3_000, async () => {
      await pause(500)
      flushed = provider.forceFlush() // the export starts while the broker is down
    })
    await flushed
    const exportMs = Date.now() - t0
    await provider.shutdown()
    const metrics = await gateway.metrics()
    const count = (status: string) => Number(new RegExp(`auren_ingest_request_duration_seconds_count\\{api="otlp",status="${status}"\\} (\\d+)`).exec(metrics)?.[1] ?? 0)
    expect(count('503'), metrics.split('\n').filter((l) => l.includes('otlp')).join('\n')).toBeGreaterThanOrEqual(1) // refused while the broker was down
    expect(count('200')).toBe(1) // then accepted once
    const ids = spans.map((s) => spanEventId(s.spanContext().traceId, s.spanContext().spanId))
    const records = await kafka.consumeUntil(kafka.topics.agentEvents, (rs) => rs.length >= before + ids.length, 60_000)
    const seen = await Promise.all(records.map(async (r) => ((await kafka.serde.decode(r.value, 'agent-event')) as { event_id: string }).event_id))
    expect(await topicEnd()).toBe(before + ids.length)
    expect(seen.filter((id) => ids.includes(id)).sort()).toEqual([...ids].sort())
    console.log(`OTLP export across a broker outage: ${count('503')} answers 503, then 200; ${exportMs} ms from the first attempt to the acknowledged export`)
  })
})
