/**
 * Alerting under faults, on the real Kafka, PostgreSQL and an Alertmanager of the test's own
 * (the repository's routing; stopping it touches no other test): a replay of system_health
 * history through the alerting app, which is SIGKILLed three times while it runs, and the
 * Alertmanager stopped for 30 s once. Asserted:
 * - every alert state change the history implies (a pure RuleEngine over the same records, one
 *   partition, so the same order) is committed exactly once to the outbox and reaches the
 *   Alertmanager — a recording proxy in front of it keeps every alert the Alertmanager accepted
 *   (2xx): each (fingerprint, firing|resolved) is there, duplicates allowed, none missing;
 * - no receiver (webhook, PagerDuty) gets two flushes of one group within the group interval.
 *   One exception is Alertmanager's, not ours: Alertmanager 0.25 (the stack's) resets a fresh
 *   aggregation group's timer to flush at once when an alert that started more than group_wait
 *   ago arrives, and a second alert of the same burst arriving as that flush begins re-arms the
 *   timer, so the fresh group is flushed twice within milliseconds (prometheus/alertmanager#1005,
 *   #3407). A replayed backlog is such a burst; fresh groups here are the first one and the ones
 *   rebuilt after the Alertmanager restart (it keeps no alerts). So a second notification less
 *   than {@link IMMEDIATE_REFLUSH_MS} after a fresh group's first is the same flush.
 */
import { randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RuleEngine } from '../../processors/alerting/engine.ts'
import { loadRuleFile } from '../../processors/alerting/rule-file.ts'
import { toEnrichedRecord, type EnrichedAgentEvent } from '../../schemas/index.ts'
import { agentEvent, enriched } from '../helpers/aggregation-events.ts'
import { startReceiver, startTestAlertmanager, type Receiver, type TestAlertmanager } from '../helpers/alertmanager.ts'
import { createTestKafka, type TestKafka } from '../helpers/kafka.ts'
import { startApp, type AppProcess } from '../helpers/processes.ts'
import { stackEnv } from '../helpers/stack.ts'
import { pause, waitUntil } from '../helpers/wait-until.ts'

const RULES = join(import.meta.dirname, '..', 'fixtures', 'alerting', 'fault-rules.yml')
const GROUP_INTERVAL_MS = 5_000
const EVENTS = 1_200
const COMPONENTS = 12
/** Gap under which a fresh group's second notification is Alertmanager's immediate re-flush (module doc). */
const IMMEDIATE_REFLUSH_MS = 1_000

/** An alert the Alertmanager accepted: its fingerprint (annotation) and whether it was sent resolved (endsAt not after the post). */
interface Accepted { fingerprint: string; resolved: boolean }

/** A proxy to the Alertmanager recording each alert of every POST /api/v2/alerts it answered 2xx. */
async function startRecordingProxy(target: () => string): Promise<{ url: string; accepted: Accepted[]; close(): Promise<void> }> {
  const accepted: Accepted[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      fetch(`${target()}${req.url}`, { method: req.method, headers: { 'content-type': 'application/json' }, body: req.method === 'GET' ? undefined : body })
        .then(async (r) => {
          const text = await r.text()
          if (r.ok && req.method === 'POST' && req.url === '/api/v2/alerts') {
            const now = Date.now()
            for (const a of JSON.parse(body.toString('utf8')) as Array<{ annotations: Record<string, string>; endsAt: string }>) {
              accepted.push({ fingerprint: a.annotations.fingerprint ?? '', resolved: Date.parse(a.endsAt) <= now })
            }
          }
          res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'text/plain' })
          res.end(text)
        })
        .catch(() => {
          res.writeHead(502)
          res.end('alertmanager unreachable')
        })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, accepted, close: () => new Promise((resolve) => server.close(() => resolve())) }
}

