/**
 * `GET /api/v2/alerts`: the alerts firing now and the alerts resolved in a range, read from the
 * alerting processor's tables (the contract schemas/alert-tables.ts: `alert_active`, one row per
 * firing fingerprint, and `alert_outbox`, every state change in commit order, kept after
 * publication).
 *
 * Why PostgreSQL and not the `auren.alerts.v1` topic: both tables are written in the transaction
 * that commits the rule states and the input offsets, so "firing now" is exact and survives a
 * gateway restart; a topic reader would have to replay the whole topic into memory on every
 * gateway instance to know what is firing, and could only list what it had read since it started.
 *
 * Shapes: every alert is the `Alert` of CONTRACTS.md 3b as the WebSocket `alerts` channel sends it
 * (gateway/event-json.ts `alertJson`: times as ISO-8601 UTC with microseconds), so one alert reads
 * the same on both fronts.
 * - `firing`: alerts whose latest state change is `firing`, newest `starts_at` first; not limited
 *   by the range (an alert that started before it is still firing).
 * - `resolved`: resolutions whose `ends_at` (event time) lies in `[from, to)`, newest first; a
 *   change recorded twice (same fingerprint and start) is listed once.
 * Each list holds at most `limit` alerts and says how many matched (`total`). Pending alerts
 * (condition met, `for` not yet elapsed) are no state change of the contract (an Alert's status
 * is firing or resolved) and are not listed.
 */
import type { Alert } from '../../schemas/index.ts'
import { ALERT_TABLES, AT } from '../../schemas/alert-tables.ts'
import type { TimeRange } from '../analytics/range.ts'
import { rangeBody } from '../analytics/range.ts'
import { alertJson } from '../event-json.ts'
import { Params, rows, type Db } from './db.ts'

/** Filters of the route (null = all). */
export interface AlertFilter {
  readonly range: TimeRange
  readonly rule: string | null
  readonly severity: string | null
  /** Value of the alert's `agent` label. */
  readonly agent: string | null
  /** Most alerts per list. */
  readonly limit: number
}

/** One list of the answer. */
export interface AlertList {
  /** Alerts that matched the filters (the list may hold fewer: `limit`). */
  readonly total: number
  readonly alerts: Record<string, unknown>[]
}

/** The 200 body. */
export interface AlertsAnswer {
  readonly range: { from: string; to: string }
  readonly scope: { rule: string | null; severity: string | null; agent: string | null }
  readonly firing: AlertList
  readonly resolved: AlertList
}

type ActiveColumn = keyof typeof ALERT_TABLES.active.columns
type ChangeColumn = keyof typeof ALERT_TABLES.changes.columns
const PAYLOAD = 'payload' satisfies ActiveColumn & ChangeColumn
const ID = 'id' satisfies ChangeColumn
const FINGERPRINT = 'fingerprint' satisfies ActiveColumn & ChangeColumn

/** Conditions on the payload for the rule, severity and agent filters. */
function payloadFilters(f: AlertFilter, ps: Params): string[] {
  const conds: string[] = []
  if (f.rule !== null) conds.push(`${PAYLOAD}->>'rule' = ${ps.p(f.rule)}`)
  if (f.severity !== null) conds.push(`${PAYLOAD}->>'severity' = ${ps.p(f.severity)}`)
  if (f.agent !== null) conds.push(`${PAYLOAD}->'labels'->>'agent' = ${ps.p(f.agent)}`)
  return conds
}

/** The 503 message when the alert tables are not in the gateway's schema: which app creates them. */
const MISSING_TABLES = `the alert tables (${AT.active}, ${AT.changes}) are not in this database schema: the alerting app creates them in AUREN_ALERTING_DB_SCHEMA, which must be the gateway's AUREN_GATEWAY_DB_SCHEMA`
const read = (db: Db, text: string, values: unknown[]) => rows<{ payload: Alert; total: string }>(db, text, values, { missingTable: MISSING_TABLES })

const listOf = (rs: { payload: Alert; total: string }[]): AlertList => ({ total: Number(rs[0]?.total ?? 0), alerts: rs.map((r) => alertJson(r.payload)) })

