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
import type { Serde } from '../runtime/kafka/serde.ts'
import type { OutboxTable } from '../runtime/sinks/outbox.ts'
import { createPostgresSink, inTransaction } from '../runtime/sinks/postgres.ts'
import type { AcknowledgingSink } from '../runtime/sinks/sink.ts'
import type { AlertingOutput } from './definition.ts'
import { recordAlertChanges } from './notifiers/alert-delivery.ts'
import type { PartialRecord } from './partial-buckets.ts'

/**
 * DDL of the outbox (idempotent). `payload` is the record's value in Schema Registry wire format
 * (Avro), encoded once by the writer and sent as is (OutboxTable `payloadFormat: 'wire'`).
 */
export const PARTIALS_TABLES_SQL = [
  // published_at stays null: the publisher deletes a row once published (OutboxTable.deletePublished).
  'CREATE TABLE IF NOT EXISTS alert_partials_outbox (id bigserial PRIMARY KEY, key text NOT NULL, kafka_partition integer, payload bytea NOT NULL, published_at timestamptz)',
]

/** Advisory lock id of the outbox (unique among the project's outboxes; notifiers/alert-delivery.ts holds ...01 and ...02). */
export const PARTIALS_OUTBOX_LOCK_ID = 0x41_4c_45_52_54_03

/**
 * Encodes repartition values in wire format with the id of the repartition topic's subject
 * (registered on first use, then cached by the serde).
 * @throws AurenError AUREN_ERR_REGISTRY_UNAVAILABLE (retriable) while the registry is down: the
 *   batch that needs it fails and is retried, as for a database outage.
 */
export type PartialsEncoder = (values: readonly PartialRecord['value'][]) => Promise<Buffer[]>

/** The encoder of the repartition topic `topic` (its full name) through `serde`. */
export function partialsEncoder(serde: Serde, topic: string): PartialsEncoder {
  return async (values) => {
    if (values.length === 0) return []
    const id = await serde.register(topic, 'alert-partial')
    return values.map((v) => serde.encode(id, 'alert-partial', v))
  }
}

/**
 * Creates the outbox table when missing. A table of the earlier layout (`payload jsonb`: JSON
 * encoded by the publisher) is converted in one transaction, its pending rows encoded with
 * `encode`, so none is lost on an upgrade.
 */
export async function ensurePartialsTables(pool: pg.Pool, encode: PartialsEncoder): Promise<void> {
  for (const sql of PARTIALS_TABLES_SQL) await pool.query(sql)
  await inTransaction(pool, 'alert partials outbox layout', async (c) => {
    const t = await c.query<{ data_type: string }>(
      "SELECT data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'alert_partials_outbox' AND column_name = 'payload'",
    )
    if (t.rows[0]?.data_type !== 'jsonb') return
    await c.query('LOCK TABLE alert_partials_outbox IN ACCESS EXCLUSIVE MODE')
    const rows = await c.query<{ id: string; payload: PartialRecord['value'] }>('SELECT id, payload FROM alert_partials_outbox ORDER BY id')
    const encoded = await encode(rows.rows.map((r) => r.payload))
    await c.query('ALTER TABLE alert_partials_outbox ADD COLUMN wire bytea')
    await c.query('UPDATE alert_partials_outbox o SET wire = v.wire FROM unnest($1::bigint[], $2::bytea[]) AS v(id, wire) WHERE o.id = v.id', [rows.rows.map((r) => r.id), encoded])
    await c.query('ALTER TABLE alert_partials_outbox DROP COLUMN payload')
    await c.query('ALTER TABLE alert_partials_outbox RENAME COLUMN wire TO payload')
    await c.query('ALTER TABLE alert_partials_outbox ALTER COLUMN payload SET NOT NULL')
  })
}

/** The outbox for the runtime's publisher (`Built.outboxes`). */
export function partialsOutboxTable(pool: pg.Pool): OutboxTable {
  return { pool, table: 'alert_partials_outbox', keyColumn: 'key', partitionColumn: 'kafka_partition', lockId: PARTIALS_OUTBOX_LOCK_ID, deletePublished: true, payloadFormat: 'wire' }
}

/**
 * Writes records for the repartition topic, encoded by `encode`, in one statement, in their order
 * (ids follow the VALUES order; the publisher keeps it); call inside the transaction that stores
 * the partition's state and offsets. A record holds every bucket a batch or tick closed for its
 * partition: its Avro bytes go as binary parameters, not as JSON.
 */
export async function recordPartials(client: pg.PoolClient, records: readonly PartialRecord[], encode: PartialsEncoder): Promise<void> {
  if (records.length === 0) return
  const values = await encode(records.map((r) => r.value))
  const params: unknown[] = []
  const rows = records.map((r, i) => {
    params.push(r.key, r.partition, values[i])
    return `($${3 * i + 1}, $${3 * i + 2}::int, $${3 * i + 3}::bytea, ${i})`
  })
  await client.query(`INSERT INTO alert_partials_outbox (key, kafka_partition, payload) SELECT k, p, v FROM (VALUES ${rows.join(', ')}) AS t(k, p, v, n) ORDER BY n`, params)
}

/** The sink of the alerting definition (module doc). */
export function createAlertingSink(pool: pg.Pool, encodePartials: PartialsEncoder): AcknowledgingSink<AlertingOutput> {
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
      await recordPartials(client, partials, encodePartials)
    },
  })
}
