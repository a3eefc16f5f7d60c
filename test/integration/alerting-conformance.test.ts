/**
 * The processor conformance suite on the alerting app (real Kafka, real PostgreSQL, an
 * Alertmanager of the test's own): each input is an unhealthy system_health event of a
 * component of its own, and the rule file (test/fixtures/alerting/conformance-rules.yml) fires
 * one alert per component, so an input's effect is its firing Alert in the alert outbox,
 * written in the same transaction as the rule states and offsets: exactly once, whatever
 * crashes, restarts and rebalances happened. Poison records go to the DLQ.
 */
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll } from 'vitest'
import { processorConformance } from '../conformance/processor-suite.ts'
import { agentEvent, enriched } from '../helpers/aggregation-events.ts'
import { startReceiver, startTestAlertmanager, type Receiver, type TestAlertmanager } from '../helpers/alertmanager.ts'
import { stackEnv } from '../helpers/stack.ts'
import { querySchema } from '../helpers/schema-query.ts'
import type { TestKafka } from '../helpers/kafka.ts'
import { toEnrichedRecord, type AgentEvent } from '../../schemas/index.ts'

const RULES = join(import.meta.dirname, '..', 'fixtures', 'alerting', 'conformance-rules.yml')
const schemaOf = (prefix: string) => `alert_c_${prefix.replace(/[^a-z0-9]/g, '')}`
let receiver: Receiver
let am: TestAlertmanager
beforeAll(async () => {
  receiver = await startReceiver()
  am = await startTestAlertmanager({ receiverBaseUrl: receiver.baseUrl })
})
afterAll(async () => {
  await am?.close()
  await receiver?.close()
})

const query = <R extends pg.QueryResultRow>(kafka: TestKafka, sql: string) => querySchema<R>(schemaOf(kafka.prefix), sql)

processorConformance({
  app: 'alerting',
  inputTopic: 'enrichedEvents',
  ordered: false,
  exactlyOnce: true,
  env: (prefix) => ({
    AUREN_DATABASE_URL: stackEnv().databaseUrl, AUREN_ALERTING_DB_SCHEMA: schemaOf(prefix), AUREN_ALERTMANAGER_URL: am.url,
    AUREN_ALERTING_RULES_FILE: RULES, AUREN_ALERTING_IDLE_TIMEOUT_MS: '0',
  }),
  makeInputs: (n) => Array.from({ length: n }, (_, i) => agentEvent('system_health', { component: `component-${i}`, status: 'unhealthy', details: {} }, {
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, timestampUs: (Date.UTC(2026, 0, 1) + i) * 1000, trace: `trace-${i % 24}`, agent: null,
  })) as AgentEvent[],
  async produce(kafka, inputs) {
    const id = await kafka.serde.register(kafka.topics.enrichedEvents, 'enriched-agent-event')
    for (let i = 0; i < inputs.length; i += 2000) {
      const chunk = inputs.slice(i, i + 2000)
      await kafka.producer.send(chunk.map((e) => ({ topic: kafka.topics.enrichedEvents, key: e.trace_id, value: kafka.serde.encode(id, 'enriched-agent-event', toEnrichedRecord(enriched(e, { tier: 'critical' }))) })))
    }
  },
  async readEffects(kafka) {
    const rows = await query<{ component: string }>(kafka, "SELECT payload->'labels'->>'component' AS component FROM alert_outbox WHERE payload->>'status' = 'firing'")
    return rows.map((r) => ({ key: '', eventId: `00000000-0000-4000-8000-${r.component.slice('component-'.length).padStart(12, '0')}` }))
  },
  async cleanup(kafka) {
    const client = new pg.Client(stackEnv().databaseUrl)
    await client.connect()
    await client.query(`DROP SCHEMA IF EXISTS ${schemaOf(kafka.prefix)} CASCADE`)
    await client.end()
  },
})
