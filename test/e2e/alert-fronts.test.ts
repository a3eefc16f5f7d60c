/**
 * The fronts show alerts, end to end on the real stack: the alerting app (process, fresh topics
 * and PostgreSQL schema, an Alertmanager of the test's own) evaluates a history of system_health
 * reports that fires a component's alert and then resolves it; the gateway (process, stream on,
 * same schema) must deliver
 * - on the WebSocket `alerts` channel: the firing and the resolved Alert, once each, with
 *   ISO-8601 times, nothing else of that alert (a sentinel alert fired after the resolution marks
 *   the end of the stream);
 * - on `GET /api/v2/alerts`: the alert under `firing` while it fires, then under `resolved` and no
 *   longer firing;
 * - in `auren tail --channels alerts` (child process, as a user runs it): a FIRING and a RESOLVED
 *   line with severity, rule, labels and summary;
 * - on `/live` in Chromium (playwright-core driving Debian's /usr/bin/chromium): the alert in the
 *   firing list, then in the resolved list; a page opened while it fires shows it from the REST
 *   seed; a viewer's page is refused the alerts channel while its events subscription stays live.
 *   A screenshot goes to test/artifacts/live-page-alerts.png.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { toEnrichedRecord, type EnrichedAgentEvent } from '../../schemas/index.ts'
import { agentEvent, enriched } from '../helpers/aggregation-events.ts'
import { startReceiver, startTestAlertmanager, type Receiver, type TestAlertmanager } from '../helpers/alertmanager.ts'
import { createTestKafka, type TestKafka } from '../helpers/kafka.ts'
import { startApp, type AppProcess } from '../helpers/processes.ts'
import { requirePath } from '../helpers/required-data.ts'
import { stackEnv } from '../helpers/stack.ts'
import { hs256Token, startStreamGateway } from '../helpers/stream-gateway.ts'
import { waitUntil } from '../helpers/wait-until.ts'

const ROOT = join(import.meta.dirname, '..', '..')
// An unhealthy system_health report fires its component's alert at once; it resolves one minute
// of event time after the component's last unhealthy report.
const RULES = join(ROOT, 'test', 'fixtures', 'alerting', 'fault-rules.yml')
const RULE = 'component-flapping'
const CHROMIUM = '/usr/bin/chromium'
const SECRET = randomBytes(32).toString('base64')

requirePath(CHROMIUM, "Debian's Chromium", 'scripts/test.sh installs it with apt-get as root')

type Json = Record<string, unknown>
interface AlertJson { fingerprint: string; rule: string; severity: string; status: string; labels: Record<string, string>; annotations: { summary: string }; starts_at: string; ends_at: string | null }

/** `auren tail …` as a child process, its output collected. */
class Tail {
  stdout = ''
  stderr = ''
  readonly child: ChildProcess
  readonly exited: Promise<number | string>
  constructor(args: string[]) {
    this.child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'auren.ts'), 'tail', ...args], { cwd: ROOT, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] })
    this.child.stdout?.on('data', (d: Buffer) => (this.stdout += d.toString()))
    this.child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()))
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)))
  }
  lines(): string[] {
    return this.stdout.split('\n').filter((l) => l.length > 0)
  }
}

