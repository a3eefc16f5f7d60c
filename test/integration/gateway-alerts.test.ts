/**
 * `GET /api/v2/alerts` and the alert tables contract (schemas/alert-tables.ts) on real
 * PostgreSQL: the alerting app's own DDL (`ensureAlertTables`) creates exactly the declared
 * tables and columns, and its own writer (`recordAlertChanges`, in a transaction as its sink
 * calls it) records firing and resolved changes that the gateway then lists: firing now, resolved
 * in the range (each change once), filters, limits with totals, the viewer refused as on the
 * WebSocket alerts channel, clear 400s for bad parameters, and a 503 naming the fix when the
 * schema holds no alert tables. Answers are checked against the route's OpenAPI schema.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { Ajv } from 'ajv'
import type { FastifyInstance } from 'fastify'
import { SignJWT } from 'jose'
import pg from 'pg'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Alert } from '../../schemas/index.ts'
import { ALERT_TABLES } from '../../schemas/alert-tables.ts'
import { ensureAlertTables, recordAlertChanges } from '../../processors/alerting/notifiers/alert-delivery.ts'
import { buildGateway } from '../../gateway/app.ts'
import { createAuthenticator } from '../../gateway/auth.ts'
import { DEFAULT_API_CONFIG } from '../../gateway/config.ts'
import { RESPONSES } from '../../gateway/openapi.ts'
import { stackEnv } from '../helpers/stack.ts'

const secret = randomBytes(48).toString('base64url')
const sign = (sub: string, roles: string[]) =>
  new SignJWT({ roles }).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuedAt().setExpirationTime('10m').sign(new TextEncoder().encode(secret))
const T0_MS = Date.parse('2026-03-02T10:00:00Z')
const us = (ms: number) => ms * 1000

function alert(o: { fp: string; rule: string; status: 'firing' | 'resolved'; startMs: number; endMs?: number; agent?: string; severity?: Alert['severity'] }): Alert {
  return {
    fingerprint: o.fp, rule: o.rule, severity: o.severity ?? 'warning', status: o.status,
    labels: { ...(o.agent ? { agent: o.agent } : {}), rule: o.rule },
    annotations: { summary: `${o.rule} on ${o.agent ?? 'the stream'}`, description: 'figures', runbook: null },
    value: 7, threshold: 5, starts_at: us(o.startMs), ends_at: o.endMs === undefined ? null : us(o.endMs),
    source_window: { start: us(o.startMs - 300_000), end: us(o.startMs) },
  }
}

describe('GET /api/v2/alerts over the alerting tables', () => {
  const schema = `alerts_t_${randomUUID().replace(/-/g, '').slice(0, 12)}`
  const empty = `alerts_e_${randomUUID().replace(/-/g, '').slice(0, 12)}`
  let pool: pg.Pool
  let emptyPool: pg.Pool
  let app: FastifyInstance
  let emptyApp: FastifyInstance
  const tokens: Record<string, string> = {}
  const get = async (path: string, token: string | null = tokens.operator!, on = () => app) => {
    const r = await on().inject({ method: 'GET', url: `/api/v2/${path}`, headers: token ? { authorization: `Bearer ${token}` } : {} })
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the body is checked against the route's JSON schema
    return { status: r.statusCode, body: r.json() as Record<string, any> }
  }

  beforeAll(async () => {
    const admin = new pg.Client(stackEnv().databaseUrl)
    await admin.connect()
    await admin.query(`CREATE SCHEMA ${schema}`)
    await admin.query(`CREATE SCHEMA ${empty}`)
    await admin.end()
    pool = new pg.Pool({ connectionString: stackEnv().databaseUrl, max: 3, options: `-c search_path=${schema}` })
    emptyPool = new pg.Pool({ connectionString: stackEnv().databaseUrl, max: 2, options: `-c search_path=${empty}` })
    await ensureAlertTables(pool)
    // The history as the alerting sink records it: one transaction per batch of changes.
    const record = async (alerts: Alert[]) => {
      const c = await pool.connect()
      try {
        await c.query('BEGIN')
        await recordAlertChanges(c, alerts)
        await c.query('COMMIT')
      } finally {
        c.release()
      }
    }
    await record([
      alert({ fp: 'fp-a', rule: 'rate-limits', status: 'firing', startMs: T0_MS, agent: 'Programmer' }),
      alert({ fp: 'fp-b', rule: 'rate-limits', status: 'firing', startMs: T0_MS + 60_000, agent: 'Reviewer' }),
      alert({ fp: 'fp-c', rule: 'error-rate', status: 'firing', startMs: T0_MS - 7_200_000, agent: 'CEO', severity: 'critical' }),
    ])
    await record([alert({ fp: 'fp-b', rule: 'rate-limits', status: 'resolved', startMs: T0_MS + 60_000, endMs: T0_MS + 600_000, agent: 'Reviewer' })])
    // fp-c resolved long before the range asked for below; fp-b's resolution recorded twice (two partitions evaluating one group)
    await record([alert({ fp: 'fp-c', rule: 'error-rate', status: 'resolved', startMs: T0_MS - 7_200_000, endMs: T0_MS - 3_600_000, agent: 'CEO', severity: 'critical' })])
    await record([alert({ fp: 'fp-b', rule: 'rate-limits', status: 'resolved', startMs: T0_MS + 60_000, endMs: T0_MS + 600_000, agent: 'Reviewer' })])
    // fp-d fired, resolved, and fires again: one resolution in the range and firing now
    await record([alert({ fp: 'fp-d', rule: 'silence', status: 'firing', startMs: T0_MS + 100_000, severity: 'info' })])
    await record([alert({ fp: 'fp-d', rule: 'silence', status: 'resolved', startMs: T0_MS + 100_000, endMs: T0_MS + 200_000, severity: 'info' })])
    await record([alert({ fp: 'fp-d', rule: 'silence', status: 'firing', startMs: T0_MS + 900_000, severity: 'info' })])
    const auth = createAuthenticator({ mode: 'hs256', secret, clockToleranceS: 0 })
    app = buildGateway({ db: pool, auth, registry: new Registry(), api: DEFAULT_API_CONFIG })
    emptyApp = buildGateway({ db: emptyPool, auth, registry: new Registry(), api: DEFAULT_API_CONFIG })
    await app.ready()
    await emptyApp.ready()
    tokens.operator = await sign('ops-1', ['operator'])
    tokens.admin = await sign('admin-1', ['admin'])
    tokens.viewer = await sign('user-1', ['viewer'])
  })
  afterAll(async () => {
    await app?.close()
    await emptyApp?.close()
    await pool?.end()
    await emptyPool?.end()
    const admin = new pg.Client(stackEnv().databaseUrl)
    await admin.connect()
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await admin.query(`DROP SCHEMA IF EXISTS ${empty} CASCADE`)
    await admin.end()
  })

  it('the alerting app creates exactly the tables and columns of the contract', async () => {
    for (const spec of Object.values(ALERT_TABLES)) {
      const r = await pool.query<{ column_name: string; data_type: string }>(
        'SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY column_name', [schema, spec.table])
      expect(Object.fromEntries(r.rows.map((c) => [c.column_name, c.data_type])), spec.table).toEqual(spec.columns)
    }
  })

  const RANGE = `from=${new Date(T0_MS).toISOString()}&to=${new Date(T0_MS + 3_600_000).toISOString()}`

  it('lists the alerts firing now and those resolved in the range, each change once, as the alerts channel shapes them', async () => {
    const { status, body } = await get(`alerts?${RANGE}`)
    expect(status).toBe(200)
    const validate = new Ajv({ strict: false, allErrors: true }).compile(RESPONSES.alerts!)
    expect(validate(body) ? [] : validate.errors).toEqual([])
    // firing now, newest start first; fp-c started before the range and is resolved: not firing
    expect(body.firing.alerts.map((a: Alert) => a.fingerprint)).toEqual(['fp-d', 'fp-a'])
    expect(body.firing.total).toBe(2)
    // resolved with ends_at in [from, to), newest end first; fp-b's duplicate listed once; fp-c's end is before the range
    expect(body.resolved.alerts.map((a: Alert) => `${a.fingerprint}@${a.ends_at}`)).toEqual([
      `fp-b@${new Date(T0_MS + 600_000).toISOString().replace('Z', '000Z')}`,
      `fp-d@${new Date(T0_MS + 200_000).toISOString().replace('Z', '000Z')}`,
    ])
    expect(body.resolved.total).toBe(2)
    const a = body.firing.alerts.find((x: Alert) => x.fingerprint === 'fp-a')
    expect(a).toMatchObject({
      rule: 'rate-limits', severity: 'warning', status: 'firing', labels: { agent: 'Programmer' }, ends_at: null,
      annotations: { summary: 'rate-limits on Programmer' }, value: 7, threshold: 5, starts_at: '2026-03-02T10:00:00.000000Z',
      source_window: { start: '2026-03-02T09:55:00.000000Z', end: '2026-03-02T10:00:00.000000Z' },
    })
    expect(body.range).toEqual({ from: new Date(T0_MS).toISOString(), to: new Date(T0_MS + 3_600_000).toISOString() })
    // a wider range reaches fp-c's resolution
    const wide = await get(`alerts?from=${new Date(T0_MS - 86_400_000).toISOString()}&to=${new Date(T0_MS + 3_600_000).toISOString()}`)
    expect(wide.body.resolved.alerts.map((x: Alert) => x.fingerprint)).toEqual(['fp-b', 'fp-d', 'fp-c'])
  })

  it('filters by rule, severity and agent label; limit keeps the newest and total says how many matched', async () => {
    expect((await get(`alerts?${RANGE}&rule=rate-limits`)).body).toMatchObject({ scope: { rule: 'rate-limits', severity: null, agent: null }, firing: { total: 1 }, resolved: { total: 1 } })
    expect((await get(`alerts?${RANGE}&severity=info`)).body.firing.alerts.map((a: Alert) => a.fingerprint)).toEqual(['fp-d'])
    const reviewer = (await get(`alerts?${RANGE}&agent=Reviewer`)).body
    expect([reviewer.firing.total, reviewer.resolved.alerts.map((a: Alert) => a.fingerprint)]).toEqual([0, ['fp-b']])
    const one = (await get(`alerts?${RANGE}&limit=1`, tokens.admin!)).body
    expect([one.firing.total, one.firing.alerts.length, one.firing.alerts[0].fingerprint]).toEqual([2, 1, 'fp-d'])
    expect([one.resolved.total, one.resolved.alerts.length, one.resolved.alerts[0].fingerprint]).toEqual([2, 1, 'fp-b'])
  })

  it('refuses a viewer (as the alerts channel does), a missing token, and bad parameters with clear 4xx', async () => {
    const viewer = await get(`alerts?${RANGE}`, tokens.viewer!)
    expect(viewer.status).toBe(403)
    expect(viewer.body).toMatchObject({ error: 'FORBIDDEN', message: expect.stringMatching(/operator or admin/) })
    expect((await get(`alerts?${RANGE}`, null)).status).toBe(401)
    const bad = async (q: string, mention: RegExp) => {
      const r = await get(`alerts?${q}`)
      expect(r.status, q).toBe(400)
      expect(r.body, q).toMatchObject({ error: 'BAD_REQUEST', message: expect.stringMatching(mention) })
    }
    await bad('severity=urgent', /severity/)
    await bad('limit=0', /limit/)
    await bad('limit=1001', /limit/)
    await bad('rule=', /rule/)
    await bad('user_id=u1', /user_id/)
    await bad(`from=${new Date(T0_MS).toISOString()}&to=${new Date(T0_MS - 1).toISOString()}`, /before/)
    await bad('from=yesterday', /from/)
  })

  it('answers 503 naming the fix when the schema holds no alert tables', async () => {
    const r = await get('alerts', tokens.operator!, () => emptyApp)
    expect(r.status).toBe(503)
    expect(r.body).toMatchObject({ error: 'UNAVAILABLE', message: expect.stringMatching(/alert_active.*AUREN_ALERTING_DB_SCHEMA.*AUREN_GATEWAY_DB_SCHEMA/) })
  })
})
