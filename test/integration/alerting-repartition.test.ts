/**
 * The alerting app's repartition on the real Kafka and PostgreSQL (processors/alerting/README.md
 * "Co-location and scaling"), with the shipped rules: one agent's rate limits come in two traces
 * that the enriched topic puts on two partitions, 2 on partition 0 and 1 on partition 1, within
 * 5 minutes. Neither partition alone reaches the rule's 3; the buckets meet on the repartition
 * topic `auren.alert-partials.v1` and the rule fires, once, for the agent. The Alertmanager is a
 * local HTTP receiver (delivery is not under test here).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fingerprint } from '../../processors/alerting/engine.ts'
import { toEnrichedRecord, type EnrichedAgentEvent } from '../../schemas/index.ts'
import { agentEvent, enriched, llmPayload } from '../helpers/aggregation-events.ts'
import { startReceiver, type Receiver } from '../helpers/alertmanager.ts'
import { createTestKafka, type TestKafka } from '../helpers/kafka.ts'
import { createTestSchema, type TestSchema } from '../helpers/pg-schema.ts'
import { startApp, type AppProcess } from '../helpers/processes.ts'
import { stackEnv } from '../helpers/stack.ts'
import { waitUntil } from '../helpers/wait-until.ts'

const M = 60_000
const T0 = Date.UTC(2024, 2, 4, 9, 0, 0) // ms

let seq = 0
function rateLimit(atMs: number, agent: string, trace: string): EnrichedAgentEvent {
  const id = `00000000-0000-4000-9000-${String(++seq).padStart(12, '0')}`
  return enriched(agentEvent('llm_call_completed', llmPayload({ success: false, error_type: 'rate_limit_exceeded', latency_ms: null, output_tokens: 0 }), { id, timestampUs: atMs * 1000, agent, trace }), { ingest_lag_ms: 0 })
}

describe('alerting repartition (real app)', () => {
  let kafka: TestKafka
  let receiver: Receiver
  let app: AppProcess | undefined
  let db: TestSchema

  beforeAll(async () => {
    receiver = await startReceiver()
    kafka = await createTestKafka(2)
    db = await createTestSchema('alert_r')
  })
  afterAll(async () => {
    app?.kill('SIGKILL')
    await app?.exited
    await kafka?.close()
    await db?.drop()
    await receiver?.close()
  })

  it('fires a count whose events are spread over partitions, once, from the partition of its group', async () => {
    const id = await kafka.serde.register(kafka.topics.enrichedEvents, 'enriched-agent-event')
    const produce = (partition: number, events: EnrichedAgentEvent[]) =>
      kafka.producer.send(events.map((e) => ({ topic: kafka.topics.enrichedEvents, partition, key: e.event.trace_id, value: kafka.serde.encode(id, 'enriched-agent-event', toEnrichedRecord(e)) })))
    app = await startApp('alerting', kafka.prefix, {
      AUREN_DATABASE_URL: stackEnv().databaseUrl, AUREN_ALERTING_DB_SCHEMA: db.schema, AUREN_ALERTMANAGER_URL: receiver.baseUrl,
      AUREN_ALERTING_IDLE_TIMEOUT_MS: '2000', AUREN_PUNCTUATION_INTERVAL_MS: '200',
    })
    await app.waitReady(120_000)
    await produce(0, [rateLimit(T0, 'Analyst', 'trace-a'), rateLimit(T0 + 2 * M, 'Analyst', 'trace-a')])
    await produce(1, [rateLimit(T0 + M, 'Analyst', 'trace-b')])
    const fp = fingerprint('agent-rate-limited', { agent: 'Analyst' })
    const changes = async () => (await db.pool.query<{ fingerprint: string; status: string; starts_at: string }>("SELECT fingerprint, payload->>'status' AS status, payload->>'starts_at' AS starts_at FROM alert_outbox ORDER BY id").catch(() => ({ rows: [] }))).rows
    // The partitions go idle 2 s after their records and send every bucket they hold.
    await waitUntil('agent-rate-limited of Analyst committed', async () => (await changes()).some((c) => c.fingerprint === fp && c.status === 'firing'), { timeoutMs: 60_000, everyMs: 200 })
    const firing = (await changes()).filter((c) => c.fingerprint === fp && c.status === 'firing')
    // Once, at the end of the third rate limit's 30 s bucket.
    expect(firing.map((c) => Number(c.starts_at))).toEqual([(T0 + 2 * M + 30_000) * 1000])
    const ends = await kafka.admin.endOffsets(kafka.topics.alertPartials)
    expect([...ends.values()].every((o) => Number(o) > 0), 'every repartition partition got records').toBe(true)
  }, 180_000)
})
