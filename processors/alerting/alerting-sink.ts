/**
 * The alerting processor's sink: one PostgreSQL transaction per batch stores the partition's
 * rule state and offsets (the runtime's PostgreSQL sink), the alert state changes
 * (notifiers/alert-delivery.ts `recordAlertChanges`) and the records for the repartition topic.
 *
 * The outbox of the repartition topic `auren.alert-partials.v1` (README "Co-location and
 * scaling"): the closed buckets and watermarks an enriched-event partition sends
 * (partial-buckets.ts) are written by {@link recordPartials} in the transaction that stores its
 * state and offsets, and the runtime's outbox publisher produces them in id order to the
 * partition each names and deletes them once the broker acknowledged them.
 * At least once: a crash between the produce and the delete sends them again, and the merge
 * drops them by their per-source sequence number (partial-merge.ts).
 */
import type pg from 'pg'
import type { Alert } from '../../schemas/index.ts'
import type { OutboxTable } from '../runtime/sinks/outbox.ts'
import { createPostgresSink } from '../runtime/sinks/postgres.ts'
import type { AcknowledgingSink } from '../runtime/sinks/sink.ts'
import type { AlertingOutput } from './definition.ts'
import { recordAlertChanges } from './notifiers/alert-delivery.ts'
import type { PartialRecord } from './partial-buckets.ts'

/** DDL of the outbox (idempotent). */
export const PARTIALS_TABLES_SQL = [
  // published_at stays null: the publisher deletes a row once published (OutboxTable.deletePublished).
  'CREATE TABLE IF NOT EXISTS alert_partials_outbox (id bigserial PRIMARY KEY, key text NOT NULL, kafka_partition integer, payload jsonb NOT NULL, published_at timestamptz)',
]

/** Advisory lock id of the outbox (unique among the project's outboxes; notifiers/alert-delivery.ts holds ...01 and ...02). */
export const PARTIALS_OUTBOX_LOCK_ID = 0x41_4c_45_52_54_03

/** Creates the outbox table when missing. */
export async function ensurePartialsTables(pool: pg.Pool): Promise<void> {
  for (const sql of PARTIALS_TABLES_SQL) await pool.query(sql)
}

/** The outbox for the runtime's publisher (`Built.outboxes`). */
export function partialsOutboxTable(pool: pg.Pool): OutboxTable {
  return { pool, table: 'alert_partials_outbox', keyColumn: 'key', partitionColumn: 'kafka_partition', lockId: PARTIALS_OUTBOX_LOCK_ID, deletePublished: true }
}

/**
 * Writes records for the repartition topic in one statement, in their order (the publisher keeps
 * it); call inside the transaction that stores the partition's state and offsets. The records go
 * as one JSON array parameter: a record holds every bucket a tick closed for its partition (tens
 * of kB), and a `jsonb[]` parameter would have pg escape every quote of it into an array literal.
 */
export async function recordPartials(client: pg.PoolClient, records: readonly PartialRecord[]): Promise<void> {
  if (records.length === 0) return
  await client.query(
    "INSERT INTO alert_partials_outbox (key, kafka_partition, payload) SELECT r->>'key', (r->>'partition')::int, r->'value' FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(r, n) ORDER BY n",
    [JSON.stringify(records)],
  )
}

/** The sink of the alerting definition (module doc). */
export function createAlertingSink(pool: pg.Pool): AcknowledgingSink<AlertingOutput> {
  return createPostgresSink<AlertingOutput>({
    pool,
    apply: async (client, batch) => {
      const alerts: Alert[] = []
      const partials: PartialRecord[] = []
      for (const r of batch.records) {
        if (r.value.kind === 'alert') alerts.push(r.value.alert)
        else partials.push(r.value.record)
      }
      await recordAlertChanges(client, alerts)
      await recordPartials(client, partials)
    },
  })
}
