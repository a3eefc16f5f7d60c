/**
 * A token must name its user: an empty, blank or missing `sub` (or one PostgreSQL cannot take) is
 * an invalid token, on every REST route (401) and on the stream (4401). Aggregation keeps the
 * events without a user under user_id '' in its per-user rollups, so a token with `sub: ""` would
 * otherwise read them as its own (issue 10 item 8). Real gateway process, real PostgreSQL rollups
 * written by the aggregation sink, real Kafka for the stream fed by the enrichment app.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { SignJWT } from 'jose'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { API_ROUTES } from '../../gateway/routes.ts'
import { createTestDb, feed, splitByTrace, type TestDb } from '../helpers/aggregation-db.ts'
import { enriched } from '../helpers/aggregation-events.ts'
import { llmCallEvent } from '../helpers/events.ts'
import type { AppProcess } from '../helpers/processes.ts'
import { useRunningApp } from '../helpers/running-app.ts'
import { hs256Token, startStreamGateway } from '../helpers/stream-gateway.ts'
import { waitUntil } from '../helpers/wait-until.ts'

const SECRET = randomBytes(32).toString('base64')
const KEY = new TextEncoder().encode(SECRET)
const T0 = Date.parse('2025-03-01T10:00:00Z')
const RANGE = 'from=2025-03-01T09:00:00Z&to=2025-03-01T12:00:00Z'

/** A signed HS256 token with exactly these claims (no `sub` unless given). */
const signed = (claims: Record<string, unknown>) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime('10m').sign(KEY)

/** Tokens whose `sub` names no user, each with role viewer (and admin, to show roles do not help). */
async function badSubjectTokens(): Promise<{ what: string; token: string }[]> {
  const out: { what: string; token: string }[] = []
  for (const roles of [['viewer'], ['admin']]) {
    out.push({ what: `empty sub (${roles[0]})`, token: await signed({ sub: '', roles }) })
    out.push({ what: `blank sub (${roles[0]})`, token: await signed({ sub: '   ', roles }) })
    out.push({ what: `no sub (${roles[0]})`, token: await signed({ roles }) })
    out.push({ what: `numeric sub (${roles[0]})`, token: await signed({ sub: 42, roles }) })
    out.push({ what: `sub with a NUL (${roles[0]})`, token: await signed({ sub: 'user-a\u0000', roles }) })
    out.push({ what: `sub of 300 characters (${roles[0]})`, token: await signed({ sub: 'u'.repeat(300), roles }) })
  }
  return out
}

