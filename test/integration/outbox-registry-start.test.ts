/**
 * The runtime's outbox publisher (processors/runtime/sinks/outbox.ts) at start, on the real
 * Kafka, Schema Registry and PostgreSQL: a registry that answers a transient error when the
 * publisher registers its topic's schema (as when two instances register one subject at the same
 * moment) does not end the app's start; the publish loop registers again and the rows reach the
 * topic. A schema the registry refuses for good still fails the start.
 */
import type pg from 'pg'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Alert } from '../../schemas/index.ts'
import { alertOutboxTable, ensureAlertTables, recordAlertChanges } from '../../processors/alerting/notifiers/alert-delivery.ts'
import { AurenError } from '../../processors/runtime/ops/errors.ts'
import { createLogger } from '../../processors/runtime/ops/logger.ts'
import type { Serde } from '../../processors/runtime/kafka/serde.ts'
import { startOutboxPublisher } from '../../processors/runtime/sinks/outbox.ts'
import { inTransaction } from '../../processors/runtime/sinks/postgres.ts'
import { createTestKafka, type TestKafka } from '../helpers/kafka.ts'
import { createTestSchema, type TestSchema } from '../helpers/pg-schema.ts'

const alert = (fingerprint: string): Alert => ({
  fingerprint, rule: 'r', severity: 'warning', status: 'firing', labels: { alertname: 'r', agent: fingerprint }, annotations: { summary: fingerprint, description: '', runbook: null },
  value: 3, threshold: 1, starts_at: 1_000, ends_at: null, source_window: null,
})

/** The real serde, whose `register` first fails `failures` times with `error`. */
function failingRegister(serde: Serde, failures: number, error: () => Error): Serde & { calls: number } {
  let calls = 0
  return {
    ...serde,
    get calls() {
      return calls
    },
    async register(topic, name) {
      calls += 1
      if (calls <= failures) throw error()
      return serde.register(topic, name)
    },
  }
}

describe('outbox publisher start with a registry error', () => {
  let kafka: TestKafka
  let db: TestSchema
  let pool: pg.Pool
  beforeAll(async () => {
    kafka = await createTestKafka(1)
    db = await createTestSchema('outbox_r')
    pool = db.pool
    await ensureAlertTables(pool)
  })
  afterAll(async () => {
    await db?.drop()
    await kafka?.close()
  })

  const deps = (serde: Serde) => ({ driver: kafka.driver, serde, topics: kafka.topics, log: createLogger('test', 'silent'), registry: new Registry(), processor: 'outbox-test' })

  it('starts through a transient registry error and publishes once the registry answers', async () => {
    await inTransaction(pool, 'test', (c) => recordAlertChanges(c, [alert('a'), alert('b')]))
    const serde = failingRegister(kafka.serde, 2, () => new AurenError('AUREN_ERR_REGISTRY_UNAVAILABLE', 'Compatibility does not match the configuration (BACKWARD != NONE)'))
    const publisher = await startOutboxPublisher({ from: alertOutboxTable(pool), topic: 'alerts', schema: 'alert', intervalMs: 100 }, deps(serde))
    try {
      const records = await kafka.consumeUntil(kafka.topics.alerts, (rs) => rs.length >= 2, 60_000)
      const fingerprints = await Promise.all(records.map(async (r) => ((await kafka.serde.decode(r.value, 'alert')) as Alert).fingerprint))
      expect(fingerprints).toEqual(['a', 'b'])
      expect(serde.calls).toBe(3) // the start's attempt, the loop's failed one, then the one that registered
    } finally {
      await publisher.stop()
    }
  })

  it('fails the start when the registry refuses the schema for good', async () => {
    const serde = failingRegister(kafka.serde, 1, () => new AurenError('AUREN_ERR_CONFIG', 'registry refused schema alert'))
    await expect(startOutboxPublisher({ from: alertOutboxTable(pool), topic: 'alerts', schema: 'alert', intervalMs: 100 }, deps(serde))).rejects.toThrow(/AUREN_ERR_CONFIG/)
  })
})
