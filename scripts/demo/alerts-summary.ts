/**
 * The demo's alerts: what the alerting app raised on the recorded runs (the state changes it
 * published to `auren.alerts.v1`, grouped by fingerprint) and which Alertmanager receiver each
 * alert goes to. Receivers come from the Alertmanager itself: its v2 API (`GET /api/v2/alerts`,
 * field `receivers`) for the alerts it still holds as active; an alert already resolved is no
 * longer listed there (the API returns active alerts only), so its receivers are the running
 * Alertmanager's routing of its labels (`amtool config routes test --alertmanager.url`), and the
 * row says which of the two it is. `collectAlerts` and `renderAlertsSummary` are pure.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import pg from 'pg'
import type { Alert } from '../../schemas/index.ts'
import { POSITIONS_TABLE } from '../../processors/runtime/sinks/postgres.ts'
import type { CliContext } from '../lib/cli-context.ts'
import { readTopicToEnd, waitForGroupCaughtUp } from '../lib/read-topic.ts'

const run = promisify(execFile)

/** One alert (one fingerprint) raised by the alerting app, with the receivers it goes to. */
export interface RaisedAlert {
  fingerprint: string
  rule: string
  severity: string
  /** The alert's labels as sent to the Alertmanager (grouping labels, `replay`, alertname, severity). */
  labels: Record<string, string>
  /** Status of the last state change on the alerts topic. */
  status: 'firing' | 'resolved'
  /** State changes of this fingerprint on the alerts topic (firing and resolved records). */
  state_changes: number
  /** Start of the first firing, event time (ISO 8601, UTC). */
  fired_at: string
  /** End of the last firing, event time (ISO 8601, UTC); null while firing. */
  resolved_at: string | null
  /** Highest value observed in a firing record (the rule's unit: count, ratio, ms, USD…). */
  max_value: number
  threshold: number
  summary: string
  /** Alertmanager receivers; null when neither the API nor the routing could be read (see `receivers_reason`). */
  receivers: string[] | null
  /** `alertmanager-api` (listed as active by GET /api/v2/alerts) or `alertmanager-route` (resolved: the running Alertmanager's routing of its labels). */
  receivers_from: 'alertmanager-api' | 'alertmanager-route' | null
  receivers_reason?: string
}

/** What the demo prints about alerts (and `alerts` in --json). */
export interface AlertsSummary {
  topic: string
  /** Records on the alerts topic (each state change once per delivery; duplicates possible under at-least-once). */
  records: number
  alerts: RaisedAlert[]
  /** Per rule: alerts (fingerprints) raised and the values of its first grouping labels (e.g. the agents). */
  by_rule: Record<string, { severity: string; alerts: number; groups: string[] }>
}

const iso = (us: number) => new Date(Math.floor(us / 1000)).toISOString()
const labelKey = (labels: Record<string, string>) => JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)))
/** Labels that every alert carries and that do not name a group. */
const COMMON_LABELS = new Set(['alertname', 'severity', 'replay'])

/** Alert records grouped by fingerprint, in order of first firing (pure; a duplicated record counts once). */
export function collectAlerts(records: readonly Alert[]): Array<Omit<RaisedAlert, 'receivers' | 'receivers_from'>> {
  const byFp = new Map<string, Omit<RaisedAlert, 'receivers' | 'receivers_from'>>()
  const seen = new Set<string>()
  for (const a of records) {
    const key = `${a.fingerprint}|${a.status}|${a.starts_at}|${a.ends_at ?? ''}`
    if (seen.has(key)) continue
    seen.add(key)
    const labels = { ...a.labels, alertname: a.rule, severity: a.severity }
    const r = byFp.get(a.fingerprint)
    if (!r) {
      byFp.set(a.fingerprint, {
        fingerprint: a.fingerprint, rule: a.rule, severity: a.severity, labels, status: a.status, state_changes: 1, fired_at: iso(a.starts_at),
        resolved_at: a.ends_at === null ? null : iso(a.ends_at), max_value: a.value, threshold: a.threshold, summary: a.annotations.summary,
      })
      continue
    }
    r.state_changes += 1
    r.status = a.status
    r.resolved_at = a.ends_at === null ? null : iso(a.ends_at)
    if (a.status === 'firing') {
      r.max_value = Math.max(r.max_value, a.value)
      r.summary = a.annotations.summary
    }
  }
  return [...byFp.values()].sort((x, y) => x.fired_at.localeCompare(y.fired_at) || x.rule.localeCompare(y.rule))
}

