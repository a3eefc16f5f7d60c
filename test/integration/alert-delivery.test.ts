/**
 * Alert delivery end to end from the outbox to the receivers, on the real PostgreSQL and a real
 * Alertmanager running the repository's routing, with a local HTTP receiver standing in for the
 * webhook, Slack and PagerDuty endpoints: state changes from the rule engine reach the
 * Alertmanager at least once; each channel gets one grouped notification per group in its own
 * payload format, then the resolved one; a silence created through the Alertmanager API mutes a
 * matching alert; a critical alert inhibits the same agent's warning; replayed history goes to
 * the non-paging receiver; firing alerts are re-sent with a later endsAt; an Alertmanager outage
 * queues the changes in the outbox and they are delivered when it is back.
 */
import type pg from 'pg'
import pino from 'pino'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Alert } from '../../schemas/index.ts'
import { RuleEngine } from '../../processors/alerting/engine.ts'
import { validateRuleFile } from '../../processors/alerting/rule-schema.ts'
import { ensureAlertTables, recordAlertChanges, startAlertDelivery, type AlertDelivery } from '../../processors/alerting/notifiers/alert-delivery.ts'
import { inTransaction } from '../../processors/runtime/sinks/postgres.ts'
import { agentEvent, enriched, llmPayload } from '../helpers/aggregation-events.ts'
import { startReceiver, startTestAlertmanager, type Receiver, type TestAlertmanager } from '../helpers/alertmanager.ts'
import { createTestSchema, type TestSchema } from '../helpers/pg-schema.ts'
import { waitUntil } from '../helpers/wait-until.ts'

const GROUP_INTERVAL_MS = 6_000
const rules = validateRuleFile({
  rules: [
    {
      id: 'agent-rate-limited', severity: 'critical', group_by: ['agent', 'model'],
      selector: { event_types: ['llm_call_completed'], error_types: ['rate_limit_exceeded'] },
      condition: { kind: 'count', window: '5m', threshold: 2 },
      annotations: { summary: '{{ labels.agent }} hit {{ value }} rate limits on {{ labels.model }}', description: 'at least {{ threshold }} in {{ window }}', runbook_url: 'prometheus/runbooks.md#agent-rate-limited' },
    },
    {
      id: 'llm-timeouts', severity: 'warning', group_by: ['agent'],
      selector: { event_types: ['llm_call_completed'], error_types: ['timeout'] },
      condition: { kind: 'count', window: '5m', threshold: 1 },
      annotations: { summary: '{{ labels.agent }} LLM timeouts' },
    },
  ],
})
if (!rules.ok) throw new Error(rules.errors.join('\n'))

// Event times two hours back, so that every startsAt is in the past; each case after the first
// starts 10 minutes of event time later (`base`), after the engine's clock.
const T0 = Date.now() - 2 * 3_600_000
let base = T0
let seq = 0
const failed = (agent: string, error: string, model = 'gpt-4') =>
  enriched(agentEvent('llm_call_completed', llmPayload({ success: false, error_type: error, model, latency_ms: null }), { id: `ad-${++seq}`, timestampUs: (base + seq) * 1000, agent }))

type WebhookBody = { version: string; status: string; groupLabels: Record<string, string>; commonLabels: Record<string, string>; alerts: Array<{ status: string; labels: Record<string, string>; annotations: Record<string, string>; generatorURL: string }> }
type SlackBody = { channel: string; attachments: Array<{ title: string; text: string }> }
type PagerDutyBody = { routing_key: string; event_action: string; dedup_key: string; payload: { summary: string; severity: string; source: string } }
type AmAlert = { labels: Record<string, string>; endsAt: string; status: { state: string; silencedBy: string[]; inhibitedBy: string[] } }

