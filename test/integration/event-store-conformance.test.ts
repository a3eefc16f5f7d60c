/**
 * The processor conformance suite on the event-store app (real Kafka, real PostgreSQL): inputs
 * are enriched events; an input's effect is its row in es_events, read in stream order (stream =
 * trace = the record key). Delivery into the append is at least once (offsets committed to Kafka
 * after the append), so the suite runs in its at-least-once mode (a poison record may be
 * dead-lettered again after a crash or a broker outage), and `verify` adds what the store itself
 * guarantees: each event_id in the store exactly once, each stream's versions gapless in input
 * order, whatever crashes, restarts, rebalances and broker or database outages happened.
 */
import pg from 'pg'
import { expect } from 'vitest'
import { processorConformance } from '../conformance/processor-suite.ts'
import { llmCallEvents } from '../helpers/events.ts'
import { eventStoreEnv } from '../helpers/event-store.ts'
import { querySchema } from '../helpers/schema-query.ts'
import { dropSchema } from '../bench/aggregation-workload.ts'
import { enriched } from '../helpers/aggregation-events.ts'
import type { TestKafka } from '../helpers/kafka.ts'
import { toEnrichedRecord } from '../../schemas/index.ts'

const schemaOf = (prefix: string) => `es_c_${prefix.replace(/[^a-z0-9]/g, '')}`

const query = <R extends pg.QueryResultRow>(kafka: TestKafka, sql: string) => querySchema<R>(schemaOf(kafka.prefix), sql)

processorConformance({
  app: 'event-store',
  inputTopic: 'enrichedEvents',
  exactlyOnce: false,
  database: true,
  env: (prefix) => eventStoreEnv(schemaOf(prefix), { AUREN_EVENT_STORE_FLUSH_MAX_AGE_MS: '200' }),
  makeInputs: (n) => llmCallEvents(n, Math.max(6, Math.floor(n / 100))),
  async produce(kafka, inputs) {
    const id = await kafka.serde.register(kafka.topics.enrichedEvents, 'enriched-agent-event')
    for (let i = 0; i < inputs.length; i += 2000) {
      const chunk = inputs.slice(i, i + 2000)
      await kafka.producer.send(chunk.map((e) => ({ topic: kafka.topics.enrichedEvents, key: e.trace_id, value: kafka.serde.encode(id, 'enriched-agent-event', toEnrichedRecord(enriched(e, { cost_usd: 0.001, cost_source: 'computed', pricing_ref: 'test' }))) })))
    }
  },
  async readEffects(kafka) {
    const rows = await query<{ stream_id: string; event_id: string }>(kafka, 'SELECT stream_id, event_id FROM es_events ORDER BY stream_id, stream_version')
    return rows.map((r) => ({ key: r.stream_id, eventId: r.event_id }))
  },
  async verify(kafka, inputs) {
    // Stream versions 1..n without gaps, in global sequence order too; every row's stream is its trace.
    const rows = await query<{ stream_id: string; stream_version: number; trace: string }>(kafka, "SELECT stream_id, stream_version, data->'event'->>'trace_id' AS trace FROM es_events ORDER BY global_seq")
    const next = new Map<string, number>()
    for (const r of rows) {
      expect(r.stream_version, `version of the next event of ${r.stream_id}`).toBe((next.get(r.stream_id) ?? 0) + 1)
      expect(r.trace).toBe(r.stream_id)
      next.set(r.stream_id, r.stream_version)
    }
    expect(rows.length).toBe(new Set(inputs.map((e) => e.event_id)).size)
  },
  cleanup: (kafka) => dropSchema(schemaOf(kafka.prefix)),
})
