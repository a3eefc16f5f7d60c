/**
 * The WebSocket stream `auren.v1` against the real pipeline: the enrichment app and the gateway
 * run as processes on fresh topics; clients connect with real signed tokens (jose, HS256) and
 * AgentEvents are produced to the input topic.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import type { AgentEvent } from '../../schemas/index.ts'
import { agentEvent } from '../helpers/aggregation-events.ts'
import { createTestDb, type TestDb } from '../helpers/aggregation-db.ts'
import { llmCallEvent } from '../helpers/events.ts'
import type { AppProcess } from '../helpers/processes.ts'
import { useRunningApp } from '../helpers/running-app.ts'
import { hs256Token, startStreamGateway } from '../helpers/stream-gateway.ts'
import { waitUntil } from '../helpers/wait-until.ts'

const SECRET = randomBytes(32).toString('base64')
type Msg = Record<string, unknown> & { type: string }

const token = (sub: string, roles: string[], o: { secret?: string; expSeconds?: number } = {}) => hs256Token(o.secret ?? SECRET, sub, roles, o.expSeconds ?? 600)

class Client {
  readonly messages: Msg[] = []
  readonly closed: Promise<{ code: number; reason: string }>
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => this.messages.push(JSON.parse(d.toString()) as Msg))
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })))
    ws.on('error', () => {})
  }
  static connect(url: string, bearer?: string): Client {
    return new Client(new WebSocket(url, bearer ? { headers: { Authorization: `Bearer ${bearer}` } } : {}))
  }
  send(m: unknown): void {
    this.ws.send(typeof m === 'string' ? m : JSON.stringify(m))
  }
  async waitFor(pred: (m: Msg) => boolean, timeoutMs = 20_000): Promise<Msg> {
    return waitUntil('a matching message', () => this.messages.find(pred), { timeoutMs }).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}; got ${JSON.stringify(this.messages).slice(0, 2000)}`)
    })
  }
  /** Event ids delivered to a subscription (event and batch frames), in order. */
  eventIds(sub: string): string[] {
    return this.messages.flatMap((m) => m.subscription_id !== sub ? [] : m.type === 'event' ? [(m.event as { event_id: string }).event_id] : m.type === 'batch' ? (m.events as { event_id: string }[]).map((e) => e.event_id) : [])
  }
  async subscribe(body: Record<string, unknown>): Promise<string> {
    await this.waitFor((x) => x.type === 'welcome')
    const id = randomUUID()
    this.send({ type: 'subscribe', id, ...body })
    const m = await this.waitFor((x) => x.id === id)
    if (m.type !== 'subscribed') throw new Error(JSON.stringify(m))
    return m.subscription_id as string
  }
  close(): void {
    this.ws.close()
  }
}

/** An LLM call; failed ones are tiered critical by enrichment. */
function llm(o: { agent: string; user: string; failed?: boolean; confidence?: number; id?: string }): AgentEvent {
  const e = llmCallEvent({ agent: o.agent, userId: o.user, ...(o.id ? { eventId: o.id } : {}) })
  return {
    ...e,
    payload: { ...e.payload, success: !o.failed, error_type: o.failed ? 'timeout' : null },
    performance: o.confidence === undefined ? null : { latency_ms: 10, success: !o.failed, error_type: null, confidence_score: o.confidence, memory_usage_mb: null, cpu_percent: null },
  }
}
/** A knowledge access (analytical). */
function knowledge(agent: string, user: string, o: { confidence?: number } = {}): AgentEvent {
  const performance = o.confidence === undefined ? undefined : { latency_ms: 10, success: true, error_type: null, confidence_score: o.confidence, memory_usage_mb: null, cpu_percent: null }
  return agentEvent('knowledge_access', { knowledge_item_id: 'k1', domain: null, access_type: 'read', items_retrieved: 1, found: true }, { id: randomUUID(), timestampUs: Date.now() * 1000, agent, user, trace: `t-${randomUUID()}`, ...(performance ? { performance } : {}) })
}

