/**
 * Delivery of alert state changes to the Alertmanager, at least once, from a transactional
 * outbox in PostgreSQL.
 *
 * Tables (in the app's schema, created by {@link ensureAlertTables}):
 * - `alert_notifications`: one row per state change (firing or resolved Alert record), written
 *   by {@link recordAlertChanges} in the same transaction as the rule states and input offsets;
 *   the delivery loop POSTs pending rows in id order to `POST /api/v2/alerts` and marks them
 *   delivered in the transaction that read them (the runtime's `publishPending`, one deliverer
 *   at a time by an advisory lock). A crash between the POST and the mark sends them again
 *   (duplicates are harmless: the Alertmanager dedups by labels). While the Alertmanager is
 *   down, rows wait and are drained when it is back; nothing is lost.
 * - `alert_outbox`: the same records for `auren.alerts.v1` (the runtime's outbox publisher).
 * - `alert_active`: the firing alerts (latest record per fingerprint): re-sent every
 *   `resendIntervalMs` with `endsAt` = now + 4 × the interval, as Prometheus does, so the
 *   Alertmanager keeps them active and resolves them by itself if this app dies for good.
 *
 * Metrics: `auren_notifications_total{channel="alertmanager",status}` (`sent`, `resent`,
 * `failed`: a retriable failure, the alerts stay queued; `rejected`: a 4xx answer, dropped and
 * logged) and `auren_outbox_pending_records{processor="alerting",topic="alertmanager"}`.
 */
import type pg from 'pg'
import type { Logger } from 'pino'
import { Counter, Gauge, type Registry } from 'prom-client'
import type { Alert } from '../../../schemas/index.ts'
import { AurenError } from '../../runtime/ops/errors.ts'
import { publishPending, type OutboxTable } from '../../runtime/sinks/outbox.ts'
import { toPostableAlert } from '../alertmanager-payload.ts'
import { postAlerts, type AlertmanagerTarget } from './alertmanager-client.ts'

/** DDL of the alerting tables (idempotent). */
export const ALERT_TABLES_SQL = [
  'CREATE TABLE IF NOT EXISTS alert_notifications (id bigserial PRIMARY KEY, fingerprint text NOT NULL, payload jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), published_at timestamptz)',
  'CREATE INDEX IF NOT EXISTS alert_notifications_pending ON alert_notifications (id) WHERE published_at IS NULL',
  'CREATE TABLE IF NOT EXISTS alert_outbox (id bigserial PRIMARY KEY, fingerprint text NOT NULL, payload jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), published_at timestamptz)',
  'CREATE INDEX IF NOT EXISTS alert_outbox_pending ON alert_outbox (id) WHERE published_at IS NULL',
  'CREATE TABLE IF NOT EXISTS alert_active (fingerprint text PRIMARY KEY, payload jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())',
]

/** Advisory lock ids of the two outboxes (unique among the project's outboxes). */
export const NOTIFICATIONS_LOCK_ID = 0x41_4c_45_52_54_01
export const ALERT_OUTBOX_LOCK_ID = 0x41_4c_45_52_54_02

/** Creates the tables when missing. */
export async function ensureAlertTables(pool: pg.Pool): Promise<void> {
  for (const sql of ALERT_TABLES_SQL) await pool.query(sql)
}

/** The outbox of `auren.alerts.v1` for the runtime's publisher (`Built.outboxes`). */
export function alertOutboxTable(pool: pg.Pool): OutboxTable {
  return { pool, table: 'alert_outbox', keyColumn: 'fingerprint', lockId: ALERT_OUTBOX_LOCK_ID }
}

/**
 * The net effect of a batch of state changes on `alert_active`: per fingerprint, its last change
 * decides (firing: upsert that record; resolved: delete the row), so applying the result in one
 * statement leaves the table as applying every change in order would. Pure.
 * @returns `upsert`: fingerprints and JSON payloads (distinct fingerprints), `remove`: fingerprints
 */