/** Per rule: alerts raised and their group label values (labels other than alertname, severity, replay). */
export function alertsByRule(alerts: readonly Pick<RaisedAlert, 'rule' | 'severity' | 'labels'>[]): AlertsSummary['by_rule'] {
  const out: AlertsSummary['by_rule'] = {}
  for (const a of alerts) {
    const r = (out[a.rule] ??= { severity: a.severity, alerts: 0, groups: [] })
    r.alerts += 1
    const group = Object.entries(a.labels).filter(([k]) => !COMMON_LABELS.has(k)).map(([, v]) => v).join(' ')
    if (group && !r.groups.includes(group)) r.groups.push(group)
  }
  for (const r of Object.values(out)) r.groups.sort()
  return out
}

/**
 * Polls `query` (one row of counts, as text; `params` its parameters) in `schema` every 250 ms
 * until every count is '0'.
 * @param what names each count in the timeout's message, by column
 * @throws Error after timeoutMs (ms) with the counts still pending
 */
async function waitCountsZero(databaseUrl: string, schema: string, query: string, what: Record<string, string>, timeoutMs: number, params: unknown[] = []): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl, options: `-c search_path=${schema}` })
  await client.connect()
  try {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const row = (await client.query<Record<string, string>>(query, params)).rows[0]!
      if (Object.values(row).every((n) => n === '0')) return
      if (Date.now() > deadline) throw new Error(`alerting outboxes not drained after ${timeoutMs} ms: ${Object.entries(row).map(([k, n]) => `${n} ${what[k] ?? k}`).join(', ')}`)
      await new Promise((r) => setTimeout(r, 250))
    }
  } finally {
    await client.end()
  }
}

/**
 * Waits until the alerting app's repartition has merged all that the input implies
 * (processors/alerting/README.md "Co-location and scaling"): once the app has read its inputs,
 * each enriched partition goes idle after the idle timeout without records and sends every
 * bucket it holds with an idle mark, saved in its state in the transaction that writes them to
 * the outbox; so this waits until every enriched partition's saved state says it sent its idle
 * mark, the outbox of those records is empty and `groupId` has read the repartition topic to its
 * end. Call after the group caught up on its inputs.
 * @throws Error after timeoutMs (ms)
 */
export async function waitRepartitionSettled(ctx: CliContext, databaseUrl: string, schema: string, groupId: string, timeoutMs = 120_000): Promise<void> {
  const partitions = (await ctx.admin.offsetRanges(ctx.topics.enrichedEvents)).size
  await waitCountsZero(
    databaseUrl, schema,
    `SELECT ($3::int - (SELECT count(*) FROM ${POSITIONS_TABLE} WHERE group_id = $1 AND topic = $2 AND (state->'partials'->'lastSent'->>'idle')::boolean))::text AS sources, ` +
      '(SELECT count(*) FROM alert_partials_outbox)::text AS partials',
    { sources: 'enriched partitions that have not sent their idle mark', partials: 'records in the repartition outbox' }, timeoutMs,
    [groupId, ctx.topics.enrichedEvents, partitions],
  )
  await waitForGroupCaughtUp(ctx.admin, groupId, ctx.topics.alertPartials, timeoutMs)
}

/**
 * Waits until the alerting app's outboxes in `schema` hold nothing undelivered: every state
 * change published to the alerts topic and posted to the Alertmanager.
 * @throws Error after timeoutMs (ms) with the counts still pending
 */
export async function waitAlertsDelivered(databaseUrl: string, schema: string, timeoutMs = 120_000): Promise<void> {
  await waitCountsZero(
    databaseUrl, schema,
    'SELECT (SELECT count(*) FROM alert_outbox WHERE published_at IS NULL)::text AS topic, (SELECT count(*) FROM alert_notifications WHERE published_at IS NULL)::text AS am',
    { topic: 'for the alerts topic', am: 'for the Alertmanager' }, timeoutMs,
  )
}

