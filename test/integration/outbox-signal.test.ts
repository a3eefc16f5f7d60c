/**
 * The outbox publisher's commit signal (processors/runtime/sinks/outbox.ts `OutboxSignal`), on the
 * real Kafka, Schema Registry and PostgreSQL: rows a writer commits and signals are published at
 * once, not at the end of the publisher's wait between rounds (here two minutes, so a publisher
 * that ignored the signal would miss the test's 20 s).
 */
import type pg from 'pg'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Alert } from '../../schemas/index.ts'
import { alertOutboxTable, ensureAlertTables, recordAlertChanges } from '../../processors/alerting/notifiers/alert-delivery.ts'
import { createLogger } from '../../processors/runtime/ops/logger.ts'
import { OutboxSignal, startOutboxPublisher } from '../../processors/runtime/sinks/outbox.ts'
import { inTransaction } from '../../processors/runtime/sinks/postgres.ts'
import { createTestKafka, type TestKafka } from '../helpers/kafka.ts'
import { createTestSchema, type TestSchema } from '../helpers/pg-schema.ts'

const alert = (fingerprint: string): Alert => ({
  fingerprint, rule: 'r', severity: 'warning', status: 'firing', labels: { alertname: 'r', agent: fingerprint }, annotations: { summary: fingerprint, description: '', runbook: null },
  value: 3, threshold: 1, starts_at: 1_000, ends_at: null, source_window: null,
})

describe('outbox publisher woken by its writer', () => {
  let kafka: TestKafka
  let db: TestSchema
  let pool: pg.Pool
  beforeAll(async () => {
    kafka = await createTestKafka(1)
    db = await createTestSchema('outbox_s')
    pool = db.pool
    await ensureAlertTables(pool)
  })
  afterAll(async () => {
    await db?.drop()
    await kafka?.close()
  })

  it('publishes signalled rows at once while it waits out a long interval', async () => {
    const committed = new OutboxSignal()
    await inTransaction(pool, 'test', (c) => recordAlertChanges(c, [alert('a')]))
    const publisher = await startOutboxPublisher(
      { from: alertOutboxTable(pool), topic: 'alerts', schema: 'alert', intervalMs: 120_000, committed },
      { driver: kafka.driver, serde: kafka.serde, topics: kafka.topics, log: createLogger('test', 'silent'), registry: new Registry(), processor: 'outbox-test' },
    )
    try {
      // The first round publishes 'a' and, with nothing left, starts its two-minute wait.
      expect(await kafka.consumeUntil(kafka.topics.alerts, (rs) => rs.length >= 1, 60_000)).toHaveLength(1)
      const pending = async () => Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM alert_outbox WHERE published_at IS NULL')).rows[0]!.n)
      expect(await pending()).toBe(0)
      await inTransaction(pool, 'test', (c) => recordAlertChanges(c, [alert('b')]))
      const ringAt = Date.now()
      committed.ring()
      const records = await kafka.consumeUntil(kafka.topics.alerts, (rs) => rs.length >= 2, 20_000)
      const fingerprints = await Promise.all(records.map(async (r) => ((await kafka.serde.decode(r.value, 'alert')) as Alert).fingerprint))
      expect(fingerprints).toEqual(['a', 'b'])
      expect(Date.now() - ringAt).toBeLessThan(20_000)
      expect(await pending()).toBe(0)
    } finally {
      await publisher.stop()
    }
  })
})