export function netActiveChanges(alerts: readonly Alert[], json: readonly string[]): { upsert: { fingerprints: string[]; payloads: string[] }; remove: string[] } {
  const last = new Map<string, number>()
  alerts.forEach((a, i) => {
    last.delete(a.fingerprint) // re-inserted: the map keeps the order of each fingerprint's last change
    last.set(a.fingerprint, i)
  })
  const upsert = { fingerprints: [] as string[], payloads: [] as string[] }
  const remove: string[] = []
  for (const [fp, i] of last) {
    if (alerts[i]!.status === 'firing') {
      upsert.fingerprints.push(fp)
      upsert.payloads.push(json[i]!)
    } else remove.push(fp)
  }
  return { upsert, remove }
}

/**
 * One statement for a whole batch: both outboxes get every change in order (ids follow the
 * ordinality of the arrays), and `alert_active` gets the batch's net effect
 * ({@link netActiveChanges}: the upserted and the deleted fingerprints are disjoint, so no row is
 * touched twice by the statement).
 */
const RECORD_CHANGES_SQL = `WITH c AS (SELECT f, p::jsonb AS p, o FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(f, p, o)),
  n AS (INSERT INTO alert_notifications (fingerprint, payload) SELECT f, p FROM c ORDER BY o),
  x AS (INSERT INTO alert_outbox (fingerprint, payload) SELECT f, p FROM c ORDER BY o),
  u AS (INSERT INTO alert_active (fingerprint, payload) SELECT f, p::jsonb FROM unnest($3::text[], $4::text[]) AS t(f, p)
        ON CONFLICT (fingerprint) DO UPDATE SET payload = EXCLUDED.payload, updated_at = now())
DELETE FROM alert_active WHERE fingerprint = ANY($5::text[])`

/**
 * Writes state changes, in order, into both outboxes and keeps `alert_active`, in one statement
 * (one round trip per batch, whatever its number of changes); call inside the transaction that
 * stores the rule states and the input offsets. Nothing is sent for an empty batch.
 */
export async function recordAlertChanges(client: pg.PoolClient, alerts: readonly Alert[]): Promise<void> {
  if (alerts.length === 0) return
  const json = alerts.map((a) => JSON.stringify(a))
  const { upsert, remove } = netActiveChanges(alerts, json)
  await client.query(RECORD_CHANGES_SQL, [alerts.map((a) => a.fingerprint), json, upsert.fingerprints, upsert.payloads, remove])
}

/** Firing alerts per rule and severity, from `alert_active`. */
export async function firingCounts(pool: pg.Pool): Promise<{ rule: string; severity: string; firing: number }[]> {
  const res = await pool.query<{ rule: string; severity: string; n: string }>(
    "SELECT payload->>'rule' AS rule, payload->>'severity' AS severity, count(*) AS n FROM alert_active GROUP BY 1, 2",
  )
  return res.rows.map((r) => ({ rule: r.rule, severity: r.severity, firing: Number(r.n) }))
}

/** Options of {@link startAlertDelivery}. */
export interface AlertDeliveryOptions {
  pool: pg.Pool
  target: AlertmanagerTarget
  /** Re-send interval of firing alerts, ms (Prometheus' default resend delay is 60 s). */
  resendIntervalMs: number
  /** Wait between delivery rounds when nothing is pending or a round failed, ms. */
  pollIntervalMs: number
  /** Base of each alert's generatorURL (the app's ops address). */
  generatorBaseUrl: string
  log: Logger
  registry: Registry
  /** Clock, epoch ms. */
  now?: () => number
  /** Rows per POST (default 200). */
  batchSize?: number
}

/** A running delivery loop. */
export interface AlertDelivery {
  /** One round: pending state changes, then (when due) the re-send of firing alerts. Returns the changes delivered. */
  deliverOnce(): Promise<number>
  stop(): Promise<void>
}

