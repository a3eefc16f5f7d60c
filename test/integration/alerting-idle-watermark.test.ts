/**
 * The alerting app's event time over partitions, on the real Kafka and PostgreSQL (the
 * Alertmanager is a local HTTP receiver: delivery is not under test here), with the shipped
 * rules: a run on partition 0 ends, a run of weeks later flows on partition 1. Partition 0, idle
 * for the idle timeout, follows the event time of partition 1 (the watermark of the active
 * partitions, processors/alerting/idle-watermark.ts): the absence its history implies
 * (`agent-silent` of the run's agent, 15 minutes after its last event) is committed at that
 * event time while partition 1 is still busy, instead of after 15 minutes of wall-clock idleness.
 */
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fingerprint } from '../../processors/alerting/engine.ts'
import { toEnrichedRecord, type EnrichedAgentEvent } from '../../schemas/index.ts'
import { agentEvent, enriched, llmPayload } from '../helpers/aggregation-events.ts'
import { startReceiver, type Receiver } from '../helpers/alertmanager.ts'
import { createTestKafka, type TestKafka } from '../helpers/kafka.ts'
import { startApp, type AppProcess } from '../helpers/processes.ts'
import { stackEnv } from '../helpers/stack.ts'
import { pause, waitUntil } from '../helpers/wait-until.ts'

const M = 60_000
const T0 = Date.UTC(2023, 7, 25, 10, 0, 0) // run A, partition 0 (ms)
const T1 = Date.UTC(2023, 8, 18, 10, 0, 0) // run B, partition 1 (ms)
const HOUR_US = 3_600_000_000

let seq = 0
function llm(atMs: number, agent: string, trace: string, rateLimited = false): EnrichedAgentEvent {
  const p = rateLimited ? llmPayload({ success: false, error_type: 'rate_limit_exceeded', latency_ms: null, output_tokens: 0 }) : llmPayload()
  const id = `00000000-0000-4000-8000-${String(++seq).padStart(12, '0')}`
  // enriched long after the event: replayed history, as in the demo
  return enriched(agentEvent('llm_call_completed', p, { id, timestampUs: atMs * 1000, agent, trace }), { ingest_lag_ms: 400 * 24 * HOUR_US / 1000 })
}

describe('alerting event time over partitions (real app)', () => {
  let kafka: TestKafka
  let receiver: Receiver
  let app: AppProcess | undefined
  const schema = `alert_w_${randomUUID().replace(/-/g, '').slice(0, 12)}`

  beforeAll(async () => {
    receiver = await startReceiver()
    kafka = await createTestKafka(2)
  })
  afterAll(async () => {
    app?.kill('SIGKILL')
    await app?.exited
    await kafka?.close()
    const c = new pg.Client(stackEnv().databaseUrl)
    await c.connect()
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await c.end()
    await receiver?.close()
  })

  it('fires the absence an idle partition\'s history implies, at its event time, while another partition is active', async () => {
    const id = await kafka.serde.register(kafka.topics.enrichedEvents, 'enriched-agent-event')
    const produce = (partition: number, events: EnrichedAgentEvent[]) =>
      kafka.producer.send(events.map((e) => ({ topic: kafka.topics.enrichedEvents, partition, key: e.event.trace_id, value: kafka.serde.encode(id, 'enriched-agent-event', toEnrichedRecord(e)) })))
    const db = new pg.Pool({ connectionString: stackEnv().databaseUrl, max: 2, options: `-c search_path=${schema}` })
    const changes = async () =>
      (await db.query<{ fingerprint: string; status: string; starts_at: string }>("SELECT fingerprint, payload->>'status' AS status, payload->>'starts_at' AS starts_at FROM alert_outbox ORDER BY id").catch(() => ({ rows: [] }))).rows
    app = await startApp('alerting', kafka.prefix, {
      AUREN_DATABASE_URL: stackEnv().databaseUrl, AUREN_ALERTING_DB_SCHEMA: schema, AUREN_ALERTMANAGER_URL: receiver.baseUrl,
      AUREN_ALERTING_IDLE_TIMEOUT_MS: '2000', AUREN_PUNCTUATION_INTERVAL_MS: '200', AUREN_ALERTING_DELIVERY_POLL_MS: '200',
    })
    let feeding = true
    try {
      await app.waitReady(120_000)
      // Run A on partition 0: Programmer hits 3 rate limits; its last event at T0 + 3m.
      await produce(0, [llm(T0, 'Programmer', 'run-a'), llm(T0 + M, 'Programmer', 'run-a', true), llm(T0 + 2 * M, 'Programmer', 'run-a', true), llm(T0 + 3 * M, 'Programmer', 'run-a', true), llm(T0 + 5 * M, 'Reviewer', 'run-a')])
      const rateLimited = fingerprint('agent-rate-limited', { agent: 'Programmer' })
      await waitUntil('the rate-limit alert of run A committed', async () => (await changes()).some((c) => c.fingerprint === rateLimited && c.status === 'firing'), { timeoutMs: 60_000, everyMs: 100 })

      // Run B on partition 1: an event a minute of event time, one every 300 ms of processing
      // time, so partition 1 stays active while partition 0 is idle.
      let i = 0
      const feeder = (async () => {
        while (feeding && i < 200) {
          await produce(1, [llm(T1 + i * M, i % 2 === 0 ? 'Programmer' : 'Reviewer', 'run-b')])
          i += 1
          await pause(300)
        }
      })()
      const silent = fingerprint('agent-silent', { agent: 'Programmer' })
      await waitUntil('agent-silent of run A committed while run B flows', async () => (await changes()).some((c) => c.fingerprint === silent && c.status === 'firing'), { timeoutMs: 60_000, everyMs: 200 })
      feeding = false
      await feeder
      const fired = (await changes()).filter((c) => c.fingerprint === silent && c.status === 'firing')
      // 15 minutes of event time after Programmer's last event in run A, not after wall-clock idleness
      expect(fired.map((c) => Number(c.starts_at))).toContain((T0 + 3 * M + 15 * M) * 1000)
      expect(i, 'partition 1 was still receiving run B').toBeLessThan(200)
    } finally {
      feeding = false
      await db.end()
    }
  }, 240_000)
})