describe('gateway WebSocket stream (auren.v1)', () => {
  const pipeline = useRunningApp('enrichment')
  let gateway: AppProcess
  let db: TestDb
  let url: string
  const opened: Client[] = []
  const connect = (bearer?: string) => {
    const c = Client.connect(url, bearer)
    opened.push(c)
    return c
  }

  beforeAll(async () => {
    db = await createTestDb() // rollup tables, so that /readyz depends on the stream alone
    gateway = await startStreamGateway(pipeline.kafka.prefix, SECRET, {
      AUREN_GATEWAY_DB_SCHEMA: db.schema,
      AUREN_GATEWAY_WS_MAX_SUBSCRIPTIONS: '4',
    })
    url = `ws://${gateway.address}/v1/stream`
    // The fan-out starts at the latest offsets once it joined its group: produce probes until one arrives.
    const probe = connect(await token('ops', ['operator']))
    const sub = await probe.subscribe({ channels: ['events'], filters: { agent_ids: ['probe'] } })
    await waitUntil('a probe event delivered by the stream', async () => {
      await pipeline.kafka.produceEvents([llm({ agent: 'probe', user: 'probe', failed: true })])
      return probe.waitFor((m) => m.subscription_id === sub && m.type === 'event', 2_000)
    }, { timeoutMs: 60_000 }).catch((err: unknown) => {
      throw new Error(`stream never delivered (${(err as Error).message}):\n${gateway.output().slice(-4000)}`)
    })
  })

  afterAll(async () => {
    for (const c of opened) c.ws.terminate()
    gateway?.kill('SIGTERM')
    await gateway?.exited
    await db?.drop()
  })

  it('reports the stream consumer in /readyz once it joined its group', async () => {
    // The probe client of beforeAll got an event, so the consumer has joined.
    const res = await fetch(`http://${gateway.address}/readyz`)
    const body = await res.json()
    expect(body, JSON.stringify(body)).toMatchObject({ status: 'ready', stream: { consumer: 'joined', connections: expect.any(Number) } })
    expect(res.status).toBe(200)
  })

  it('welcomes clients authenticated by header or by a first auth message', async () => {
    const a = connect(await token('ops', ['operator']))
    const w = await a.waitFor((m) => m.type === 'welcome')
    expect(w).toMatchObject({ protocol: 'auren.v1', connection_id: expect.any(String), channels: expect.arrayContaining(['events', 'metrics', 'alerts']) })
    expect(Number.isNaN(Date.parse(w.server_time as string))).toBe(false)
    const b = connect()
    b.ws.on('open', async () => b.send({ type: 'auth', token: await token('u1', ['viewer']) }))
    const wv = await b.waitFor((m) => m.type === 'welcome')
    expect(wv.channels).not.toContain('metrics')
  })

  it('closes 4401 for expired, forged, alg:none, garbage and missing tokens', async () => {
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'x', roles: ['admin'], exp: 4e9 })).toString('base64url')}.`
    const bad = [await token('u', ['admin'], { expSeconds: -60 }), await token('u', ['admin'], { secret: randomBytes(32).toString('base64') }), none, 'garbage']
    for (const t of bad) expect((await connect(t).closed).code).toBe(4401)
    const first = connect()
    first.ws.on('open', () => first.send({ type: 'ping' }))
    expect((await first.closed).code).toBe(4401)
  })

  it('closes 4408 without auth within 5 s', async () => {
    const started = Date.now()
    expect((await connect().closed).code).toBe(4408)
    expect(Date.now() - started).toBeGreaterThanOrEqual(4_900)
  }, 15_000)

  it('answers bad messages, unknown channels, too many subscriptions and pings', async () => {
    const c = connect(await token('ops', ['admin']))
    await c.waitFor((m) => m.type === 'welcome')
    c.send('not json')
    expect(await c.waitFor((m) => m.type === 'error')).toEqual({ type: 'error', code: 'BAD_REQUEST', message: 'message is not valid JSON' })
    c.send({ type: 'set_update_interval', id: 'i1', interval_ms: 5 })
    expect(await c.waitFor((m) => m.id === 'i1')).toMatchObject({ type: 'error', code: 'BAD_REQUEST', message: expect.stringContaining('from 100 to 60000') })
    c.send({ type: 'subscribe', id: 'u1', channels: ['gossip'] })
    expect(await c.waitFor((m) => m.id === 'u1')).toMatchObject({ type: 'error', code: 'UNKNOWN_CHANNEL' })
    for (let i = 0; i < 4; i++) await c.subscribe({ channels: ['events'] })
    c.send({ type: 'subscribe', id: 'many', channels: ['events'] })
    expect(await c.waitFor((m) => m.id === 'many')).toMatchObject({ type: 'error', code: 'TOO_MANY_SUBSCRIPTIONS' })
    c.send({ type: 'ping', id: 'p' })
    expect(await c.waitFor((m) => m.type === 'pong')).toEqual({ type: 'pong', id: 'p' })
  })

  it('closes 4429 on a repeated rate limit and 1009 on a frame too large', async () => {
    const c = connect(await token('ops', ['operator']))
    await c.waitFor((m) => m.type === 'welcome')
    for (let i = 0; i < 60; i++) c.send({ type: 'ping', id: `r${i}` })
    expect((await c.closed).code).toBe(4429)
    expect(c.messages.filter((m) => m.type === 'pong')).toHaveLength(40) // the burst (AUREN_GATEWAY_WS_RATE_BURST)
    expect(c.messages.filter((m) => m.type === 'error' && m.code === 'RATE_LIMITED')).toHaveLength(9)
    const big = connect(await token('ops', ['operator']))
    await big.waitFor((m) => m.type === 'welcome')
    big.send({ type: 'ping', id: 'x'.repeat(70_000) })
    expect((await big.closed).code).toBe(1009)
  })

  it('delivers critical events at once, batches the others, filters and scopes', async () => {
    const op = connect(await token('ops', ['operator']))
    const all = await op.subscribe({ channels: ['events'] })
    const byAgent = await op.subscribe({ channels: ['llm_usage'], filters: { agent_ids: ['agent-x'] } })
    const byTier = await op.subscribe({ channels: ['events'], filters: { tiers: ['analytical'] } })
    const byConf = await op.subscribe({ channels: ['events'], filters: { min_confidence: 0.8 } })
    const op2 = connect(await token('ops2', ['admin']))
    const byType = await op2.subscribe({ channels: ['memory'], filters: { event_types: ['knowledge_access'] } })
    const viewer = connect(await token('u1', ['viewer']))
    const mine = await viewer.subscribe({ channels: ['events'] })

    // One trace: the case and the first sentinel share a partition, so they reach the gateway in this order.
    const trace = `t-${randomUUID()}`
    const crit = { ...llm({ agent: 'agent-x', user: 'u1', failed: true, confidence: 0.9 }), trace_id: trace }
    const oper = { ...llm({ agent: 'agent-y', user: 'u2', confidence: 0.5 }), trace_id: trace }
    const anal = { ...knowledge('agent-x', 'u1'), trace_id: trace }
    await pipeline.kafka.produceEvents([crit, oper, anal, crit]) // crit twice: delivered once

    const ev = await op.waitFor((m) => m.type === 'event' && m.subscription_id === all)
    const e = ev.event as Record<string, unknown>
    expect(e).toMatchObject({ event_id: crit.event_id, tier: 'critical', event_type: 'llm_call_completed', user_id: 'u1', payload: { model: 'gpt-4o', success: false } })
    expect(e.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/)
    expect(e.enriched_at).toMatch(/Z$/)
    const opBatch = await op.waitFor((m) => m.type === 'batch' && m.subscription_id === all && m.tier === 'operational')
    expect((opBatch.events as unknown[]).length).toBeLessThanOrEqual(50)
    const anBatch = await op.waitFor((m) => m.type === 'batch' && m.subscription_id === all && m.tier === 'analytical')
    expect((anBatch.events as unknown[]).length).toBeLessThanOrEqual(200)
    const delivered = async (c: Client, sub: string, ev: AgentEvent) =>
      waitUntil(`event ${ev.event_id} (${ev.event_type}) on subscription ${sub}`, () => c.eventIds(sub).includes(ev.event_id), { timeoutMs: 20_000, describe: () => JSON.stringify(c.eventIds(sub)) })
    for (const x of [crit, oper, anal]) await delivered(op, all, x)
    await delivered(op, byAgent, crit)
    await delivered(op, byTier, anal)
    await delivered(op, byConf, crit)
    await delivered(op2, byType, anal)
    await delivered(viewer, mine, crit)
    await delivered(viewer, mine, anal)
    // Absence, proven by sentinels rather than by waiting:
    // 1. a sentinel on the case's partition: once it arrived, every case event (crit's copy too) reached the gateway;
    const first = { ...llm({ agent: 'agent-x', user: 'u1', failed: true, confidence: 0.95 }), trace_id: trace }
    await pipeline.kafka.produceEvents([first])
    await delivered(op, all, first)
    // 2. an analytical sentinel produced after that, received on each connection: its batch's deadline (its enrichment
    //    time + 450 ms) is later than that of any batch holding a case event (its arrival + at most 450 ms), and a
    //    connection flushes its batches by deadline (ties: subscription, then operational before analytical) after
    //    writing critical events at once; so any case event a subscription wrongly took was written before it.
    //    It passes the filters of every subscription but byAgent (llm_usage), which shares op's connection.
    const last = knowledge('agent-x', 'u1', { confidence: 0.95 })
    await pipeline.kafka.produceEvents([last])
    await delivered(op, byTier, last)
    await delivered(op2, byType, last)
    await delivered(viewer, mine, last)

    const ids = [crit, oper, anal].map((x) => x.event_id)
    const seen = (c: Client, s: string) => c.eventIds(s).filter((id) => ids.includes(id))
    expect(seen(op, all).sort()).toEqual([...ids].sort())
    expect(seen(op, byAgent)).toEqual([crit.event_id])
    expect(seen(op, byTier)).toEqual([anal.event_id])
    expect(seen(op, byConf)).toEqual([crit.event_id])
    expect(seen(op2, byType)).toEqual([anal.event_id])
    expect(seen(viewer, mine).sort()).toEqual([crit.event_id, anal.event_id].sort())
    for (const m of viewer.messages) {
      for (const x of m.type === 'event' ? [m.event] : m.type === 'batch' ? (m.events as unknown[]) : []) expect((x as { user_id: string }).user_id).toBe('u1')
    }

    // unsubscribe: the subscription gets nothing more, the others go on
    op.send({ type: 'unsubscribe', subscription_id: all })
    op.send({ type: 'ping', id: 'after-unsub' })
    await op.waitFor((m) => m.id === 'after-unsub')
    const later = llm({ agent: 'agent-x', user: 'u1', failed: true, confidence: 0.99 })
    await pipeline.kafka.produceEvents([later])
    await op.waitFor((m) => m.type === 'event' && m.subscription_id === byConf && (m.event as { event_id: string }).event_id === later.event_id)
    expect(op.eventIds(all)).not.toContain(later.event_id)
  })

  it('replays missed events exactly once after a reconnect with since, then recovered', async () => {
    const t = await token('ops', ['operator'])
    const since = new Date(Date.now() - 1000).toISOString()
    const observer = connect(t)
    const obs = await observer.subscribe({ channels: ['events'], filters: { agent_ids: ['agent-replay'] } })
    const missed = [llm({ agent: 'agent-replay', user: 'u3', failed: true }), llm({ agent: 'agent-replay', user: 'u3' }), knowledge('agent-replay', 'u3')]
    await pipeline.kafka.produceEvents(missed)
    await waitUntil('the three missed events', () => observer.eventIds(obs).length >= 3, { timeoutMs: 20_000, everyMs: 50 }).catch(() => undefined) // asserted below, with the ids
    expect(observer.eventIds(obs).sort()).toEqual(missed.map((e) => e.event_id).sort())

    const back = connect(t)
    const sub = await back.subscribe({ channels: ['events'], filters: { agent_ids: ['agent-replay'] }, since: { timestamp: since } })
    const rec = await back.waitFor((m) => m.type === 'recovered')
    expect(rec).toEqual({ type: 'recovered', subscription_id: sub, complete: true })
    expect(back.eventIds(sub).sort()).toEqual(missed.map((e) => e.event_id).sort())
    const recIndex = back.messages.indexOf(rec)
    expect(back.messages.slice(recIndex + 1).filter((m) => m.subscription_id === sub && m.type !== 'recovered')).toEqual([])

    const old = await back.subscribe({ channels: ['events'], filters: { agent_ids: ['agent-replay'] }, since: { timestamp: '2020-01-01T00:00:00Z' } })
    expect(await back.waitFor((m) => m.type === 'recovered' && m.subscription_id === old)).toMatchObject({ complete: false })
  })

  it('delivers alerts from the alerts topic to operators subscribed to alerts, by agent, once', async () => {
    const ops = connect(await token('ops', ['operator']))
    const sub = await ops.subscribe({ channels: ['alerts'], filters: { agent_ids: ['agent-alerted'] } })
    const startsAt = Date.parse('2026-11-21T10:00:00.000Z') * 1000 + 123
    const alert = (agent: string, status: 'firing' | 'resolved', fingerprint: string) => ({
      fingerprint, rule: 'LlmErrorRateHigh', severity: 'critical', status, labels: { agent }, value: 0.4, threshold: 0.1,
      annotations: { summary: `${agent} LLM error rate 40%`, description: 'failed / all LLM calls over 5 min', runbook: null },
      starts_at: startsAt, ends_at: status === 'resolved' ? startsAt + 60_000_000 : null, source_window: { start: startsAt, end: startsAt + 60_000_000 },
    })
    const { serde, producer, topics } = pipeline.kafka
    const id = await serde.register(topics.alerts, 'alert')
    const firing = alert('agent-alerted', 'firing', 'fp-1')
    const records = [firing, firing, alert('agent-other', 'firing', 'fp-2'), alert('agent-alerted', 'resolved', 'fp-1')]
    await producer.send(records.map((a) => ({ topic: topics.alerts, key: a.fingerprint, value: serde.encode(id, 'alert', a) })))
    // Sentinels after the case, one on the partition of each key used above: once both arrived,
    // every record before them on those partitions was handled (delivered or dropped).
    const sentinels = records.map((a, i) => ({ key: a.fingerprint, alert: alert('agent-alerted', 'firing', `fp-sentinel-${i}`) }))
    await producer.send(sentinels.map((x) => ({ topic: topics.alerts, key: x.key, value: serde.encode(id, 'alert', x.alert) })))
    const sentinelIds = new Set(sentinels.map((x) => x.alert.fingerprint))
    const alertsOf = () => ops.messages.filter((m) => m.subscription_id === sub && m.type === 'alert').map((m) => m.alert as Record<string, unknown>)
    await waitUntil('every sentinel alert', () => alertsOf().filter((a) => sentinelIds.has(a.fingerprint as string)).length === sentinelIds.size, { timeoutMs: 20_000 })
    const got = alertsOf().filter((a) => !sentinelIds.has(a.fingerprint as string))
    expect(got.map((a) => [a.fingerprint, a.status])).toEqual([['fp-1', 'firing'], ['fp-1', 'resolved']])
    expect(got[0]).toEqual({ ...firing, starts_at: '2026-11-21T10:00:00.000123Z', ends_at: null, source_window: { start: '2026-11-21T10:00:00.000123Z', end: '2026-11-21T10:01:00.000123Z' } })
    expect(got[1]).toMatchObject({ ends_at: '2026-11-21T10:01:00.000123Z' })
  })

  it('exports the stream metrics', async () => {
    const text = await gateway.metrics()
    for (const name of ['auren_gateway_connections', 'auren_gateway_messages_sent_total{type="event"}', 'auren_gateway_delivery_latency_seconds_bucket{le="0.005",tier="critical"}', 'auren_gateway_dropped_messages_total{reason="slow_client"}']) {
      expect(text).toContain(name)
    }
  })
})