function metricsOn(registry: Registry) {
  const sent = (registry.getSingleMetric('auren_notifications_total') as Counter<'channel' | 'status'> | undefined) ??
    new Counter({ name: 'auren_notifications_total', help: 'Alerts handed to a notification channel, by channel (alertmanager) and status (sent, resent, failed, rejected)', labelNames: ['channel', 'status'], registers: [registry] })
  const pending = (registry.getSingleMetric('auren_outbox_pending_records') as Gauge<'processor' | 'topic'> | undefined) ??
    new Gauge({ name: 'auren_outbox_pending_records', help: 'Outbox records not yet published', labelNames: ['processor', 'topic'], registers: [registry] })
  for (const status of ['sent', 'resent', 'failed', 'rejected']) sent.inc({ channel: 'alertmanager', status }, 0)
  return { sent, pending }
}

/** Starts the delivery loop (module doc); it runs until `stop()`. */
export function startAlertDelivery(o: AlertDeliveryOptions): AlertDelivery {
  const now = o.now ?? Date.now
  const m = metricsOn(o.registry)
  const table: OutboxTable = { pool: o.pool, table: 'alert_notifications', keyColumn: 'fingerprint', lockId: NOTIFICATIONS_LOCK_ID }
  const timing = () => ({ nowMs: now(), resendIntervalMs: o.resendIntervalMs, generatorBaseUrl: o.generatorBaseUrl })
  let lastResendMs = 0
  let stopped = false
  let wake: (() => void) | null = null

  async function post(alerts: Alert[], status: 'sent' | 'resent'): Promise<void> {
    try {
      await postAlerts(o.target, alerts.map((a) => toPostableAlert(a, timing())))
      m.sent.inc({ channel: 'alertmanager', status }, alerts.length)
    } catch (err) {
      if (err instanceof AurenError && !err.retriable) {
        m.sent.inc({ channel: 'alertmanager', status: 'rejected' }, alerts.length)
        o.log.error({ err, fingerprints: alerts.map((a) => a.fingerprint) }, 'Alertmanager rejected alerts; dropped')
        return
      }
      m.sent.inc({ channel: 'alertmanager', status: 'failed' }, alerts.length)
      throw err
    }
  }

  async function refreshPending(): Promise<void> {
    const res = await o.pool.query<{ n: string }>('SELECT count(*) AS n FROM alert_notifications WHERE published_at IS NULL')
    m.pending.set({ processor: 'alerting', topic: 'alertmanager' }, Number(res.rows[0]?.n ?? 0))
  }

  async function deliverOnce(): Promise<number> {
    let delivered = 0
    for (;;) {
      const n = await publishPending(table, o.batchSize ?? 200, (rows) => post(rows.map((r) => r.value as Alert), 'sent'))
      delivered += n
      if (n < (o.batchSize ?? 200)) break
    }
    if (now() - lastResendMs >= o.resendIntervalMs) {
      const res = await o.pool.query<{ payload: Alert }>('SELECT payload FROM alert_active ORDER BY fingerprint')
      const active = res.rows.map((r) => r.payload)
      for (let i = 0; i < active.length; i += o.batchSize ?? 200) await post(active.slice(i, i + (o.batchSize ?? 200)), 'resent')
      lastResendMs = now()
    }
    await refreshPending()
    return delivered
  }

  const loop = (async () => {
    while (!stopped) {
      try {
        const n = await deliverOnce()
        if (n > 0) continue
      } catch (err) {
        o.log.warn({ err }, 'alert delivery round failed; alerts stay queued and are retried')
        await refreshPending().catch(() => undefined)
      }
      if (stopped) break
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, o.pollIntervalMs)
        wake = () => {
          clearTimeout(t)
          resolve()
        }
      })
      wake = null
    }
  })()

  return {
    deliverOnce,
    async stop() {
      stopped = true
      wake?.()
      await loop
    },
  }
}
