/**
 * Punctuation on the real broker and PostgreSQL: the aggregation app (child process) publishes
 * windows that no later event closes. After a burst and no further traffic, the last window
 * reaches `auren.agent-metrics.v1` within idle timeout + one tick + 1 s (one outbox round) of the
 * last applied batch; with events on some partitions only, the windows the active partitions
 * passed still close while the others never had a record.
 */
import type pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { createTestKafka, type TestKafka } from '../helpers/kafka.ts'
import type { AppProcess } from '../helpers/processes.ts'
import { pause, waitUntil } from '../helpers/wait-until.ts'
import { llmCallEvent } from '../helpers/events.ts'
import { dropSchema, schemaForPrefix, schemaPool, startAggregation, waitStoredCaughtUp } from '../bench/aggregation-workload.ts'
import { toEnrichedRecord, type AgentEvent, type AgentMetricsWindow, type EnrichedAgentEvent } from '../../schemas/index.ts'
import { readTopicToEnd } from '../../scripts/lib/read-topic.ts'

const IDLE_MS = 2_000
const TICK_MS = 500
const OUTBOX_ROUND_MS = 1_000
const MINUTE_US = 60_000_000

function enrich(e: AgentEvent): EnrichedAgentEvent {
  return { event: e, tier: 'operational', cost_usd: 0.001, cost_source: 'computed', pricing_ref: 'test', agent_domain: null, tool_category: null, input_complexity: null, ingest_lag_ms: 0, enriched_at: e.timestamp }
}

async function produce(kafka: TestKafka, events: readonly { e: AgentEvent; partition?: number }[]): Promise<void> {
  const topic = kafka.topics.enrichedEvents
  const id = await kafka.serde.register(topic, 'enriched-agent-event')
  await kafka.producer.send(events.map(({ e, partition }) => ({ topic, key: e.trace_id, partition, value: kafka.serde.encode(id, 'enriched-agent-event', toEnrichedRecord(enrich(e))) })))
}