describe('alert delivery through the Alertmanager', () => {
  let receiver: Receiver
  let am: TestAlertmanager
  let db: TestSchema
  let pool: pg.Pool
  let delivery: AlertDelivery
  const registry = new Registry()
  const engine = new RuleEngine(rules.rules)

  async function record(alerts: Alert[]) {
    await inTransaction(pool, 'test', (c) => recordAlertChanges(c, alerts))
  }
  const webhooks = (agent: string, path = '/webhook') => receiver.on(path).map((r) => r.body as unknown as WebhookBody).filter((b) => b.groupLabels.agent === agent)
  const amAlerts = async (...matchers: string[]) =>
    (await (await fetch(`${am.url}/api/v2/alerts?${matchers.map((m) => `filter=${encodeURIComponent(m)}`).join('&')}`)).json()) as AmAlert[]
  const pending = async () => Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM alert_notifications WHERE published_at IS NULL')).rows[0]!.n)

  beforeAll(async () => {
    receiver = await startReceiver()
    am = await startTestAlertmanager({ receiverBaseUrl: receiver.baseUrl, groupWait: '1s', groupInterval: `${GROUP_INTERVAL_MS / 1000}s` })
    db = await createTestSchema('alert_t', 4)
    pool = db.pool
    await ensureAlertTables(pool)
    delivery = startAlertDelivery({
      pool, target: { baseUrl: am.url, timeoutMs: 2000 }, resendIntervalMs: 2000, pollIntervalMs: 200,
      generatorBaseUrl: 'http://127.0.0.1:9464', log: pino({ level: 'silent' }), registry,
    })
  })
  afterAll(async () => {
    await delivery?.stop()
    await db?.drop()
    await am?.close()
    await receiver?.close()
  })

  it('sends each group once per channel in its payload format, then its resolution', async () => {
    const fired = [failed('Programmer', 'rate_limit_exceeded', 'gpt-4'), failed('Programmer', 'rate_limit_exceeded', 'gpt-4'),
      failed('Programmer', 'rate_limit_exceeded', 'gpt-3.5-turbo'), failed('Programmer', 'rate_limit_exceeded', 'gpt-3.5-turbo'),
      failed('Reviewer', 'rate_limit_exceeded'), failed('Reviewer', 'rate_limit_exceeded')].flatMap((e) => engine.onEvent(e))
    expect(fired.map((a) => `${a.labels.agent}/${a.labels.model}`)).toEqual(['Programmer/gpt-4', 'Programmer/gpt-3.5-turbo', 'Reviewer/gpt-4'])
    await record(fired)
    await waitUntil('both groups on every channel', () => webhooks('Programmer').length >= 1 && webhooks('Reviewer').length >= 1 &&
      receiver.on('/slack').length >= 2 && receiver.on('/pagerduty').length >= 2, { timeoutMs: 20_000, everyMs: 100 })

    const programmer = webhooks('Programmer')[0]!
    expect(programmer).toMatchObject({ version: '4', status: 'firing', groupLabels: { alertname: 'agent-rate-limited', agent: 'Programmer' }, commonLabels: { severity: 'critical' } })
    expect(programmer.alerts.map((a) => a.labels.model).sort()).toEqual(['gpt-3.5-turbo', 'gpt-4']) // one notification for the group's two alerts
    expect(programmer.alerts[0]!.annotations).toMatchObject({ runbook_url: 'prometheus/runbooks.md#agent-rate-limited', threshold: '2' })
    expect(programmer.alerts[0]!.generatorURL).toMatch(/^http:\/\/127\.0\.0\.1:9464\/alerts\/[0-9a-f]{16}\?rule=agent-rate-limited$/)
    const slack = receiver.on('/slack').map((r) => r.body as unknown as SlackBody)
    expect(slack.map((s) => s.attachments[0]!.title).sort()).toEqual(['[FIRING] agent-rate-limited (Programmer)', '[FIRING] agent-rate-limited (Reviewer)'])
    expect(slack.every((s) => s.channel === '#auren-oncall')).toBe(true)
    const pd = receiver.on('/pagerduty').map((r) => r.body as unknown as PagerDutyBody)
    expect(pd.every((p) => p.routing_key === 'auren-local-routing-key' && p.event_action === 'trigger' && p.payload.severity === 'critical')).toBe(true)
    expect(new Set(pd.map((p) => p.dedup_key)).size).toBe(2)

    // The condition clears when the window slides past the events: resolved records follow.
    const resolved = engine.advanceTo(T0 + 6 * 60_000)
    expect(resolved.map((a) => a.status)).toEqual(['resolved', 'resolved', 'resolved'])
    await record(resolved)
    await waitUntil('resolved notifications', () => webhooks('Programmer').some((b) => b.status === 'resolved') && webhooks('Reviewer').some((b) => b.status === 'resolved') &&
      receiver.on('/pagerduty').filter((r) => (r.body as unknown as PagerDutyBody).event_action === 'resolve').length === 2, { timeoutMs: 30_000, everyMs: 100 })
    expect(receiver.on('/slack').map((r) => (r.body as unknown as SlackBody).attachments[0]!.title)).toContain('[RESOLVED] agent-rate-limited (Programmer)')
    // Re-sends with a later endsAt never produced a second firing notification of a group within the group interval.
    for (const agent of ['Programmer', 'Reviewer']) expect(webhooks(agent).filter((b) => b.status === 'firing').length).toBe(1)
  })

  it('keeps a firing alert active by re-sending it with a later endsAt', async () => {
    base = T0 + 10 * 60_000
    await record([failed('Designer', 'rate_limit_exceeded'), failed('Designer', 'rate_limit_exceeded')].flatMap((e) => engine.onEvent(e)))
    const first = await waitUntil('Designer in the Alertmanager', async () => (await amAlerts('agent="Designer"'))[0])
    const later = await waitUntil('a re-send', async () => {
      const a = (await amAlerts('agent="Designer"'))[0]
      return a && Date.parse(a.endsAt) > Date.parse(first.endsAt) ? a : undefined
    }, { timeoutMs: 15_000, everyMs: 200 })
    expect(Date.parse(later.endsAt)).toBeGreaterThan(Date.now())
  })

  it('mutes an alert matched by a silence created through the Alertmanager API', async () => {
    base = T0 + 20 * 60_000
    const res = await fetch(`${am.url}/api/v2/silences`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ matchers: [{ name: 'agent', value: 'Tester', isRegex: false, isEqual: true }], startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 3_600_000).toISOString(), createdBy: 'test', comment: 'known flaky tester' }),
    })
    expect(res.status).toBe(200)
    const { silenceID } = (await res.json()) as { silenceID: string }
    await record([failed('Tester', 'rate_limit_exceeded'), failed('Tester', 'rate_limit_exceeded')].flatMap((e) => engine.onEvent(e)))
    await record([failed('Sentinel', 'rate_limit_exceeded'), failed('Sentinel', 'rate_limit_exceeded')].flatMap((e) => engine.onEvent(e)))
    await waitUntil('the sentinel group notified after the silenced one', () => webhooks('Sentinel').length >= 1, { timeoutMs: 20_000, everyMs: 100 })
    const [tester] = await amAlerts('agent="Tester"')
    expect(tester!.status).toMatchObject({ state: 'suppressed', silencedBy: [silenceID] })
    expect(webhooks('Tester')).toEqual([])
    expect(receiver.on('/pagerduty').some((r) => JSON.stringify(r.body).includes('Tester'))).toBe(false)
  })

  it("inhibits an agent's warning under its critical alert, not another agent's", async () => {
    base = T0 + 30 * 60_000
    await record([failed('CTO', 'rate_limit_exceeded'), failed('CTO', 'rate_limit_exceeded'), failed('CTO', 'timeout'), failed('CEO', 'timeout')].flatMap((e) => engine.onEvent(e)))
    await waitUntil('CEO warning and CTO critical notified', () => webhooks('CEO').length >= 1 && webhooks('CTO').length >= 1, { timeoutMs: 20_000, everyMs: 100 })
    const [ctoWarning] = await amAlerts('alertname="llm-timeouts"', 'agent="CTO"')
    expect(ctoWarning!.status.state).toBe('suppressed')
    expect(ctoWarning!.status.inhibitedBy.length).toBe(1)
    expect(webhooks('CTO').every((b) => b.groupLabels.alertname === 'agent-rate-limited')).toBe(true)
    expect(webhooks('CEO').map((b) => b.groupLabels.alertname)).toEqual(['llm-timeouts'])
    expect(receiver.on('/slack').map((r) => (r.body as unknown as SlackBody)).filter((s) => s.channel === '#auren-alerts').map((s) => s.attachments[0]!.title)).toEqual(['[FIRING] llm-timeouts (CEO)'])
  })

  it('sends replayed history to the non-paging receiver', async () => {
    base = T0 + 40 * 60_000
    await record([failed('Historian', 'rate_limit_exceeded'), failed('Historian', 'rate_limit_exceeded')].flatMap((e) => engine.onEvent(e, true)))
    // The Alertmanager sends to the route's receivers (webhook, Slack) in parallel: wait for both.
    const replaySlack = () => receiver.on('/slack').some((r) => (r.body as unknown as SlackBody).channel === '#auren-replay')
    await waitUntil('replay webhook and Slack message', () => webhooks('Historian', '/webhook/replay').length >= 1 && replaySlack(), { timeoutMs: 20_000, everyMs: 100 })
    expect(webhooks('Historian', '/webhook/replay')[0]!.commonLabels).toMatchObject({ replay: 'true', severity: 'critical' })
    expect(replaySlack()).toBe(true)
    expect(receiver.on('/pagerduty').some((r) => JSON.stringify(r.body).includes('Historian'))).toBe(false)
    expect(webhooks('Historian')).toEqual([])
  })

  it('queues state changes in the outbox while the Alertmanager is down and delivers them after', async () => {
    base = T0 + 50 * 60_000
    await am.stop()
    const changes = [failed('Outage', 'rate_limit_exceeded'), failed('Outage', 'rate_limit_exceeded')].flatMap((e) => engine.onEvent(e))
    await record(changes)
    await waitUntil('a failed delivery round', async () => (await registry.getSingleMetricAsString('auren_notifications_total')).match(/status="failed"\} [1-9]/), { timeoutMs: 10_000, everyMs: 100 })
    expect(await pending()).toBeGreaterThanOrEqual(1)
    await waitUntil('the backlog gauge', async () => /topic="alertmanager"\} [1-9]/.test(await registry.getSingleMetricAsString('auren_outbox_pending_records')))
    await am.start()
    await waitUntil('the queued change delivered', async () => (await pending()) === 0 && webhooks('Outage').length >= 1, { timeoutMs: 20_000, everyMs: 100 })
    expect(webhooks('Outage')[0]!.status).toBe('firing')
  })
})