describe('alerting under SIGKILLs and an Alertmanager outage', () => {
  let receiver: Receiver
  let am: TestAlertmanager
  let proxy: Awaited<ReturnType<typeof startRecordingProxy>>
  let kafka: TestKafka
  let app: AppProcess | undefined
  const schema = `alert_f_${randomUUID().replace(/-/g, '').slice(0, 12)}`

  beforeAll(async () => {
    receiver = await startReceiver()
    am = await startTestAlertmanager({ receiverBaseUrl: receiver.baseUrl, groupWait: '1s', groupInterval: `${GROUP_INTERVAL_MS / 1000}s` })
    proxy = await startRecordingProxy(() => am.url)
    kafka = await createTestKafka(1)
  })
  afterAll(async () => {
    app?.kill('SIGKILL')
    await kafka?.close()
    const c = new pg.Client(stackEnv().databaseUrl)
    await c.connect()
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await c.end()
    await proxy?.close()
    await am?.close()
    await receiver?.close()
  })

  it('delivers every state change at least once and flushes no group twice within the group interval', async () => {
    // History: one event a second of event time, every 7th an unhealthy report of one of 12
    // components; with keep_firing_for 1m the components' alerts fire and resolve over and over.
    const t0 = Date.now() - 3 * 3_600_000
    const testStartedAt = Date.now()
    let restartedAt = 0
    const history: EnrichedAgentEvent[] = Array.from({ length: EVENTS }, (_, i) => {
      const unhealthy = i % 7 === 0
      const component = `component-${Math.floor(i / 7) % COMPONENTS}`
      return enriched(agentEvent('system_health', { component, status: unhealthy ? 'unhealthy' : 'healthy', details: {} }, {
        id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, timestampUs: (t0 + i * 1_000) * 1000, trace: `trace-${i % 24}`, agent: null,
      }), { tier: 'critical', ingest_lag_ms: 0 })
    })
    const rules = loadRuleFile(RULES)
    if (!rules.ok) throw new Error(rules.errors.join('\n'))
    const reference = new RuleEngine(rules.rules)
    const expectedList = history.flatMap((e) => reference.onEvent(e))
    expect(expectedList.length).toBeGreaterThan(2 * COMPONENTS)

    const id = await kafka.serde.register(kafka.topics.enrichedEvents, 'enriched-agent-event')
    const produce = (chunk: EnrichedAgentEvent[]) =>
      kafka.producer.send(chunk.map((e) => ({ topic: kafka.topics.enrichedEvents, key: e.event.trace_id, value: kafka.serde.encode(id, 'enriched-agent-event', toEnrichedRecord(e)) })))
    const db = new pg.Pool({ connectionString: stackEnv().databaseUrl, max: 2, options: `-c search_path=${schema}` })
    const outboxCount = async () => Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM alert_outbox').catch(() => ({ rows: [{ n: '0' }] }))).rows[0]!.n)
    const start = async () => {
      app = await startApp('alerting', kafka.prefix, {
        AUREN_DATABASE_URL: stackEnv().databaseUrl, AUREN_ALERTING_DB_SCHEMA: schema, AUREN_ALERTMANAGER_URL: proxy.url,
        AUREN_ALERTING_RULES_FILE: RULES, AUREN_ALERTING_IDLE_TIMEOUT_MS: '0', AUREN_ALERTING_DELIVERY_POLL_MS: '200',
        AUREN_ALERTING_RESEND_INTERVAL_MS: '60000',
      })
      await app.waitReady(120_000)
    }
    try {
      // The replay in four parts; after each of the first three, once the app has committed
      // some of that part's changes, SIGKILL it and start it again.
      const parts = 4
      let stoppedAt = 0
      const size = Math.ceil(EVENTS / parts)
      await start()
      for (let p = 0; p < parts; p += 1) {
        const before = await outboxCount()
        await produce(history.slice(p * size, (p + 1) * size))
        if (p === 1) {
          await am.stop() // the outage starts while changes flow …
          stoppedAt = Date.now()
        }
        if (p < parts - 1) {
          await waitUntil(`changes of part ${p + 1} committed`, async () => (await outboxCount()) > before, { timeoutMs: 60_000, everyMs: 20 })
          app!.kill('SIGKILL')
          await app!.exited
          await start()
        }
        if (p === 2) {
          await pause(Math.max(0, stoppedAt + 30_000 - Date.now())) // … and lasts 30 s
          restartedAt = Date.now()
          await am.start()
        }
      }
      // Every expected change committed once, then accepted by the Alertmanager.
      await waitUntil('every state change in the outbox', async () => (await outboxCount()) >= expectedList.length, { timeoutMs: 120_000, everyMs: 200 })
      const committed = (await db.query<{ fingerprint: string; status: string }>("SELECT fingerprint, payload->>'status' AS status FROM alert_outbox ORDER BY id")).rows
      expect(committed.map((r) => `${r.fingerprint}/${r.status}`)).toEqual(expectedList.map((a) => `${a.fingerprint}/${a.status}`))
      await waitUntil('every change delivered', async () => Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM alert_notifications WHERE published_at IS NULL')).rows[0]!.n) === 0, { timeoutMs: 60_000, everyMs: 200 })
    } finally {
      await db.end()
    }
    // A change is one (fingerprint, status) step; the alert flaps, so each must reach the
    // Alertmanager as often as it happened, in order: compare the sequences without repeats.
    const steps = (list: { fingerprint: string; resolved: boolean }[]) => {
      const out = new Map<string, string[]>()
      for (const a of list) {
        const seq = out.get(a.fingerprint) ?? []
        const status = a.resolved ? 'resolved' : 'firing'
        if (seq.at(-1) !== status) seq.push(status)
        out.set(a.fingerprint, seq)
      }
      return out
    }
    const want = steps(expectedList.map((a) => ({ fingerprint: a.fingerprint, resolved: a.status === 'resolved' })))
    const got = steps(proxy.accepted)
    for (const [fp, seq] of want) expect(got.get(fp), `state changes of ${fp} accepted by the Alertmanager`).toEqual(seq)
    // No duplicate notification of one group within the group interval, per receiver.
    const times = new Map<string, number[]>()
    for (const r of receiver.received) {
      const b = r.body as { groupKey?: string; dedup_key?: string }
      const group = b.groupKey ?? b.dedup_key
      if (group === undefined) continue
      times.set(`${r.path} ${group}`, [...(times.get(`${r.path} ${group}`) ?? []), r.atMs])
    }
    expect(times.size).toBeGreaterThan(0)
    expect(restartedAt).toBeGreaterThan(testStartedAt)
    for (const [group, ts] of times) {
      // A fresh group's first notification: the group's first, and its first after the restart.
      const fresh = new Set([0, ts.findIndex((t) => t >= restartedAt)])
      const flushes = ts.filter((t, i) => !(i > 0 && fresh.has(i - 1) && t - ts[i - 1]! < IMMEDIATE_REFLUSH_MS))
      for (let i = 1; i < flushes.length; i += 1) {
        expect(flushes[i]! - flushes[i - 1]!, `${group}: flushes ${flushes[i]! - flushes[i - 1]!} ms apart (notifications at ${ts.map((t) => t - testStartedAt).join(', ')} ms)`).toBeGreaterThanOrEqual(GROUP_INTERVAL_MS * 0.9)
      }
    }
  }, 420_000)
})
