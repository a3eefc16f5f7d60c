/**
 * The alerting repartition's outbox (processors/alerting/alerting-sink.ts) on the real Kafka,
 * Schema Registry and PostgreSQL: records written by `recordPartials` hold their wire-format
 * bytes and the runtime's publisher (`payloadFormat: 'wire'`) sends them as they are, in the
 * order written, to the partition each names; a table of the earlier layout (JSON payloads) is
 * converted at start with its pending rows, which are published first, none lost.
 */
import type pg from 'pg'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AlertPartial } from '../../schemas/index.ts'
import { ensurePartialsTables, partialsEncoder, partialsOutboxTable, recordPartials } from '../../processors/alerting/alerting-sink.ts'
import { createLogger } from '../../processors/runtime/ops/logger.ts'
import { startOutboxPublisher } from '../../processors/runtime/sinks/outbox.ts'
import { inTransaction } from '../../processors/runtime/sinks/postgres.ts'
import { createTestKafka, type TestKafka } from '../helpers/kafka.ts'
import { createTestSchema, type TestSchema } from '../helpers/pg-schema.ts'

const partial = (source: string, seq: number, buckets: number): AlertPartial => ({
  source, source_partitions: 2, seq, watermark: 1_700_000_000_000 + seq, idle: false,
  buckets: Array.from({ length: buckets }, (_, i) => ({
    aggregation: 'count:rate-limit', group_key: `agent=a${i}`, labels: { agent: `a${i}` }, start: 1_700_000_000_000, step_ms: 60_000,
    n: i + 1, k: i, sum: 0.5 * i, histogram: [{ index: 40 + i, count: 2 }], last_seen: i % 2 === 0 ? null : 1_700_000_030_000, replay: i % 3 === 0,
  })),
})

describe('the alerting repartition outbox', () => {
  let kafka: TestKafka
  let db: TestSchema
  let pool: pg.Pool
  beforeAll(async () => {
    kafka = await createTestKafka(2)
    db = await createTestSchema('partials_ob')
    pool = db.pool
  })
  afterAll(async () => {
    await db?.drop()
    await kafka?.close()
  })

  it('converts an earlier JSON table with its pending rows, then publishes every record as written, in order, to its partition', async () => {
    const encode = partialsEncoder(kafka.serde, kafka.topics.alertPartials)
    // The earlier layout, with two rows its publisher had not sent yet.
    await pool.query('CREATE TABLE alert_partials_outbox (id bigserial PRIMARY KEY, key text NOT NULL, kafka_partition integer, payload jsonb NOT NULL, published_at timestamptz)')
    const before = [partial('s:0', 0, 2), partial('s:0', 1, 0)]
    for (const [i, v] of before.entries()) await pool.query('INSERT INTO alert_partials_outbox (key, kafka_partition, payload) VALUES ($1, $2, $3)', [`s:0|${i}`, i, JSON.stringify(v)])
    await ensurePartialsTables(pool, encode)
    await ensurePartialsTables(pool, encode) // idempotent
    const type = await pool.query<{ data_type: string }>("SELECT data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'alert_partials_outbox' AND column_name = 'payload'")
    expect(type.rows[0]?.data_type).toBe('bytea')
    const after = [partial('s:1', 0, 300), partial('s:1', 1, 1), partial('s:1', 2, 5)]
    await inTransaction(pool, 'test', (c) => recordPartials(c, after.map((value, i) => ({ key: `s:1|${i % 2}`, partition: i % 2, value })), encode))

    const publisher = await startOutboxPublisher(
      { from: partialsOutboxTable(pool), topic: 'alertPartials', schema: 'alert-partial', intervalMs: 200 },
      { driver: kafka.driver, serde: kafka.serde, topics: kafka.topics, log: createLogger('test', 'silent'), registry: new Registry(), processor: 'partials-test' },
    )
    try {
      const records = await kafka.consumeUntil(kafka.topics.alertPartials, (rs) => rs.length >= 5, 60_000)
      const read = await Promise.all(records.map(async (r) => ({ partition: r.partition, value: (await kafka.serde.decode(r.value, 'alert-partial')) as AlertPartial })))
      const onPartition = (p: number) => read.filter((r) => r.partition === p).map((r) => r.value)
      expect(onPartition(0)).toEqual([before[0], after[0], after[2]])
      expect(onPartition(1)).toEqual([before[1], after[1]])
      expect(Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM alert_partials_outbox')).rows[0]!.n)).toBe(0)
    } finally {
      await publisher.stop()
    }
  })
})
