/**
 * auren_consumer_lag_records on the real broker and database (issue 10, defect 2): a series for
 * every assigned partition, even one that never received a record, updated on a timer, so a
 * stuck partition shows its lag rising. The partition is made stuck for real: a transaction of
 * the test holds the lock on its row of agg_offsets, so aggregation's sink cannot commit a batch
 * of it while records keep arriving.
 */
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestKafka, type TestKafka } from '../helpers/kafka.ts'
import type { AppProcess } from '../helpers/processes.ts'
import { stackEnv } from '../helpers/stack.ts'
import { waitForMetrics } from '../helpers/metrics-wait.ts'
import { toEnrichedRecord, type EnrichedAgentEvent } from '../../schemas/index.ts'
import { dropSchema, enrichAll, schemaForPrefix, schemaPool, simulatedEvents, startAggregation, waitStoredCaughtUp } from '../bench/aggregation-workload.ts'

/** Value of the partition's lag series in a /metrics text, or undefined when it has none. */
function lagOf(text: string, partition: number): number | undefined {
  const m = text.match(new RegExp(`auren_consumer_lag_records\\{processor="aggregation",topic="[^"]+",partition="${partition}"\\} (\\d+)`))
  return m ? Number(m[1]) : undefined
}

describe('consumer lag of every assigned partition', () => {
  let kafka: TestKafka
  let schema = ''
  let pool: pg.Pool | undefined
  let locker: pg.Client | undefined
  let app: AppProcess | undefined
  beforeAll(async () => {
    kafka = await createTestKafka(2)
    schema = schemaForPrefix('lag', kafka.prefix)
  })
  afterAll(async () => {
    await locker?.query('ROLLBACK').catch(() => undefined)
    await locker?.end().catch(() => undefined)
    if (app?.alive()) app.kill('SIGKILL')
    await app?.exited
    await pool?.end().catch(() => undefined)
    if (schema) await dropSchema(schema)
    await kafka?.close()
  })

  async function produceTo(partition: number, events: readonly EnrichedAgentEvent[]): Promise<void> {
    const topic = kafka.topics.enrichedEvents
    const id = await kafka.serde.register(topic, 'enriched-agent-event')
    await kafka.producer.send(events.map((e) => ({ topic, partition, key: e.event.trace_id, value: kafka.serde.encode(id, 'enriched-agent-event', toEnrichedRecord(e)) })))
  }

  it('exports every assigned partition and shows a stuck partition lag rising, then draining', { timeout: 240_000 }, async () => {
    const topic = kafka.topics.enrichedEvents
    const events = enrichAll(simulatedEvents(700, 23, (Date.now() - 3_600_000) * 1000), Date.now())
    expect(events.length).toBeGreaterThan(400)
    await produceTo(0, events.slice(0, 100))
    app = await startAggregation(kafka.prefix, schema, { AUREN_AGGREGATION_EXPECTED_PARTITIONS: '2', AUREN_LAG_INTERVAL_MS: '500' })
    const running = app
    pool = schemaPool(schema)
    await waitStoredCaughtUp(pool, kafka, topic, { timeoutMs: 60_000, pollMs: 200, alive: () => running.alive() })
    // Partition 1 never received a record: it still has a series.
    await waitForMetrics(running, [{ name: 'lag 0 on partitions 0 and 1', test: (t) => lagOf(t, 0) === 0 && lagOf(t, 1) === 0 }], 30_000)

    // Partition 0 stuck: its sink row is locked by another transaction.
    locker = new pg.Client({ connectionString: stackEnv().databaseUrl, options: `-c search_path=${schema}` })
    await locker.connect()
    await locker.query('BEGIN')
    const locked = await locker.query('SELECT next_offset FROM agg_offsets WHERE topic = $1 AND "partition" = 0 FOR UPDATE', [topic])
    expect(locked.rows).toHaveLength(1)
    await produceTo(0, events.slice(100, 200))
    await waitForMetrics(running, [{ name: 'lag of partition 0 at 100', test: (t) => lagOf(t, 0) === 100 }], 30_000)
    await produceTo(0, events.slice(200, 400))
    const text = await waitForMetrics(running, [{ name: 'lag of partition 0 rising to 300', test: (t) => lagOf(t, 0) === 300 }], 30_000)
    expect(lagOf(text, 1)).toBe(0)
    const stored = await pool.query<{ next_offset: string }>('SELECT next_offset::text FROM agg_offsets WHERE topic = $1 AND "partition" = 0', [topic])
    expect(stored.rows[0]?.next_offset).toBe('100') // nothing of the stuck partition was applied meanwhile

    // Released: the partition drains and its lag returns to 0.
    await locker.query('ROLLBACK')
    await waitStoredCaughtUp(pool, kafka, topic, { timeoutMs: 60_000, pollMs: 200, alive: () => running.alive() })
    await waitForMetrics(running, [{ name: 'lag 0 again', test: (t) => lagOf(t, 0) === 0 && lagOf(t, 1) === 0 }], 30_000)
    const seen = await pool.query<{ n: string }>('SELECT count(*)::text AS n FROM agg_seen_events')
    expect(Number(seen.rows[0]?.n)).toBe(400)
  })
})
