/**
 * Event-time windows through the real PostgreSQL sink: out-of-order and late events, window
 * publication through the outbox, and the domain metrics updated from committed batches.
 */
import avro from 'avsc'
import { Registry } from 'prom-client'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AVSC_OPTIONS, loadSchema } from '../../schemas/index.ts'
import type { AgentMetricsWindow } from '../../schemas/generated/types.ts'
import { createAggregationMetrics, recordAppliedBatch } from '../../processors/aggregation/metrics.ts'
import type { AggregationSink } from '../../processors/aggregation/postgres-sink.ts'
import { publishPending } from '../../processors/runtime/sinks/outbox.ts'
import { toRollupDelta } from '../../processors/aggregation/transform.ts'
import { agentEvent, enriched, llmPayload } from '../helpers/aggregation-events.ts'
import { createTestDb, type TestDb } from '../helpers/aggregation-db.ts'
import { pause } from '../helpers/wait-until.ts'

const GROUP = 'auren.aggregation'
const TOPIC = 'auren.agent-events.enriched.v1'
const W0 = Date.UTC(2025, 0, 1, 12, 0, 0) * 1000
const W1 = W0 + 60_000_000
const at = (seconds: number) => W0 + seconds * 1_000_000
let n = 0
const llm = (agent: string, seconds: number, input = 100) =>
  toRollupDelta(enriched(agentEvent('llm_call_completed', llmPayload({ input_tokens: input, latency_ms: 800 + seconds }), { id: `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`, timestampUs: at(seconds), agent }), { cost_usd: 0.001 }))

/** Writes deltas as the next records of a partition. */
function writer(sink: AggregationSink) {
  const next = new Map<number, number>()
  return (partition: number, ...deltas: ReturnType<typeof llm>[]) => {
    const first = next.get(partition) ?? 0
    next.set(partition, first + deltas.length)
    return sink.writeBatch(deltas.map((value, i) => ({ value, partition, offset: String(first + i) })), { groupId: GROUP, topic: TOPIC, partition, nextOffset: String(first + deltas.length) })
  }
}

let db: TestDb
beforeEach(async () => {
  db = await createTestDb()
})
afterEach(async () => {
  await db.drop()
})

async function outbox(): Promise<{ agent_id: string; window_start_us: string; reason: string; payload: AgentMetricsWindow }[]> {
  return (await db.pool(1).query('SELECT agent_id, window_start_us, reason, payload FROM agg_outbox ORDER BY id')).rows
}

