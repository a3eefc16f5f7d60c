/**
 * The transactional outbox as a runtime part. A sink writes records to publish into an outbox
 * table in the same database transaction as its outputs and offsets; the outbox publisher of the
 * app reads pending rows in id order, produces them to a Kafka topic with the idempotent
 * producer (acks=all), and marks them published in the transaction that read them. At least once:
 * a crash after the produce and before the mark sends them again (consumers keep the latest
 * record per key). One publisher at a time per table (a transaction-scoped advisory lock), so
 * the rows of one key reach the topic in the order they were written.
 *
 * Metrics (label `processor`, `topic`): `auren_outbox_published_total` (records acknowledged by
 * the broker and marked published), `auren_outbox_publish_failures_total` (failed rounds, each
 * retried after `intervalMs`), `auren_outbox_pending_records` (rows not yet published, read from
 * the table at scrape time).
 */
import type pg from 'pg'
import { Counter, Gauge, type Registry } from 'prom-client'
import type { Logger } from 'pino'
import type { RootSchemaName, TopicKey, TopicNames } from '../../../schemas/index.ts'
import type { KafkaDriver } from '../kafka/kafka-client.ts'
import type { Serde } from '../kafka/serde.ts'
import { inTransaction } from './postgres.ts'
import { isAurenError } from '../ops/errors.ts'

/** One pending outbox row: id order is publication order. */
export interface OutboxRow {
  /** bigserial id as a decimal string. */
  readonly id: string
  /** Kafka key. */
  readonly key: string
  /** Value before Avro encoding (the table's jsonb payload), or its wire-format bytes (a `payloadFormat: 'wire'` table). */
  readonly value: unknown
  /** Explicit Kafka partition (tables with a partition column; null: by key). */
  readonly partition?: number | null
}

/** Where the publisher reads pending rows: an outbox table in PostgreSQL. */
export interface OutboxTable {
  readonly pool: pg.Pool
  /** Table name, e.g. `agg_outbox`: columns `id bigserial`, the key column, `payload jsonb` (or `bytea`, see `payloadFormat`), `published_at timestamptz`. */
  readonly table: string
  /**
   * What `payload` holds: `json` (default), the value as JSON, Avro-encoded by the publisher; or
   * `wire`, a `bytea` of the value already in Schema Registry wire format (encoded by the writer
   * with the id of the topic's subject, Serde.register), sent as is: no JSON written, parsed or
   * re-encoded on the way (an outbox of large records, e.g. the alerting repartition's).
   */
  readonly payloadFormat?: 'json' | 'wire'
  /** Column holding the Kafka key. */
  readonly keyColumn: string
  /** Advisory lock id unique to this table (64-bit safe integer). */
  readonly lockId: number
  /** Column holding an explicit Kafka partition (integer, null: by key), when the table has one. */
  readonly partitionColumn?: string
  /**
   * Delete rows once published instead of marking them (an internal topic's outbox, whose rows
   * nobody reads as history; default false: `published_at` is set and the rows stay).
   */
  readonly deletePublished?: boolean
}

/** An outbox definition an app hands to the runtime (`runProcessorApp({ outboxes })`). */
export interface OutboxSpec {
  readonly from: OutboxTable
  /** Contract topic the rows are published to. */
  readonly topic: TopicKey
  /** Schema family of the topic's values. */
  readonly schema: RootSchemaName
  /** Rows per round (default 500). */
  readonly batchSize?: number
  /** Wait between rounds when nothing is pending or a round failed, ms (default 1000). */
  readonly intervalMs?: number
  /**
   * Rung by the writer after a transaction that wrote rows committed: the publisher starts a
   * round at once instead of at the end of its wait (the interval stays the fallback, e.g. for
   * rows another instance wrote).
   */
  readonly committed?: OutboxSignal
}

/**
 * A wake-up from the writer of an outbox to its publisher in the same process (OutboxSpec
 * `committed`). Ringing it with no publisher listening does nothing.
 */
export class OutboxSignal {
  private listener: (() => void) | undefined

  /** Rows were committed: wake the publisher. */
  ring(): void {
    this.listener?.()
  }

  /** Sets the one listener (the publisher); null removes it. */
  listen(listener: (() => void) | null): void {
    this.listener = listener ?? undefined
  }
}

/** A running publisher. */
export interface OutboxPublisher {
  /** Stops after the round in progress; does not disconnect the driver. */
  stop(): Promise<void>
}

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/

/**
 * Publishes one round: pending rows (up to `limit`) in id order through `produce`, then marks
 * them published, in one transaction. Returns 0 when another publisher holds the lock.
 * @throws on database or produce errors (nothing is marked; the rows are sent again next round)
 */
