/**
 * The alerting processor end to end on the real stack (Kafka, Schema Registry, PostgreSQL, an
 * Alertmanager with the repository's routing) with a local HTTP receiver standing in for the
 * webhook, Slack and PagerDuty endpoints: a replay of the recorded ChatDev runs through
 * enrichment and alerting fires the shipped rate-limit rule (`agent-rate-limited`: ≥ 3
 * rate-limit failures of an agent in 5 minutes) for exactly the agents whose runs hit rate
 * limits that often, the alerts land on `auren.alerts.v1`, the receiver gets one grouped
 * notification per agent on the replay route (the runs are history: `replay="true"`, Slack
 * `#auren-replay` and the replay webhook, never PagerDuty), and the resolved notifications
 * follow once later events move event time past the window. The rule keeps firing for 7 days of
 * event time here instead of 5 minutes ({@link KEEP_FIRING}): the replay runs faster than the
 * Alertmanager's group_wait, and only an alert still firing is certain to be notified.
 */
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Alert, AgentEvent } from '../../schemas/index.ts'
import { loadTraceRuns } from '../../scripts/sources/trace-files.ts'
import { DEFAULT_RULE_FILE } from '../../processors/alerting/rule-file.ts'
import { parseDurationMs } from '../../processors/alerting/duration.ts'
import { parse, stringify } from 'yaml'
import { startReceiver, startTestAlertmanager, type Receiver, type TestAlertmanager } from '../helpers/alertmanager.ts'
import { createTestKafka, type TestKafka } from '../helpers/kafka.ts'
import { startApp, type AppProcess } from '../helpers/processes.ts'
import { stackEnv } from '../helpers/stack.ts'
import { waitUntil } from '../helpers/wait-until.ts'
import { requireRecordedRuns } from '../helpers/required-data.ts'

const TRACES = join(import.meta.dirname, '..', '..', '..', 'shared', 'data', 'agent-traces')
const RULE = 'agent-rate-limited'
const WINDOW_US = 5 * 60 * 1_000_000
/**
 * keep_firing_for of the rule in this test (the shipped rules otherwise): a replay runs days of
 * history in seconds, and an alert that fires and resolves within the Alertmanager's group_wait
 * is never notified, so with the shipped 5 m whether a replayed alert is notified would depend on
 * timing. Held this long (the three runs span about 4 days of event time), every alert the
 * replay fires stays firing until the test moves event time past it.
 */
const KEEP_FIRING = '7d'
/** Bound on the event time the three runs span (about 4 days), µs. */
const RUNS_SPAN_US = 5 * 24 * 3_600_000_000

/** The shipped stream rules with {@link KEEP_FIRING} on the rule under test, as a file in `dir`. */
function ruleFileHoldingAlerts(dir: string): string {
  const file = parse(readFileSync(DEFAULT_RULE_FILE, 'utf8')) as { rules: Array<Record<string, unknown>> }
  const rule = file.rules.find((r) => r.id === RULE)
  if (!rule) throw new Error(`${RULE} is not in ${DEFAULT_RULE_FILE}`)
  rule.keep_firing_for = KEEP_FIRING
  const path = join(dir, 'rules.yml')
  writeFileSync(path, stringify(file))
  return path
}

const isRateLimit = (e: AgentEvent) => e.event_type === 'llm_call_completed' && e.payload.error_type === 'rate_limit_exceeded'

/** Agents with ≥ 3 rate-limit failures within 5 minutes of event time inside one run (the rule, computed directly). */
function agentsOverThreshold(runs: readonly { events: AgentEvent[] }[]): string[] {
  const out = new Set<string>()
  for (const run of runs) {
    const byAgent = new Map<string, number[]>()
    for (const e of run.events.filter(isRateLimit)) byAgent.set(e.source_agent!.id, [...(byAgent.get(e.source_agent!.id) ?? []), e.timestamp])
    for (const [agent, ts] of byAgent) {
      ts.sort((a, b) => a - b)
      for (let i = 2; i < ts.length; i += 1) if (ts[i]! - ts[i - 2]! < WINDOW_US) out.add(agent)
    }
  }
  return [...out].sort()
}

type WebhookBody = { status: string; groupLabels: Record<string, string>; commonLabels: Record<string, string>; alerts: unknown[] }
type SlackBody = { channel: string; attachments: Array<{ title: string }> }