/** The alerts firing now and those resolved in the range (module doc). */
export async function loadAlerts(db: Db, f: AlertFilter): Promise<AlertsAnswer> {
  const fp = new Params()
  const firingWhere = payloadFilters(f, fp)
  const firing = await read(db, `SELECT ${PAYLOAD}, count(*) OVER () AS total FROM ${AT.active}
    ${firingWhere.length > 0 ? `WHERE ${firingWhere.join(' AND ')}` : ''}
    ORDER BY (${PAYLOAD}->>'starts_at')::bigint DESC, ${FINGERPRINT} LIMIT ${fp.p(f.limit)}`, fp.values)

  const rp = new Params()
  const resolvedWhere = [
    `${PAYLOAD}->>'status' = 'resolved'`,
    `(${PAYLOAD}->>'ends_at')::bigint >= ${rp.p(f.range.fromUs)}`,
    `(${PAYLOAD}->>'ends_at')::bigint < ${rp.p(f.range.toUs)}`,
    ...payloadFilters(f, rp),
  ]
  const resolved = await read(db, `SELECT ${PAYLOAD}, count(*) OVER () AS total FROM (
      SELECT DISTINCT ON (${FINGERPRINT}, ${PAYLOAD}->>'starts_at') ${ID}, ${PAYLOAD} FROM ${AT.changes}
      WHERE ${resolvedWhere.join(' AND ')}
      ORDER BY ${FINGERPRINT}, ${PAYLOAD}->>'starts_at', ${ID} DESC
    ) d ORDER BY (${PAYLOAD}->>'ends_at')::bigint DESC, ${ID} DESC LIMIT ${rp.p(f.limit)}`, rp.values)

  return {
    range: rangeBody(f.range),
    scope: { rule: f.rule, severity: f.severity, agent: f.agent },
    firing: listOf(firing),
    resolved: listOf(resolved),
  }
}

// ---- response schema (OpenAPI 3.0) ------------------------------------------------------------
const s = { type: 'string' }
const ns = { type: 'string', nullable: true }
const alert = {
  type: 'object',
  description: 'An Alert (CONTRACTS.md 3b) as the WebSocket alerts channel sends it; times ISO-8601 UTC with microseconds.',
  required: ['fingerprint', 'rule', 'severity', 'status', 'labels', 'annotations', 'value', 'threshold', 'starts_at', 'ends_at', 'source_window'],
  properties: {
    fingerprint: { ...s, description: 'Stable hash of the rule id and the grouping label values.' },
    rule: s,
    severity: { type: 'string', enum: ['critical', 'warning', 'info'] },
    status: { type: 'string', enum: ['firing', 'resolved'] },
    labels: { type: 'object', additionalProperties: { type: 'string' }, description: 'Grouping labels (agent, model, …; replay="true" for alerts of replayed history).' },
    annotations: { type: 'object', required: ['summary', 'description', 'runbook'], properties: { summary: s, description: s, runbook: ns } },
    value: { type: 'number', description: 'Observed value that triggered the rule.' },
    threshold: { type: 'number' },
    starts_at: { ...s, description: 'When the alert started firing (event time).' },
    ends_at: { ...ns, description: 'When it resolved (event time); null while firing.' },
    source_window: { type: 'object', nullable: true, properties: { start: s, end: s }, description: 'Window the value was computed over, for window-based rules.' },
  },
}
const list = (what: string) => ({
  type: 'object', required: ['total', 'alerts'], description: what,
  properties: { total: { type: 'integer', description: 'Alerts that matched the filters; `alerts` holds at most `limit` of them.' }, alerts: { type: 'array', items: alert } },
})

/** 200 body of `alerts`, for openapi.ts. */
export const ALERT_RESPONSES = {
  alerts: {
    type: 'object',
    required: ['range', 'scope', 'firing', 'resolved'],
    properties: {
      range: { type: 'object', required: ['from', 'to'], properties: { from: s, to: s }, description: 'The range of `resolved` (their ends_at), [from, to), ISO-8601 UTC.' },
      scope: { type: 'object', required: ['rule', 'severity', 'agent'], properties: { rule: ns, severity: ns, agent: ns }, description: 'Filters applied (null = all).' },
      firing: list('Alerts firing now, newest start first (whatever the range).'),
      resolved: list('Alerts resolved within the range, newest end first; each (fingerprint, start) once.'),
    },
  },
} as const