describe('windows, watermark and late events', () => {
  it('publishes a window when every partition passed it, applies late events and publishes the window again', async () => {
    const registry = new Registry()
    const metrics = createAggregationMetrics(registry)
    const sink = db.sink({ expectedPartitions: 2, onCommitted: (b) => recordAppliedBatch(metrics, b) })
    const write = writer(sink)

    await write(0, llm('A', 10), llm('A', 50))
    await write(1, llm('B', 20))
    await write(0, llm('A', 100)) // P0 watermark 12:01:10: W0 closed in P0, not in P1
    expect(await outbox()).toEqual([])
    await write(0, llm('A', 45)) // late in P0 (W0 closed there): applied and counted late
    await write(0, llm('A', 65)) // out of order within the lateness (W1 open in P0): not late
    await write(1, llm('B', 40)) // out of order within the lateness in P1: not late
    expect(await outbox()).toEqual([])
    await write(1, llm('B', 95)) // P1 watermark 12:01:05: the group passed W0's end
    const closed = await outbox()
    expect(closed.map((r) => [r.agent_id, Number(r.window_start_us), r.reason])).toEqual([['A', W0, 'closed'], ['B', W0, 'closed']])
    expect(closed[0]!.payload).toMatchObject({ agent_id: 'A', window_start: W0, window_end: W1, input_tokens: 300, late_events: 1, llm_calls: { succeeded: 3, failed: 0 } })
    expect(closed[0]!.payload.cost_usd).toBeCloseTo(0.003, 12)
    expect(closed[0]!.payload.llm_latency).toMatchObject({ count: 3, sum_ms: 810 + 850 + 845 })
    expect(closed[0]!.payload.llm_latency.p95_ms! / 850).toBeGreaterThan(0.91)
    expect(closed[1]!.payload).toMatchObject({ agent_id: 'B', input_tokens: 200, late_events: 0 })

    await write(1, llm('B', 30, 7)) // late, and W0 was already published: published again
    const all = await outbox()
    expect(all).toHaveLength(3)
    expect(all[2]).toMatchObject({ agent_id: 'B', reason: 'late_update', payload: { input_tokens: 207, late_events: 1, llm_calls: { succeeded: 3 } } })

    const w1 = await db.pool(1).query('SELECT agent_id, late_events FROM agg_agent_window WHERE window_start_us = $1 ORDER BY 1', [W1])
    expect(w1.rows).toEqual([{ agent_id: 'A', late_events: '0' }, { agent_id: 'B', late_events: '0' }])

    const text = await registry.metrics()
    expect(text).toContain('auren_aggregation_late_events_total 2')
    expect(text).toContain('auren_aggregation_windows_emitted_total{reason="closed"} 2')
    expect(text).toContain('auren_aggregation_windows_emitted_total{reason="late_update"} 1')
    expect(text).toContain('auren_llm_tokens_total{agent="A",model="gpt-4o",direction="input"} 500')
    expect(text).toMatch(/auren_llm_call_duration_seconds_count\{agent="B",model="gpt-4o"\} 4/)
  })

  it('publishes the outbox in order, once, and every record encodes with the AgentMetricsWindow schema', async () => {
    const sink = db.sink()
    const write = writer(sink)
    await write(0, llm('A', 10), llm('B', 20), llm('A', 70), llm('A', 200))
    const type = avro.Type.forSchema(loadSchema('agent-metrics-window'), AVSC_OPTIONS)
    const published: { key: string; value: AgentMetricsWindow }[] = []
    expect(await publishPending(sink.outbox, 100, async (records) => void published.push(...records.map((r) => ({ key: r.key, value: r.value as AgentMetricsWindow }))))).toBe(3)
    expect(published.map((r) => [r.key, r.value.window_start])).toEqual([['A', W0], ['B', W0], ['A', W1]])
    for (const r of published) expect(type.isValid(r.value, { errorHook: (path) => expect.fail(`invalid at ${path.join('.')}`) })).toBe(true)
    expect(await publishPending(sink.outbox, 100, async () => expect.fail('nothing left'))).toBe(0)
    // a failed produce leaves the records pending
    await write(0, llm('B', 330))
    await expect(publishPending(sink.outbox, 100, async () => Promise.reject(new Error('broker down')))).rejects.toThrow('broker down')
    expect(await publishPending(sink.outbox, 100, async () => {})).toBeGreaterThan(0)
  })

  it('without expectedPartitions, a partition that starts later updates windows already published', async () => {
    const sink = db.sink()
    const write = writer(sink)
    await write(0, llm('A', 10), llm('A', 100))
    expect((await outbox()).map((r) => r.reason)).toEqual(['closed'])
    await write(1, llm('A', 20)) // P1's first record: on time in P1, but W0 was published
    const rows = await outbox()
    expect(rows.map((r) => r.reason)).toEqual(['closed', 'late_update'])
    expect(rows[1]!.payload).toMatchObject({ input_tokens: 200, late_events: 0 })
  })

  it('with expectedPartitions, waits for every partition before publishing', async () => {
    const sink = db.sink({ expectedPartitions: 2 })
    const write = writer(sink)
    await write(0, llm('A', 10), llm('A', 100))
    expect(await outbox()).toEqual([])
    await write(1, llm('A', 20), llm('A', 130))
    expect((await outbox()).map((r) => [r.reason, r.payload.input_tokens])).toEqual([['closed', 200]])
  })

  it('counts active agents and purges seen ids by retention', async () => {
    const sink = db.sink()
    await writer(sink)(0, llm('A', 10), llm('B', 11))
    expect(await sink.countActiveAgents(60_000)).toBe(2)
    expect(await sink.purgeSeenEvents(3_600_000)).toBe(0)
    await pause(20) // the seen ids are now older than 1 ms
    expect(await sink.purgeSeenEvents(1)).toBe(2)
  })
})