describe('alerting on the recorded ChatDev runs', () => {
  let kafka: TestKafka
  let receiver: Receiver
  let am: TestAlertmanager
  let enrichment: AppProcess
  let alerting: AppProcess
  let schema: string
  let dir: string
  let runs: ReturnType<typeof loadTraceRuns>['runs']
  let expected: string[]

  beforeAll(async () => {
    requireRecordedRuns(TRACES)
    runs = loadTraceRuns(TRACES).runs.filter((r) => r.kind === 'chatdev' && r.events.some(isRateLimit))
    expected = agentsOverThreshold(runs)
    expect(expected.length).toBeGreaterThan(0)
    kafka = await createTestKafka()
    receiver = await startReceiver()
    am = await startTestAlertmanager({ receiverBaseUrl: receiver.baseUrl, groupWait: '1s', groupInterval: '10s' })
    schema = `alerting_e2e_${randomUUID().replace(/-/g, '').slice(0, 10)}`
    dir = mkdtempSync(join(tmpdir(), 'auren-alerting-e2e-'))
    enrichment = await startApp('enrichment', kafka.prefix)
    alerting = await startApp('alerting', kafka.prefix, {
      AUREN_DATABASE_URL: stackEnv().databaseUrl,
      AUREN_ALERTMANAGER_URL: am.url,
      AUREN_ALERTING_DB_SCHEMA: schema,
      AUREN_ALERTING_RULES_FILE: ruleFileHoldingAlerts(dir),
      // The runs end at different event times on different partitions: once a partition has had
      // no record for 5 s it is idle, sends every bucket it holds and no longer holds the
      // repartition's watermark back, so every run's alerts fire (processors/alerting/README.md
      // "Co-location and scaling"). Which alerts fire, and at which event times, does not depend on when.
      AUREN_ALERTING_IDLE_TIMEOUT_MS: '5000',
      AUREN_ALERTING_RESEND_INTERVAL_MS: '2000',
      AUREN_ALERTING_DELIVERY_POLL_MS: '100',
    })
    await Promise.all([enrichment.waitReady(), alerting.waitReady()])
  })
  afterAll(async () => {
    for (const app of [alerting, enrichment]) {
      app?.kill('SIGTERM')
      await app?.exited
    }
    const c = new pg.Client({ connectionString: stackEnv().databaseUrl })
    await c.connect()
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await c.end()
    await am?.close()
    await receiver?.close()
    await kafka?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('fires the rate-limit rule for the agents whose runs hit rate limits, notifies each group once on the replay route, then resolves', async () => {
    await kafka.produceEvents(runs.flatMap((r) => r.events))
    // Every agent over the threshold fires: read the Alert records on auren.alerts.v1.
    const decoded = async (records: readonly { value: Buffer | null }[]) => Promise.all(records.map(async (r) => (await kafka.serde.decode(r.value, 'alert')) as Alert))
    const firedAgents = async (records: readonly { value: Buffer | null }[]) =>
      [...new Set((await decoded(records)).filter((a) => a.rule === RULE && a.status === 'firing').map((a) => a.labels.agent!))].sort()
    let alertRecords: Awaited<ReturnType<typeof kafka.consumeUntil>> = []
    await waitUntil(`firing records for ${expected.join(', ')} on auren.alerts.v1`, async () => {
      alertRecords = await kafka.consumeUntil(kafka.topics.alerts, () => false, 3_000)
      return (await firedAgents(alertRecords)).length >= expected.length
    }, { timeoutMs: 120_000, everyMs: 500 })
    expect(await firedAgents(alertRecords)).toEqual(expected)
    const sample = (await decoded(alertRecords)).find((a) => a.rule === RULE)!
    expect(sample.labels).toMatchObject({ replay: 'true', severity: 'warning', alertname: RULE })

    // The receiver gets one grouped notification per agent on the replay route: every fired
    // alert is still firing (KEEP_FIRING), so the Alertmanager notifies each agent's group.
    const replayHooks = () => receiver.on('/webhook/replay').map((r) => r.body as unknown as WebhookBody).filter((b) => b.groupLabels.alertname === RULE)
    const firingAgents = () => [...new Set(replayHooks().filter((b) => b.status === 'firing').map((b) => b.groupLabels.agent!))].sort()
    await waitUntil('a firing notification for every fired agent', () => firingAgents().length >= expected.length, { timeoutMs: 60_000, everyMs: 200 }).catch((err: Error) => {
      const seen = receiver.received.map((r) => `${r.path} ${JSON.stringify((r.body as { groupLabels?: unknown }).groupLabels ?? (r.body as SlackBody).attachments?.[0]?.title)} ${(r.body as { status?: string }).status ?? ''}`)
      throw new Error(`${err.message}\nnotified firing: ${firingAgents().join(', ')}\nreceived:\n${seen.join('\n')}\nalerting errors:\n${alerting.output().split('\n').filter((l) => /"level":(40|50|60)/.test(l)).slice(-20).join('\n')}`)
    })
    const notified = firingAgents()
    expect(notified).toEqual(expected)
    const expectOneFiringNotificationEach = () => {
      for (const agent of notified) expect(replayHooks().filter((b) => b.groupLabels.agent === agent && b.status === 'firing').length, agent).toBe(1)
    }
    expectOneFiringNotificationEach()
    expect(replayHooks()[0]!.commonLabels).toMatchObject({ replay: 'true', severity: 'warning', alertname: RULE })
    // Slack is a receiver of its own on the same route: its messages may come a moment after the webhook's.
    const slackTitles = () => receiver.on('/slack').map((r) => r.body as unknown as SlackBody).filter((s) => s.channel === '#auren-replay').map((s) => s.attachments[0]!.title)
    await waitUntil('a Slack message for every notified agent', () => notified.every((agent) => slackTitles().includes(`[REPLAY FIRING] ${RULE} (${agent})`)), { timeoutMs: 30_000, everyMs: 200 })
    expect(receiver.on('/pagerduty')).toEqual([])

    // Later events of the same runs (same keys, so the same partitions) move event time past
    // KEEP_FIRING and the runs' span: the windows slide past the rate limits and the alerts resolve.
    const later = runs.map((r) => {
      const last = r.events[r.events.length - 1]!
      return { ...last, event_id: randomUUID(), event_type: 'agent_execution_started' as const, timestamp: last.timestamp + parseDurationMs(KEEP_FIRING)! * 1000 + RUNS_SPAN_US,
        payload: { task_id: null, execution_mode: null, tools_available: [], latency_ms: null, success: null, error_type: null, output_length: null } } as AgentEvent
    })
    await kafka.produceEvents(later)
    const resolvedAgents = () => [...new Set(replayHooks().filter((b) => b.status === 'resolved').map((b) => b.groupLabels.agent!))].sort()
    await waitUntil('a resolved notification for every notified agent', () => resolvedAgents().length >= notified.length, { timeoutMs: 60_000, everyMs: 200 })
    expect(resolvedAgents()).toEqual(notified)
    expectOneFiringNotificationEach()
  })
})
