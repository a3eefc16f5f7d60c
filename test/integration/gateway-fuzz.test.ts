/**
 * Fuzz of every /api/v2 route's query parameters against the real gateway process and real
 * PostgreSQL rollups (issue 10 item 9): control characters, NUL, byte sequences that are not
 * UTF-8, very long values, repeated parameters and bracket arrays, odd numbers and dates, over
 * HTTP (fetch) and as raw bytes on a socket. No answer may be a 5xx; every value PostgreSQL
 * cannot take is a 400 whose message names the parameter; the gateway's own request counter
 * shows no 5xx either.
 */
import { randomBytes } from 'node:crypto'
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { API_ROUTES } from '../../gateway/routes.ts'
import { createTestDb, feed, splitByTrace, type TestDb } from '../helpers/aggregation-db.ts'
import { ensureAlertTables } from '../../processors/alerting/notifiers/alert-delivery.ts'
import { enriched } from '../helpers/aggregation-events.ts'
import { llmCallEvent } from '../helpers/events.ts'
import { startGateway, type AppProcess } from '../helpers/processes.ts'
import { hs256Token } from '../helpers/stream-gateway.ts'

const SECRET = randomBytes(32).toString('base64')
const T0 = Date.parse('2025-03-01T10:00:00Z')
const RANGE = { from: '2025-03-01T09:00:00Z', to: '2025-03-01T12:00:00Z' }

/** Encoded values PostgreSQL cannot take or that are not UTF-8: each must be a 400 naming the parameter. */
const REFUSED: readonly string[] = [
  '%00', 'a%00', 'planner%00x', '%01', '%08', '%09', '%0A', '%0D', '%1B', '%1F', '%7F',
  '%FF', '%FE%FF', '%80', '%C0%80', '%C1%BF', '%E0%80%AF', '%ED%A0%80', '%ED%BF%BF', '%F4%90%80%80', '%F8%88%80%80%80', '%E2%82', '%',
  '%Z', '%ZZ', 'a%2', '%%', `${'a'.repeat(300)}%00`,
]
/** Other hostile or odd values: any 2xx/4xx answer is fine, a 5xx is not. */
const ODD: readonly string[] = [
  '', '+', '%20', 'planner', 'unknown-agent', '%F0%9F%98%80', '%C3%A9'.repeat(300), 'a'.repeat(257), 'a'.repeat(5000), 'a'.repeat(20_000),
  '-1', '0', '1', '1.5', '1e3', '1e400', '-1e400', 'Infinity', '-Infinity', 'NaN', '0x10', '99999999999999999999999', '2147483648',
  '2025-03-01T10:00:00Z', '2025-03-01T23:59:60Z', '0000-01-01T00:00:00Z', '2025-02-30T00:00:00Z', '2025-03-01T10:00:00%2B23:59',
  '275760-09-13T00:00:00Z', '1970-01-01T00:00:00Z', "'%3B DROP TABLE agg_llm_window%3B --", '%24%7Bjndi%3Aldap%3A%2F%2Fx%7D', '__proto__', 'constructor',
  'csv', 'json', 'hour', 'minute', 'day', 'model', 'token_usage', 'all', 'handoff',
]

interface Answer { status: number; body: string }

