/**
 * The recorded runs through enrichment's transform and the aggregation sink (real PostgreSQL,
 * no broker: the runner's part is played by test/helpers/aggregation-db.ts `feed`): per-agent
 * tokens equal an independent scan of the ChatDev logs, costs equal the enriched costs summed,
 * 6 partitions on 3 concurrent instances give the rows of 1 partition, and replaying the same
 * runs again changes nothing.
 */
import { join } from 'node:path'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EnrichedAgentEvent } from '../../schemas/index.ts'
import { DEFAULT_ENRICHMENT_CONFIG } from '../../processors/enrichment/config.ts'
import { createEnrichmentTransform } from '../../processors/enrichment/transform.ts'
import { loadTraceRuns } from '../../scripts/sources/trace-files.ts'
import { addDecimal } from '../../processors/aggregation/decimal.ts'
import { percentile } from '../../schemas/latency-histogram.ts'
import { scanChatDevFolder } from '../helpers/chatdev-reference.ts'
import { createTestDb, dumpTables, feed, splitByTrace, type TestDb } from '../helpers/aggregation-db.ts'
import { requireRecordedRuns } from '../helpers/required-data.ts'

const TRACES = join(import.meta.dirname, '..', '..', '..', 'shared', 'data', 'agent-traces')

/** Every event of the ChatDev runs, enriched as the enrichment app would (clock after the runs). */
function enrichedChatDevEvents(): EnrichedAgentEvent[] {
  const runs = loadTraceRuns(TRACES).runs.filter((r) => r.kind === 'chatdev')
  const transform = createEnrichmentTransform(DEFAULT_ENRICHMENT_CONFIG)
  const out: EnrichedAgentEvent[] = []
  let offset = 0
  for (const run of runs) {
    for (const event of run.events) {
      const ctx = { log: pino({ level: 'silent' }), now: () => Date.now(), registry: new Registry(), source: { topic: 'in', partition: 0, offset: String(offset++) } }
      const outcome = transform(event, ctx)
      if (outcome.kind === 'emit') out.push(...outcome.records.map((r) => r.value))
    }
  }
  return out
}

requireRecordedRuns(TRACES)

describe('aggregation of the recorded ChatDev runs', () => {
  let events: EnrichedAgentEvent[]
  let db: TestDb
  beforeAll(async () => {
    events = enrichedChatDevEvents()
    db = await createTestDb()
  })
  afterAll(async () => {
    await db.drop()
  })

  it('per-agent tokens equal the logs; costs equal the enriched costs; 3 instances on 6 partitions = 1 partition; a second replay changes nothing', async () => {
    expect(events.length).toBeGreaterThan(1000)
    await feed([db.sink(), db.sink(), db.sink()], splitByTrace(events, 6), { seed: 1, concurrent: true, maxBatch: 200 })
    const pool = db.pool(1)

    const reference = new Map<string, { input: number; output: number }>()
    for (const perAgent of scanChatDevFolder(TRACES).values()) {
      for (const [agent, s] of perAgent) {
        const r = reference.get(agent) ?? { input: 0, output: 0 }
        reference.set(agent, { input: r.input + s.input, output: r.output + s.output })
      }
    }
    const tokens = await pool.query<{ agent_id: string; input: string; output: string; cost: string }>(
      'SELECT agent_id, sum(input_tokens) AS input, sum(output_tokens) AS output, sum(cost_usd) AS cost FROM agg_agent_window GROUP BY agent_id',
    )
    const got = new Map(tokens.rows.filter((r) => r.input !== '0' || r.output !== '0').map((r) => [r.agent_id, { input: Number(r.input), output: Number(r.output) }]))
    expect(got).toEqual(reference)

    const costs = new Map<string, number[]>()
    for (const e of events) if (e.cost_usd) costs.set(e.event.source_agent?.id ?? '', [...(costs.get(e.event.source_agent?.id ?? '') ?? []), e.cost_usd])
    expect(costs.size).toBeGreaterThan(0)
    for (const r of tokens.rows) {
      const expected = costs.get(r.agent_id) ?? []
      expect(Math.abs(Number(r.cost) - expected.reduce((a, b) => a + b, 0)), r.agent_id).toBeLessThan(1e-9)
      expect(addDecimal(r.cost), r.agent_id).toBe(addDecimal('0', ...expected))
    }

    const rows = await dumpTables(pool)
    const single = await createTestDb()
    try {
      await feed([single.sink()], splitByTrace(events, 1), { seed: 2, maxBatch: 500 })
      const singleRows = await dumpTables(single.pool(1))
      // late_events depend on each partition's order (documented), so compare everything else
      const withoutLate = (d: typeof rows) => ({
        ...d,
        agg_agent_window: d.agg_agent_window!.map(({ late_events: _l, ...r }) => r),
        agg_event_window: d.agg_event_window!.map(({ late_events: _l, ...r }) => r),
      })
      expect(withoutLate(rows)).toEqual(withoutLate(singleRows))
      const p95 = async (p: typeof pool) => {
        const res = await p.query<{ bucket: number; n: string }>("SELECT bucket, sum(count) AS n FROM agg_latency_histogram WHERE metric = 'llm' GROUP BY bucket")
        return percentile(new Map(res.rows.map((r) => [r.bucket, Number(r.n)])), 0.95)
      }
      expect(await p95(pool)).toBe(await p95(single.pool(1)))
    } finally {
      await single.drop()
    }

    await feed([db.sink(), db.sink()], splitByTrace(events, 6), { seed: 3, concurrent: true, maxBatch: 300, baseOffset: 1_000_000 })
    expect(await dumpTables(pool)).toEqual(rows)
  })
})