describe('aggregation punctuation: windows close when traffic stops', () => {
  let kafka: TestKafka | undefined
  let app: AppProcess | undefined
  let pool: pg.Pool | undefined
  let schema: string | undefined
  afterEach(async () => {
    app?.kill('SIGTERM')
    await app?.exited
    await pool?.end()
    if (schema) await dropSchema(schema)
    await kafka?.close()
    app = pool = schema = kafka = undefined
  })

  async function setUp(env: Record<string, string>): Promise<{ kafka: TestKafka; pool: pg.Pool }> {
    kafka = await createTestKafka()
    schema = schemaForPrefix('i', kafka.prefix)
    app = await startAggregation(kafka.prefix, schema, { AUREN_PUNCTUATION_INTERVAL_MS: String(TICK_MS), AUREN_AGGREGATION_EXPECTED_PARTITIONS: '6', ...env })
    pool = schemaPool(schema)
    return { kafka, pool }
  }

  it('publishes the last window of a burst within idle timeout + one tick + 1 s, with no further traffic', { timeout: 120_000 }, async () => {
    const { kafka, pool } = await setUp({ AUREN_AGGREGATION_IDLE_TIMEOUT_MS: String(IDLE_MS) })
    const w = Math.floor(Date.now() * 1000 / MINUTE_US) * MINUTE_US - 5 * MINUTE_US // a whole minute, 5 min ago
    // a burst on every partition, all in window w: no event time ever passes its end + lateness
    const burst = Array.from({ length: 60 }, (_, i) => ({ e: llmCallEvent({ agent: 'burst-agent', trace: `t-${i}`, timestampUs: w + i * 500_000, input: 1 }) }))
    await produce(kafka, burst)
    await waitStoredCaughtUp(pool, kafka, kafka.topics.enrichedEvents, { timeoutMs: 60_000, pollMs: 100, alive: () => app!.alive() })

    const row = await waitUntil('the window in the outbox, published', async () => {
      const r = await pool.query<{ published_ms: string; last_ms: string }>(
        "SELECT (extract(epoch FROM o.published_at) * 1000)::bigint::text AS published_ms, (SELECT max(last_record_ms) FROM agg_offsets)::text AS last_ms " +
          "FROM agg_outbox o WHERE o.agent_id = 'burst-agent' AND o.window_start_us = $1 AND o.published_at IS NOT NULL",
        [w],
      )
      return r.rows[0]
    }, { timeoutMs: 30_000, everyMs: 100 })
    const elapsed = Number(row.published_ms) - Number(row.last_ms)
    // idleness closed it: not before the idle timeout, and within the bound
    expect(elapsed).toBeGreaterThanOrEqual(IDLE_MS - 50)
    expect(elapsed).toBeLessThanOrEqual(IDLE_MS + TICK_MS + OUTBOX_ROUND_MS)

    const records = await readTopicToEnd(kafka.driver, kafka.admin, kafka.topics.agentMetrics)
    const windows = await Promise.all(records.map(async (r) => (await kafka.serde.decode(r.value, 'agent-metrics-window')) as AgentMetricsWindow))
    const ours = windows.filter((x) => x.agent_id === 'burst-agent')
    expect(ours).toHaveLength(1)
    expect(ours[0]!.llm_calls.succeeded).toBe(60)
    expect(ours[0]!.input_tokens).toBe(60)
    // the runtime's outbox publisher counted what the broker acknowledged
    const published = Number(/^auren_outbox_published_total\{[^}]*\} (\d+)/m.exec(await app!.metrics())?.[1] ?? Number.NaN)
    expect(published).toBe(records.length)
  })

  it('closes the windows active partitions passed while the other partitions never had a record', { timeout: 120_000 }, async () => {
    const { kafka, pool } = await setUp({ AUREN_AGGREGATION_IDLE_TIMEOUT_MS: String(IDLE_MS) })
    const w0 = Math.floor(Date.now() * 1000 / MINUTE_US) * MINUTE_US - 10 * MINUTE_US
    const last = w0 + 3 * MINUTE_US + 40_000_000
    const events = [0, 1, 2, 3].flatMap((m) => [0, 1].map((partition) => ({ partition, e: llmCallEvent({ agent: 'active-agent', trace: `p${partition}`, timestampUs: w0 + m * MINUTE_US + 40_000_000 }) })))
    await produce(kafka, events)
    // partitions 0 and 1 stay active: a trickle of events at the same event time (the watermark stays put)
    let trickling = true
    const trickle = (async () => {
      while (trickling) {
        await produce(kafka, [0, 1].map((partition) => ({ partition, e: llmCallEvent({ agent: 'active-agent', trace: `p${partition}`, timestampUs: last }) })))
        await pause(IDLE_MS / 4)
      }
    })()
    try {
      // watermark of partitions 0 and 1 = (w0 + 3 min + 40 s) − 30 s: windows w0, w0+1, w0+2 closed, w0+3 open;
      // partitions 2..5 (never written) stop holding it back IDLE_MS after the first record
      const starts = await waitUntil('three closed windows in the outbox', async () => {
        const r = await pool.query<{ w: string }>("SELECT window_start_us::text AS w FROM agg_outbox WHERE agent_id = 'active-agent' ORDER BY 1")
        return r.rows.length >= 3 ? r.rows.map((x) => Number(x.w)) : undefined
      }, { timeoutMs: 30_000, everyMs: 100 })
      expect(starts).toEqual([w0, w0 + MINUTE_US, w0 + 2 * MINUTE_US]) // the open window w0+3 is not among them
    } finally {
      trickling = false
      await trickle
    }
    const offsets = await pool.query<{ partition: number }>('SELECT "partition" FROM agg_offsets ORDER BY 1')
    expect(offsets.rows.map((r) => r.partition)).toEqual([0, 1]) // partitions 2..5 never had a record
  })
})
