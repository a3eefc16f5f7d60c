/**
 * From the user's side: the last window of a burst reaches a `metrics` subscriber of the
 * gateway's stream without a next burst. The aggregation app (punctuation: idle timeout) and the
 * gateway (stream on) run as processes on fresh topics and a fresh PostgreSQL schema; an operator
 * subscribes to `metrics` for one agent; one burst of events, all in one event-time minute,
 * is produced, then nothing. The window's AgentMetricsWindow arrives as a `metrics` frame with
 * the burst's answered calls and tokens.
 */
import { randomBytes } from 'node:crypto'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { toEnrichedRecord, type AgentEvent, type EnrichedAgentEvent } from '../../schemas/index.ts'
import { dropSchema, schemaForPrefix, schemaPool, startAggregation, waitStoredCaughtUp } from '../bench/aggregation-workload.ts'
import { llmCallEvent } from '../helpers/events.ts'
import { createTestKafka, type TestKafka } from '../helpers/kafka.ts'
import type { AppProcess } from '../helpers/processes.ts'
import { hs256Token, startStreamGateway } from '../helpers/stream-gateway.ts'
import { waitUntil } from '../helpers/wait-until.ts'
import { waitMetricsStreamReady } from '../helpers/metrics-probe.ts'

const SECRET = randomBytes(32).toString('base64')
const MINUTE_US = 60_000_000
type Msg = Record<string, unknown> & { type: string }

const enrich = (e: AgentEvent): EnrichedAgentEvent => ({
  event: e, tier: 'operational', cost_usd: 0.001, cost_source: 'computed', pricing_ref: 'test', agent_domain: null, tool_category: null, input_complexity: null, ingest_lag_ms: 0, enriched_at: e.timestamp,
})

describe('the last window of a burst on the metrics channel', () => {
  let kafka: TestKafka
  let gateway: AppProcess
  let aggregation: AppProcess
  let pool: pg.Pool
  let schema: string
  let ws: WebSocket
  const messages: Msg[] = []

  beforeAll(async () => {
    kafka = await createTestKafka()
    schema = schemaForPrefix('l', kafka.prefix)
    gateway = await startStreamGateway(kafka.prefix, SECRET, { AUREN_GATEWAY_LOG_LEVEL: 'warn' })
    aggregation = await startAggregation(kafka.prefix, schema, { AUREN_PUNCTUATION_INTERVAL_MS: '500', AUREN_AGGREGATION_IDLE_TIMEOUT_MS: '2000', AUREN_AGGREGATION_EXPECTED_PARTITIONS: '6' })
    pool = schemaPool(schema)
    ws = new WebSocket(`ws://${gateway.address}/v1/stream`, { headers: { Authorization: `Bearer ${await hs256Token(SECRET, 'ops', ['operator'])}` } })
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as Msg
      messages.push(m)
      if (m.type === 'welcome') ws.send(JSON.stringify({ type: 'subscribe', channels: ['metrics'], filters: { agent_ids: ['burst-agent'] } }))
    })
    await waitUntil('subscribed', async () => messages.some((m) => m.type === 'subscribed') || undefined, { timeoutMs: 30_000, everyMs: 50 })
    // the fan-out's fresh group resolves "latest" after joining: see a probe window arrive before anything is published
    await waitMetricsStreamReady(kafka, gateway.address, await hs256Token(SECRET, 'ops', ['operator']), () => gateway.output())
  }, 120_000)

  afterAll(async () => {
    ws?.terminate()
    aggregation?.kill('SIGTERM')
    gateway?.kill('SIGTERM')
    await Promise.all([aggregation?.exited, gateway?.exited])
    await pool?.end()
    if (schema) await dropSchema(schema)
    await kafka?.close()
  })

  it('arrives as a metrics frame with no further traffic', { timeout: 120_000 }, async () => {
    const w = Math.floor((Date.now() * 1000) / MINUTE_US) * MINUTE_US - 5 * MINUTE_US
    const burst = Array.from({ length: 30 }, (_, i) => llmCallEvent({ agent: 'burst-agent', trace: `t-${i}`, timestampUs: w + i * 1_000_000, input: 10, output: 2 }))
    const topic = kafka.topics.enrichedEvents
    const id = await kafka.serde.register(topic, 'enriched-agent-event')
    await kafka.producer.send(burst.map((e) => ({ topic, key: e.trace_id, value: kafka.serde.encode(id, 'enriched-agent-event', toEnrichedRecord(enrich(e))) })))
    await waitStoredCaughtUp(pool, kafka, topic, { timeoutMs: 60_000, pollMs: 100, alive: () => aggregation.alive() })
    // nothing more is produced: only the idle timeout can close the window
    const frame = await waitUntil('the burst window as a metrics frame', async () =>
      messages.find((m) => m.type === 'metrics' && (m.window as { agent_id: string }).agent_id === 'burst-agent'), { timeoutMs: 30_000, everyMs: 100 })
    expect(frame.window).toMatchObject({ agent_id: 'burst-agent', llm_calls: { succeeded: 30, failed: 0 }, input_tokens: 300, output_tokens: 60 })
    expect(Date.parse(String((frame.window as { window_start: string }).window_start))).toBe(w / 1000)
  })
})