describe('fuzz of every route\'s query parameters (real gateway, real PostgreSQL)', () => {
  let db: TestDb
  let gateway: AppProcess
  let admin: string
  let viewer: string
  const answers: { url: string; status: number }[] = []

  const get = async (pathAndQuery: string, token = admin): Promise<Answer> => {
    const res = await fetch(`http://${gateway.address}${pathAndQuery}`, { headers: { authorization: `Bearer ${token}` } })
    const body = await res.text()
    answers.push({ url: pathAndQuery, status: res.status })
    return { status: res.status, body }
  }

  /** A request with raw bytes in the target, on a socket (fetch would percent-encode them). */
  const raw = (target: Buffer, token = admin): Promise<number> =>
    new Promise((resolve, reject) => {
      const [host, port] = gateway.address.split(':') as [string, string]
      const sock = connect(Number(port), host)
      let got = ''
      sock.on('data', (d) => (got += d.toString('latin1')))
      sock.on('error', reject)
      sock.on('close', () => {
        const m = /^HTTP\/1\.1 (\d{3})/.exec(got)
        if (!m) return reject(new Error(`no HTTP answer: ${JSON.stringify(got.slice(0, 200))}`))
        resolve(Number(m[1]))
      })
      sock.write(Buffer.concat([Buffer.from('GET '), target, Buffer.from(` HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`)]))
    })

  /** A query that passes validation for the route, with `name` set to `encoded` (raw text after `=`). */
  const queryWith = (path: string, name: string, encoded: string): string => {
    const base: Record<string, string> = { ...RANGE, ...(path === 'export/analytics' ? { dataset: 'token_usage' } : {}) }
    delete base[name]
    return [...Object.entries(base).map(([k, v]) => `${k}=${encodeURIComponent(v)}`), `${name}=${encoded}`].join('&')
  }

  beforeAll(async () => {
    db = await createTestDb()
    await ensureAlertTables(db.pool(1)) // the alerting app's tables, in the same schema as a deployment has them (GET /api/v2/alerts)
    const events = Array.from({ length: 20 }, (_, i) => llmCallEvent({ agent: i % 2 ? 'planner' : 'coder', userId: i % 3 ? 'user-a' : null, timestampUs: (T0 + i * 7_000) * 1000 }))
    await feed([db.sink()], splitByTrace(events.map((e) => enriched(e, { cost_usd: 0.002 })), 2), { seed: 5 })
    gateway = await startGateway({ AUREN_GATEWAY_DB_SCHEMA: db.schema, AUREN_GATEWAY_JWT_SECRET: SECRET })
    await gateway.waitReady()
    admin = await hs256Token(SECRET, 'admin-1', ['admin'])
    viewer = await hs256Token(SECRET, 'user-a', ['viewer'])
  })

  afterAll(async () => {
    gateway?.kill('SIGTERM')
    await gateway?.exited
    await db?.drop()
  })

  it('a value PostgreSQL cannot take, or that is not UTF-8, is a 400 naming the parameter, on every route and parameter', async () => {
    let n = 0
    for (const route of API_ROUTES) {
      const names = Object.keys((route.query as { properties: Record<string, unknown> }).properties)
      for (const name of names) {
        for (const value of REFUSED) {
          for (const token of route.access === 'per-user' ? [admin, viewer] : [admin]) {
            const r = await get(`/api/v2/${route.path}?${queryWith(route.path, name, value)}`, token)
            expect(r.status, `${route.path} ${name}=${value}: ${r.body}`).toBe(400)
            expect(JSON.parse(r.body), `${route.path} ${name}=${value}`).toMatchObject({ error: 'BAD_REQUEST', message: expect.stringContaining(`query parameter '${name}'`) })
            n++
          }
        }
      }
    }
    expect(n).toBeGreaterThan(500)
  })

  it('odd values, long values, repeated and bracketed parameters, unknown names: never a 5xx', async () => {
    for (const route of API_ROUTES) {
      const names = [...Object.keys((route.query as { properties: Record<string, unknown> }).properties), 'unknown', '%5F%5Fproto%5F%5F']
      for (const name of names) {
        const shapes = [
          ...ODD.map((v) => queryWith(route.path, name, v)),
          `${queryWith(route.path, name, 'a')}&${name}=b`, // repeated: an array
          `${queryWith(route.path, name, 'planner')}&${name}=planner`,
          `${queryWith(route.path, 'x', '1')}&${name}%5B%5D=1&${name}%5B0%5D=2`, // name[]=1&name[0]=2
          `${queryWith(route.path, name, '2025-03-01T10:00:00Z')}&${name}=2025-03-01T11:00:00Z&${name}=x`,
        ]
        for (const q of shapes) {
          for (const token of route.access === 'per-user' ? [admin, viewer] : [admin]) {
            const r = await get(`/api/v2/${route.path}?${q}`, token)
            expect(r.status, `${route.path}?${q.slice(0, 200)}: ${r.body.slice(0, 300)}`).toBeLessThan(500)
            if (r.status >= 400 && r.status !== 431) expect(() => JSON.parse(r.body), r.body.slice(0, 200)).not.toThrow()
          }
        }
      }
    }
  })

  it('raw bytes in the request target (not percent-encoded): never a 5xx', async () => {
    const bytes = [[0x00], [0x01], [0x7f], [0x80], [0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf0, 0x9f, 0x98, 0x80], [0x20], [0x09], [0x22, 0x3c]]
    for (const route of API_ROUTES) {
      for (const b of bytes) {
        const target = Buffer.concat([Buffer.from(`/api/v2/${route.path}?${queryWith(route.path, 'agent_id', 'x')}`), Buffer.from(b)])
        const status = await raw(target)
        expect(status, `${route.path} + bytes ${JSON.stringify(b)}`).toBeLessThan(500)
      }
    }
  })

  it('the gateway counted no 5xx and is still ready', async () => {
    const text = await gateway.metrics()
    const fivexx = text.split('\n').filter((l) => l.startsWith('auren_gateway_http_requests_total{') && /status="5\d\d"/.test(l))
    expect(fivexx).toEqual([])
    expect(answers.filter((a) => a.status >= 500)).toEqual([])
    expect(answers.length).toBeGreaterThan(3000)
    expect((await fetch(`http://${gateway.address}/readyz`)).status).toBe(200)
    expect(gateway.alive()).toBe(true)
  })
})
