/**
 * The processor conformance suite on the aggregation app (real Kafka, real PostgreSQL): inputs
 * are enriched events; their effect is read from the database, where each event_id is applied
 * once and the LLM rollups must count every input exactly once, whatever crashes, restarts and
 * rebalances happened.
 */
import pg from 'pg'
import { expect } from 'vitest'
import { processorConformance } from '../conformance/processor-suite.ts'
import { llmCallEvents } from '../helpers/events.ts'
import { stackEnv } from '../helpers/stack.ts'
import { querySchema } from '../helpers/schema-query.ts'
import { schemaForPrefix } from '../bench/aggregation-workload.ts'
import type { TestKafka } from '../helpers/kafka.ts'
import { toEnrichedRecord, type AgentEvent, type EnrichedAgentEvent } from '../../schemas/index.ts'

const schemaOf = (prefix: string) => schemaForPrefix('c', prefix)

const query = <R extends pg.QueryResultRow>(kafka: TestKafka, sql: string) => querySchema<R>(schemaOf(kafka.prefix), sql)

function enrich(e: AgentEvent): EnrichedAgentEvent {
  return { event: e, tier: 'operational', cost_usd: 0.001, cost_source: 'computed', pricing_ref: 'test', agent_domain: null, tool_category: null, input_complexity: null, ingest_lag_ms: 0, enriched_at: e.timestamp }
}

processorConformance({
  app: 'aggregation',
  inputTopic: 'enrichedEvents',
  ordered: false,
  exactlyOnce: true,
  dbSchema: schemaOf,
  env: (prefix) => ({ AUREN_DATABASE_URL: stackEnv().databaseUrl, AUREN_AGGREGATION_DB_SCHEMA: schemaOf(prefix), AUREN_AGGREGATION_EXPECTED_PARTITIONS: '6' }),
  makeInputs: (n) => llmCallEvents(n, Math.max(6, Math.floor(n / 100))),
  async produce(kafka, inputs) {
    const id = await kafka.serde.register(kafka.topics.enrichedEvents, 'enriched-agent-event')
    for (let i = 0; i < inputs.length; i += 2000) {
      const chunk = inputs.slice(i, i + 2000)
      await kafka.producer.send(chunk.map((e) => ({ topic: kafka.topics.enrichedEvents, key: e.trace_id, value: kafka.serde.encode(id, 'enriched-agent-event', toEnrichedRecord(enrich(e))) })))
    }
  },
  async readEffects(kafka) {
    const rows = await query<{ event_id: string }>(kafka, 'SELECT event_id::text AS event_id FROM agg_seen_events')
    return rows.map((r) => ({ key: '', eventId: r.event_id }))
  },
  async verify(kafka, inputs) {
    const [row] = await query<{ calls: string; input_tokens: string; output_tokens: string }>(
      kafka,
      'SELECT sum(calls)::text AS calls, sum(input_tokens)::text AS input_tokens, sum(output_tokens)::text AS output_tokens FROM agg_llm_window',
    )
    const expected = inputs.reduce((t, e) => (e.event_type === 'llm_call_completed' ? { i: t.i + e.payload.input_tokens, o: t.o + e.payload.output_tokens } : t), { i: 0, o: 0 })
    expect({ calls: Number(row!.calls), input: Number(row!.input_tokens), output: Number(row!.output_tokens) }).toEqual({ calls: inputs.length, input: expected.i, output: expected.o })
  },
  async cleanup(kafka) {
    const client = new pg.Client(stackEnv().databaseUrl)
    await client.connect()
    await client.query(`DROP SCHEMA IF EXISTS ${schemaOf(kafka.prefix)} CASCADE`)
    await client.end()
  },
})