describe('alerts on the fronts: WebSocket channel, REST, auren tail, /live', () => {
  let receiver: Receiver
  let am: TestAlertmanager
  let kafka: TestKafka
  let alerting: AppProcess
  let gateway: AppProcess
  let browser: Browser
  let ws: WebSocket
  let tail: Tail
  const frames: AlertJson[] = []
  const schema = `alert_fronts_${randomUUID().replace(/-/g, '').slice(0, 12)}`
  let operator: string

  beforeAll(async () => {
    receiver = await startReceiver()
    am = await startTestAlertmanager({ receiverBaseUrl: receiver.baseUrl })
    kafka = await createTestKafka(1)
    alerting = await startApp('alerting', kafka.prefix, {
      AUREN_DATABASE_URL: stackEnv().databaseUrl, AUREN_ALERTING_DB_SCHEMA: schema, AUREN_ALERTMANAGER_URL: am.url,
      AUREN_ALERTING_RULES_FILE: RULES, AUREN_ALERTING_IDLE_TIMEOUT_MS: '0', AUREN_ALERTING_DELIVERY_POLL_MS: '200',
    })
    await alerting.waitReady(120_000)
    gateway = await startStreamGateway(kafka.prefix, SECRET, { AUREN_GATEWAY_DB_SCHEMA: schema })
    browser = await chromium.launch({
      executablePath: CHROMIUM, headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
    operator = await hs256Token(SECRET, 'ops-1', ['operator'])
  })

  afterAll(async () => {
    ws?.close()
    tail?.child.kill('SIGINT')
    await tail?.exited
    await browser?.close()
    gateway?.kill('SIGTERM')
    await gateway?.exited
    alerting?.kill('SIGTERM')
    await alerting?.exited
    await kafka?.close()
    const c = new pg.Client(stackEnv().databaseUrl)
    await c.connect()
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await c.end()
    await am?.close()
    await receiver?.close()
  })

  const rest = async (token = operator) => {
    const r = await fetch(`http://${gateway.address}/api/v2/alerts`, { headers: { authorization: `Bearer ${token}` } })
    return { status: r.status, body: (await r.json()) as { firing: { total: number; alerts: AlertJson[] }; resolved: { total: number; alerts: AlertJson[] } } }
  }

  async function openLive(token: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } })
    const errors: string[] = []
    page.on('pageerror', (err) => errors.push(err.message))
    await page.goto(`http://${gateway.address}/live`)
    await page.fill('#token', token)
    await page.click('#connect')
    await page.waitForSelector('#state[data-state="live"]', { timeout: 20_000 })
    Object.assign(page, { pageErrors: errors })
    return page
  }

  it('delivers the firing and the resolved alert on every front', async () => {
    // --- subscribers first: the fan-out reads from the latest offsets
    ws = new WebSocket(`ws://${gateway.address}/v1/stream`, { headers: { authorization: `Bearer ${operator}` } })
    let subscribed = false
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as Json
      if (m.type === 'welcome') ws.send(JSON.stringify({ type: 'subscribe', id: 'alerts', channels: ['alerts'] }))
      if (m.type === 'subscribed') subscribed = true
      if (m.type === 'alert') frames.push(m.alert as AlertJson)
    })
    await waitUntil('the WebSocket alerts subscription', () => subscribed, { timeoutMs: 20_000, everyMs: 50 })
    tail = new Tail(['--url', `ws://${gateway.address}/v1/stream`, '--token', operator, '--channels', 'alerts'])
    await waitUntil('auren tail subscribed', () => tail.stderr.includes('subscribed to alerts'), { timeoutMs: 30_000, everyMs: 50 })
    const live = await openLive(operator)
    await waitUntil('the live page seeded from GET /api/v2/alerts', async () => /^live; seeded with 0 firing and 0 resolved/.test((await live.textContent('#alerts-note')) ?? ''), { timeoutMs: 20_000, everyMs: 100 })
    const viewerPage = await openLive(await hs256Token(SECRET, 'user-1', ['viewer']))
    await waitUntil('the viewer refused the alerts channel', async () => /alerts refused: FORBIDDEN/.test((await viewerPage.textContent('#alerts-note')) ?? ''), { timeoutMs: 20_000, everyMs: 100 })
    expect(await viewerPage.getAttribute('#state', 'data-state')).toBe('live') // its events subscription stands

    // --- the history, in three steps of event time (recent: not replayed history)
    const t0 = Date.now() - 10 * 60_000
    const id = await kafka.serde.register(kafka.topics.enrichedEvents, 'enriched-agent-event')
    const produce = (component: string, status: 'unhealthy' | 'healthy', atMs: number) => {
      const e: EnrichedAgentEvent = enriched(agentEvent('system_health', { component, status, details: {} }, { id: randomUUID(), timestampUs: atMs * 1000, trace: 'trace-fronts', agent: null }), { tier: 'critical', ingest_lag_ms: 0 })
      return kafka.producer.send([{ topic: kafka.topics.enrichedEvents, key: e.event.trace_id, value: kafka.serde.encode(id, 'enriched-agent-event', toEnrichedRecord(e)) }])
    }

    // 1. db-primary unhealthy: its alert fires
    await produce('db-primary', 'unhealthy', t0)
    const firing = await waitUntil('the firing alert on the WebSocket', () => frames.find((f) => f.labels.component === 'db-primary' && f.status === 'firing'), { timeoutMs: 60_000, everyMs: 50 })
    expect(firing).toMatchObject({ rule: RULE, severity: 'warning', ends_at: null, annotations: { summary: 'Component db-primary reports unhealthy' } })
    expect(firing.starts_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/)
    const fp = firing.fingerprint
    const whileFiring = await rest()
    expect(whileFiring.status).toBe(200)
    expect(whileFiring.body.firing.alerts.map((a) => `${a.fingerprint}/${a.status}`)).toEqual([`${fp}/firing`])
    expect(whileFiring.body.resolved.total).toBe(0)
    const firingLine = await waitUntil('the FIRING line of auren tail', () => tail.lines().find((l) => l.includes('component=db-primary') && l.includes(' FIRING ')), { timeoutMs: 30_000, everyMs: 50 })
      .catch((err: Error) => { throw new Error(`${err.message}\nstdout: ${tail.stdout.slice(-2000)}\nstderr: ${tail.stderr.slice(-2000)}`) })
    expect(firingLine).toMatch(new RegExp(`^${firing.starts_at.replace(/[.]/g, '\\.')} FIRING +warning +component-flapping \\{component=db-primary\\} Component db-primary reports unhealthy \\(value .*, threshold .*\\)$`))
    await live.waitForSelector(`#alerts-firing li[data-fingerprint="${fp}"]`, { timeout: 20_000 })
    const row = (await live.textContent(`#alerts-firing li[data-fingerprint="${fp}"]`)) ?? ''
    for (const part of ['FIRING', 'warning', RULE, 'component=db-primary', 'Component db-primary reports unhealthy', `firing since ${firing.starts_at}`]) expect(row).toContain(part)
    // a page opened now shows the alert from GET /api/v2/alerts (no frame of it will come again)
    const late = await openLive(operator)
    await late.waitForSelector(`#alerts-firing li[data-fingerprint="${fp}"]`, { timeout: 20_000 })

    // 2. two minutes later a healthy report: a minute after the last unhealthy one, the alert resolves
    await produce('db-primary', 'healthy', t0 + 120_000)
    const resolved = await waitUntil('the resolved alert on the WebSocket', () => frames.find((f) => f.fingerprint === fp && f.status === 'resolved'), { timeoutMs: 60_000, everyMs: 50 })
    expect(resolved).toMatchObject({ rule: RULE, starts_at: firing.starts_at, labels: firing.labels })
    expect(Date.parse(resolved.ends_at!)).toBeGreaterThan(Date.parse(firing.starts_at))
    const afterResolution = await rest()
    expect(afterResolution.body.firing.alerts.map((a) => a.fingerprint)).not.toContain(fp)
    expect(afterResolution.body.resolved.alerts.map((a) => `${a.fingerprint}/${a.status}/${a.ends_at}`)).toEqual([`${fp}/resolved/${resolved.ends_at}`])
    await live.waitForSelector(`#alerts-resolved li[data-fingerprint="${fp}"]`, { timeout: 20_000 })
    expect(await live.locator(`#alerts-firing li[data-fingerprint="${fp}"]`).count()).toBe(0)
    expect(await live.textContent(`#alerts-resolved li[data-fingerprint="${fp}"]`)).toContain(`resolved ${resolved.ends_at}`)

    // 3. sentinel: another component's alert fires after the resolution; once it arrived, nothing more of db-primary is on its way
    await produce('sentinel', 'unhealthy', t0 + 180_000)
    await waitUntil('the sentinel alert on the WebSocket', () => frames.some((f) => f.labels.component === 'sentinel'), { timeoutMs: 60_000, everyMs: 50 })
    await waitUntil('the sentinel line of auren tail', () => tail.lines().some((l) => l.includes('{component=sentinel}')), { timeoutMs: 30_000, everyMs: 50 })
    expect(frames.filter((f) => f.fingerprint === fp).map((f) => f.status)).toEqual(['firing', 'resolved'])
    const tailed = tail.lines().filter((l) => l.includes('{component=db-primary}'))
    expect(tailed.map((l) => / (FIRING|RESOLVED) /.exec(l)?.[1])).toEqual(['FIRING', 'RESOLVED'])
    expect(tailed[1]).toMatch(new RegExp(`^${resolved.ends_at!.replace(/[.]/g, '\\.')} RESOLVED +warning +component-flapping \\{component=db-primary\\} Component db-primary reports unhealthy \\(value .*, fired .* from ${firing.starts_at.replace(/[.]/g, '\\.')}\\)$`))
    const sentinelFp = frames.find((f) => f.labels.component === 'sentinel')!.fingerprint
    await live.waitForSelector(`#alerts-firing li[data-fingerprint="${sentinelFp}"]`, { timeout: 20_000 })
    for (const p of [live, late, viewerPage]) expect((p as unknown as { pageErrors: string[] }).pageErrors).toEqual([])
    mkdirSync(join(ROOT, 'test', 'artifacts'), { recursive: true })
    await live.screenshot({ path: join(ROOT, 'test', 'artifacts', 'live-page-alerts.png'), fullPage: true })
  })
})