describe('a token must name its user (sub)', () => {
  const pipeline = useRunningApp('enrichment')
  let db: TestDb
  let gateway: AppProcess
  let base: string
  const sockets: WebSocket[] = []

  beforeAll(async () => {
    db = await createTestDb()
    // 3 calls of user-a (100 input tokens each), 5 calls without a user (1000 each), one agent.
    const events = [
      ...Array.from({ length: 3 }, (_, i) => llmCallEvent({ agent: 'planner', userId: 'user-a', input: 100, timestampUs: (T0 + i * 1000) * 1000 })),
      ...Array.from({ length: 5 }, (_, i) => llmCallEvent({ agent: 'planner', userId: null, input: 1000, timestampUs: (T0 + i * 1000) * 1000 })),
    ].map((e) => enriched(e, { cost_usd: 0.01 }))
    await feed([db.sink()], splitByTrace(events, 2), { seed: 3 })
    gateway = await startStreamGateway(pipeline.kafka.prefix, SECRET, { AUREN_GATEWAY_DB_SCHEMA: db.schema })
    base = `http://${gateway.address}`
  })

  afterAll(async () => {
    for (const s of sockets) s.terminate()
    gateway?.kill('SIGTERM')
    await gateway?.exited
    await db?.drop()
  })

  it('the rollups keep events without a user under user_id \'\' (what an empty sub would name)', async () => {
    const c = new pg.Client(db.url)
    await c.connect()
    try {
      const r = await c.query<{ user_id: string; calls: string }>(`SELECT user_id, sum(calls)::text AS calls FROM ${db.schema}.agg_llm_window GROUP BY user_id ORDER BY user_id`)
      expect(r.rows).toEqual([{ user_id: '', calls: '5' }, { user_id: 'user-a', calls: '3' }])
    } finally {
      await c.end()
    }
  })

  it('refuses a token without a usable sub with 401 on every /api/v2 route', async () => {
    const before = await gateway.metrics()
    const claimsBefore = Number(/auren_gateway_auth_failures_total\{reason="claims"\} (\d+)/.exec(before)?.[1] ?? NaN)
    const tokens = await badSubjectTokens()
    for (const route of API_ROUTES) {
      for (const { what, token } of tokens) {
        const res = await fetch(`${base}/api/v2/${route.path}?${RANGE}${route.path.startsWith('export') ? '&dataset=token_usage' : ''}`, { headers: { authorization: `Bearer ${token}` } })
        const body = (await res.json()) as { error: string; message: string }
        expect(res.status, `${route.path}, ${what}: ${JSON.stringify(body)}`).toBe(401)
        expect(body.error).toBe('UNAUTHORIZED')
        expect(body.message, what).toMatch(/'sub'/)
        expect(res.headers.get('www-authenticate'), what).toMatch(/^Bearer error="invalid_token"/)
      }
    }
    const after = await gateway.metrics()
    const claimsAfter = Number(/auren_gateway_auth_failures_total\{reason="claims"\} (\d+)/.exec(after)?.[1] ?? NaN)
    expect(claimsAfter - claimsBefore).toBe(API_ROUTES.length * tokens.length)
  })

  it('a viewer reads its own calls only; nobody can ask for the user-less rows', async () => {
    const viewer = await hs256Token(SECRET, 'user-a', ['viewer'])
    const admin = await hs256Token(SECRET, 'admin-1', ['admin'])
    const perf = async (token: string, extra = '') => {
      const res = await fetch(`${base}/api/v2/agents/performance?${RANGE}${extra}`, { headers: { authorization: `Bearer ${token}` } })
      return { status: res.status, body: (await res.json()) as { agents?: { agent_id: string; llm_calls: number | null; llm: { input_tokens: number | null } }[]; message?: string } }
    }
    const own = await perf(viewer)
    expect(own.status).toBe(200)
    expect(own.body.agents!.map((a) => [a.agent_id, a.llm_calls, a.llm.input_tokens])).toEqual([['planner', 3, 300]])
    const all = await perf(admin)
    expect(all.body.agents!.map((a) => [a.agent_id, a.llm_calls, a.llm.input_tokens])).toEqual([['planner', 8, 5300]])
    // user_id '' is not a user id: 400 naming the parameter, for every per-user route and role.
    for (const route of API_ROUTES.filter((r) => r.access === 'per-user')) {
      for (const token of [admin, viewer]) {
        const res = await fetch(`${base}/api/v2/${route.path}?${RANGE}&user_id=`, { headers: { authorization: `Bearer ${token}` } })
        const body = (await res.json()) as { error: string; message: string }
        expect(res.status, `${route.path}: ${JSON.stringify(body)}`).toBe(400)
        expect(body.message).toContain("'user_id'")
      }
    }
  })

  it('closes the stream 4401 for a token without a usable sub (header or auth message); a viewer gets no user-less event', async () => {
    const url = `ws://${gateway.address}/v1/stream`
    const open = (headers: Record<string, string> = {}) => {
      const ws = new WebSocket(url, { headers })
      sockets.push(ws)
      ws.on('error', () => {})
      const messages: Record<string, unknown>[] = []
      ws.on('message', (d) => messages.push(JSON.parse(d.toString()) as Record<string, unknown>))
      const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)))
      return { ws, messages, closed }
    }
    for (const { what, token } of await badSubjectTokens()) {
      const byHeader = open({ authorization: `Bearer ${token}` })
      expect(await byHeader.closed, `${what}, header`).toBe(4401)
      const byMessage = open()
      byMessage.ws.on('open', () => byMessage.ws.send(JSON.stringify({ type: 'auth', token })))
      expect(await byMessage.closed, `${what}, auth message`).toBe(4401)
      expect(byMessage.messages.some((m) => m.type === 'welcome'), what).toBe(false)
    }

    const viewer = open({ authorization: `Bearer ${await hs256Token(SECRET, 'user-a', ['viewer'])}` })
    const operator = open({ authorization: `Bearer ${await hs256Token(SECRET, 'ops', ['operator'])}` })
    const waitFor = (msgs: Record<string, unknown>[], pred: (m: Record<string, unknown>) => boolean, timeoutMs = 20_000) =>
      waitUntil(`a matching frame among ${JSON.stringify(msgs).slice(0, 1500)}`, () => msgs.find(pred), { timeoutMs })
    const subscribe = async (c: ReturnType<typeof open>) => {
      await waitFor(c.messages, (m) => m.type === 'welcome')
      const id = randomUUID()
      c.ws.send(JSON.stringify({ type: 'subscribe', id, channels: ['events'] }))
      return (await waitFor(c.messages, (m) => m.id === id && m.type === 'subscribed')).subscription_id as string
    }
    await subscribe(viewer)
    await subscribe(operator)
    const idsOf = (msgs: Record<string, unknown>[]) => msgs.flatMap((m) => (m.type === 'event' ? [(m.event as { event_id: string }).event_id] : m.type === 'batch' ? (m.events as { event_id: string }[]).map((e) => e.event_id) : []))
    // The fan-out reads from the latest offsets once joined: produce until the operator sees a probe.
    await waitUntil('a probe event delivered to the operator', async () => {
      const probe = llmCallEvent({ agent: 'probe', userId: 'probe-user' })
      await pipeline.kafka.produceEvents([probe])
      return waitFor(operator.messages, () => idsOf(operator.messages).includes(probe.event_id), 3_000)
    }, { timeoutMs: 60_000 })
    // One trace, so one partition: the sentinel comes after the user-less events.
    const trace = `trace-${randomUUID()}`
    const userless = Array.from({ length: 4 }, () => llmCallEvent({ agent: 'planner', userId: null, trace }))
    const sentinel = llmCallEvent({ agent: 'planner', userId: 'user-a', trace })
    await pipeline.kafka.produceEvents([...userless, sentinel])
    await waitFor(viewer.messages, () => idsOf(viewer.messages).includes(sentinel.event_id))
    await waitFor(operator.messages, () => idsOf(operator.messages).includes(sentinel.event_id))
    expect(idsOf(operator.messages)).toEqual(expect.arrayContaining(userless.map((e) => e.event_id)))
    expect(idsOf(viewer.messages)).toEqual([sentinel.event_id])
  })
})