interface AmAlert { labels: Record<string, string>; receivers: Array<{ name: string }> }

/** Receivers of an alert's labels by the running Alertmanager's routing tree (amtool). */
async function routeReceivers(alertmanagerUrl: string, labels: Record<string, string>): Promise<string[]> {
  const args = ['config', 'routes', 'test', `--alertmanager.url=${alertmanagerUrl}`, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)]
  const { stdout } = await run('amtool', args, { timeout: 15_000 })
  return stdout.trim().split(',').map((s) => s.trim()).filter((s) => s.length > 0)
}

/**
 * Reads the alerts topic to its end and asks the Alertmanager where each alert goes.
 * Call after {@link waitAlertsDelivered}.
 */
export async function readAlertsSummary(ctx: CliContext, alertmanagerUrl: string): Promise<AlertsSummary> {
  const records = await readTopicToEnd(ctx.driver, ctx.admin, ctx.topics.alerts)
  const decoded: Alert[] = []
  for (const r of records) decoded.push((await ctx.serde.decode(r.value, 'alert')) as Alert)
  const res = await fetch(`${alertmanagerUrl}/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true`)
  if (!res.ok) throw new Error(`Alertmanager GET /api/v2/alerts: HTTP ${res.status}`)
  const active = new Map(((await res.json()) as AmAlert[]).map((a) => [labelKey(a.labels), a.receivers.map((r) => r.name)]))
  const alerts: RaisedAlert[] = []
  for (const a of collectAlerts(decoded)) {
    const fromApi = active.get(labelKey(a.labels))
    if (fromApi) {
      alerts.push({ ...a, receivers: fromApi, receivers_from: 'alertmanager-api' })
      continue
    }
    try {
      alerts.push({ ...a, receivers: await routeReceivers(alertmanagerUrl, a.labels), receivers_from: 'alertmanager-route' })
    } catch (err) {
      alerts.push({ ...a, receivers: null, receivers_from: null, receivers_reason: `not active in the Alertmanager and its routing not readable: ${(err as Error).message.split('\n')[0]}` })
    }
  }
  return { topic: ctx.topics.alerts, records: records.length, alerts, by_rule: alertsByRule(alerts) }
}

/** The alerts section of the text report (pure). */
export function renderAlertsSummary(s: AlertsSummary): string {
  const lines = [`alerts the recorded runs raised (alerting app, rules prometheus/auren-stream-rules.yml; ${s.records} state changes on ${s.topic}):`]
  if (s.alerts.length === 0) return `${lines[0]}\n  none`
  for (const [rule, r] of Object.entries(s.by_rule)) lines.push(`  ${rule} (${r.severity}): ${r.alerts} alerts${r.groups.length > 0 ? `, for ${r.groups.join(', ')}` : ''}`)
  lines.push('')
  const group = (a: RaisedAlert) => Object.entries(a.labels).filter(([k]) => k !== 'alertname' && k !== 'severity').map(([k, v]) => `${k}=${v}`).join(' ')
  const w = Math.max(4, ...s.alerts.map((a) => a.rule.length))
  const g = Math.max(6, ...s.alerts.map((a) => group(a).length))
  lines.push(`  ${'rule'.padEnd(w)}  ${'severity'.padEnd(8)}  ${'labels'.padEnd(g)}  ${'state'.padEnd(8)}  ${'fired at (event time)'.padEnd(24)}  ${'max value'.padStart(9)}  receivers (from)`)
  for (const a of s.alerts) {
    const rcv = a.receivers === null ? `? (${a.receivers_reason})` : `${a.receivers.join(', ')} (${a.receivers_from === 'alertmanager-api' ? 'Alertmanager API, active' : 'Alertmanager routing, resolved'})`
    lines.push(`  ${a.rule.padEnd(w)}  ${a.severity.padEnd(8)}  ${group(a).padEnd(g)}  ${a.status.padEnd(8)}  ${a.fired_at.padEnd(24)}  ${String(Math.round(a.max_value * 1000) / 1000).padStart(9)}  ${rcv}`)
  }
  return lines.join('\n')
}
