/**
 * Exactly-once sink position on the real broker: the offset stored in aggregation's sink falls
 * inside an aborted transaction, so every read_committed fetch starts past it (issue 10,
 * defect 1: the runner used to seek back to the stored offset forever). Aggregation must accept
 * the gap, apply every committed event exactly once, store the log end offset (past a trailing
 * aborted transaction too) and report lag 0.
 */
import { Kafka, logLevel } from 'kafkajs'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestKafka, type TestKafka } from '../helpers/kafka.ts'
import type { AppProcess } from '../helpers/processes.ts'
import { stackEnv } from '../helpers/stack.ts'
import { waitForMetrics } from '../helpers/metrics-wait.ts'
import { waitUntil } from '../helpers/wait-until.ts'
import { runMigrations } from '../../processors/aggregation/migrate.ts'
import { toEnrichedRecord, type EnrichedAgentEvent } from '../../schemas/index.ts'
import { dropSchema, enrichAll, schemaForPrefix, schemaPool, simulatedEvents, startAggregation, waitStoredCaughtUp } from '../bench/aggregation-workload.ts'

describe('aggregation with its stored offset inside an aborted transaction (read_committed)', () => {
  let kafka: TestKafka
  let schema = ''
  let pool: pg.Pool | undefined
  let app: AppProcess | undefined
  let kafkajs: Kafka
  beforeAll(async () => {
    kafka = await createTestKafka(1)
    schema = schemaForPrefix('ab', kafka.prefix)
    kafkajs = new Kafka({ clientId: 'auren-test-aborted', brokers: [...stackEnv().kafkaBrokers], logLevel: logLevel.NOTHING })
  })
  afterAll(async () => {
    if (app?.alive()) app.kill('SIGKILL')
    await app?.exited
    await pool?.end().catch(() => undefined)
    if (schema) await dropSchema(schema)
    await kafka?.close()
  })

  /** Produces events to the enriched topic in one transaction, committed or aborted. */
  async function produceInTransaction(events: readonly EnrichedAgentEvent[], outcome: 'commit' | 'abort'): Promise<void> {
    const topic = kafka.topics.enrichedEvents
    const id = await kafka.serde.register(topic, 'enriched-agent-event')
    const producer = kafkajs.producer({ transactionalId: `${kafka.prefix}test-tx`, idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    try {
      const tx = await producer.transaction()
      await tx.send({ topic, acks: -1, messages: events.map((e) => ({ key: e.event.trace_id, value: kafka.serde.encode(id, 'enriched-agent-event', toEnrichedRecord(e)), partition: 0 })) })
      await (outcome === 'commit' ? tx.commit() : tx.abort())
    } finally {
      await producer.disconnect()
    }
  }

  it('drains to the log end and applies every committed event exactly once', { timeout: 240_000 }, async () => {
    const topic = kafka.topics.enrichedEvents
    const events = enrichAll(simulatedEvents(400, 11, (Date.now() - 3_600_000) * 1000), Date.now())
    const aborted = events.slice(0, 30)
    const committed = events.slice(30, 330)
    const abortedAtEnd = events.slice(330, 340)
    // Offsets 0–29 aborted, 30 abort marker, 31–330 committed, 331 commit marker, 332–341 aborted, 342 marker.
    await produceInTransaction(aborted, 'abort')
    await produceInTransaction(committed, 'commit')
    await produceInTransaction(abortedAtEnd, 'abort')
    // The broker writes transaction markers after EndTxn returns, and the end offset a
    // read_committed client sees is the last stable offset: wait for the last abort marker.
    const end = await waitUntil('the abort marker at offset 342', async () => {
      const e = (await kafka.admin.endOffsets(topic)).get(0)
      return e === '343' ? e : undefined
    }, { timeoutMs: 30_000, everyMs: 100 })
    expect(end).toBe('343')

    // The sink's offset inside the first aborted range (as a crash after a batch ending there leaves it).
    await runMigrations(stackEnv().databaseUrl, { schema })
    pool = schemaPool(schema)
    await pool.query('INSERT INTO agg_offsets (group_id, topic, "partition", next_offset) VALUES ($1, $2, 0, 5)', [`${kafka.prefix}auren.aggregation`, topic])

    app = await startAggregation(kafka.prefix, schema, { AUREN_AGGREGATION_EXPECTED_PARTITIONS: '1', AUREN_LAG_INTERVAL_MS: '500' })
    const running = app
    await waitStoredCaughtUp(pool, kafka, topic, { timeoutMs: 120_000, pollMs: 200, alive: () => running.alive() })

    const seen = await pool.query<{ event_id: string }>('SELECT event_id::text FROM agg_seen_events')
    const ids = new Set(seen.rows.map((r) => r.event_id))
    expect(seen.rows).toHaveLength(committed.length)
    expect(committed.filter((e) => !ids.has(e.event.event_id))).toEqual([])
    expect([...aborted, ...abortedAtEnd].filter((e) => ids.has(e.event.event_id))).toEqual([])
    await waitForMetrics(running, [/auren_consumer_lag_records\{processor="aggregation",topic="[^"]+",partition="0"\} 0\b/], 30_000)
    // It never looped: at most one seek to the stored offset.
    expect(running.output().match(/seeking to the offset stored in the sink/g)?.length ?? 0).toBeLessThanOrEqual(1)
  })
})