export async function publishPending(from: OutboxTable, limit: number, produce: (rows: readonly OutboxRow[]) => Promise<void>): Promise<number> {
  if (!IDENT.test(from.table) || !IDENT.test(from.keyColumn) || (from.partitionColumn !== undefined && !IDENT.test(from.partitionColumn))) {
    throw new Error(`outbox: invalid identifier ${from.table}.${from.keyColumn}`)
  }
  const partition = from.partitionColumn ? `, ${from.partitionColumn} AS partition` : ''
  return inTransaction(from.pool, 'outbox publish', async (c) => {
    const locked = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [from.lockId])
    if (!locked.rows[0]?.ok) return 0
    const res = await c.query<{ id: string; key: string; payload: unknown; partition?: number | null }>(
      `SELECT id, ${from.keyColumn} AS key, payload${partition} FROM ${from.table} WHERE published_at IS NULL ORDER BY id LIMIT $1`,
      [limit],
    )
    if (res.rows.length === 0) return 0
    await produce(res.rows.map((r) => ({ id: r.id, key: r.key, value: r.payload, partition: r.partition ?? null })))
    const ids = res.rows.map((r) => r.id)
    if (from.deletePublished) await c.query(`DELETE FROM ${from.table} WHERE id = ANY($1::bigint[])`, [ids])
    else await c.query(`UPDATE ${from.table} SET published_at = now() WHERE id = ANY($1::bigint[])`, [ids])
    return res.rows.length
  })
}

const metricsCache = new WeakMap<Registry, { published: Counter<'processor' | 'topic'>; failures: Counter<'processor' | 'topic'>; pending: Gauge<'processor' | 'topic'> }>()
const pendingSources = new WeakMap<Registry, Map<string, () => Promise<number>>>()

function outboxMetrics(registry: Registry) {
  let m = metricsCache.get(registry)
  if (m) return m
  const sources = new Map<string, () => Promise<number>>()
  pendingSources.set(registry, sources)
  const registers = [registry]
  m = {
    published: new Counter({ name: 'auren_outbox_published_total', help: 'Outbox records acknowledged by the broker and marked published', labelNames: ['processor', 'topic'], registers }),
    failures: new Counter({ name: 'auren_outbox_publish_failures_total', help: 'Outbox publish rounds that failed (retried)', labelNames: ['processor', 'topic'], registers }),
    pending: new Gauge({
      name: 'auren_outbox_pending_records',
      help: 'Outbox records not yet published, read from the table at scrape time',
      labelNames: ['processor', 'topic'],
      registers,
      async collect() {
        for (const [labels, read] of sources) {
          const [processor, topic] = labels.split('\u0000') as [string, string]
          try {
            this.set({ processor, topic }, await read())
          } catch {
            this.remove({ processor, topic }) // unknown now: no figure rather than a stale one
          }
        }
      },
    }),
  }
  metricsCache.set(registry, m)
  return m
}

/**
 * Starts publishing `spec`'s table to its topic until `stop()`. The topic's schema is registered
 * at start; a registry that is unreachable or answers a transient error then (e.g. two instances
 * registering one subject at once) is retried by the publish loop, like any publish failure, so
 * the app starts and the outbox waits.
 * @throws AurenError when the registry refuses the schema for good (non-retriable, e.g. incompatible)
 */
export async function startOutboxPublisher(
  spec: OutboxSpec,
  deps: { driver: KafkaDriver; serde: Serde; topics: TopicNames; log: Logger; registry: Registry; processor: string },
): Promise<OutboxPublisher> {
  const topic = deps.topics[spec.topic]
  const log = deps.log.child({ outbox: spec.from.table, topic })
  const m = outboxMetrics(deps.registry)
  const labels = { processor: deps.processor, topic }
  pendingSources.get(deps.registry)!.set(`${deps.processor}\u0000${topic}`, async () => {
    const r = await spec.from.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${spec.from.table} WHERE published_at IS NULL`)
    return Number(r.rows[0]?.n ?? 0)
  })
  let schemaId: number | undefined
  try {
    schemaId = await deps.serde.register(topic, spec.schema)
  } catch (err) {
    if (!(isAurenError(err) && err.retriable)) throw err
    log.warn({ err }, 'outbox schema not registered yet; the publish loop retries')
  }
  const producer = await deps.driver.producer()
  const intervalMs = spec.intervalMs ?? 1_000
  const limit = spec.batchSize ?? 500
  const wire = spec.from.payloadFormat === 'wire'
  let running = true
  let wake: (() => void) | undefined
  /** Rows were committed since the current round read the table: no wait before the next round. */
  let rung = false
  /** Waiting because nothing was pending (a ring ends the wait), not after a failure (the interval is the backoff). */
  let idle = false
  const pause = (afterFailure: boolean) => new Promise<void>((resolve) => {
    idle = !afterFailure
    const t = setTimeout(resolve, intervalMs)
    wake = () => (clearTimeout(t), resolve())
  }).finally(() => {
    idle = false
  })
  spec.committed?.listen(() => {
    rung = true
    if (idle) wake?.()
  })
  const loop = (async () => {
    while (running) {
      try {
        const id = (schemaId ??= await deps.serde.register(topic, spec.schema))
        rung = false
        const n = await publishPending(spec.from, limit, (rows) =>
          producer.send(rows.map((r) => ({ topic, key: r.key, value: wire ? (r.value as Buffer) : deps.serde.encode(id, spec.schema, r.value), ...(r.partition != null ? { partition: r.partition } : {}) }))),
        )
        if (n > 0) m.published.inc(labels, n)
        if (n < limit && !rung) await pause(false)
      } catch (err) {
        m.failures.inc(labels)
        log.warn({ err }, 'outbox publish failed; retrying')
        await pause(true)
      }
    }
  })()
  return {
    async stop() {
      running = false
      spec.committed?.listen(null)
      wake?.()
      await loop
      await producer.disconnect()
    },
  }
}
