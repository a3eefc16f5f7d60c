/**
 * Aggregation scale-out with real processes: one enriched input on a 6-partition topic (the
 * recorded ChatDev runs and simulator traffic, through the real enrichment transform) is
 * aggregated (a) by one instance into schema A and (b) by a consumer group into schema B whose
 * membership changes while it runs: three instances, a fourth added, one stopped (SIGTERM), one
 * SIGKILLed and restarted, with input still arriving. Once both have stored the log end offsets,
 * every rollup table is equal row for row (volatile columns aside) and so is the LLM p95 read
 * from the merged latency histograms.
 */
import { join } from 'node:path'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestKafka, type TestKafka } from '../helpers/kafka.ts'
import type { AppProcess } from '../helpers/processes.ts'
import { dumpTables } from '../helpers/aggregation-db.ts'
import { loadTraceRuns } from '../../scripts/sources/trace-files.ts'
import { percentile } from '../../schemas/latency-histogram.ts'
import type { EnrichedAgentEvent } from '../../schemas/index.ts'
import { dropSchema, schemaForPrefix, enrichAll, produceEnriched, schemaPool, simulatedEvents, startAggregation, waitStoredCaughtUp } from '../bench/aggregation-workload.ts'
import { waitUntil } from '../helpers/wait-until.ts'
import { requireRecordedRuns } from '../helpers/required-data.ts'

const TRACES = join(import.meta.dirname, '..', '..', '..', 'shared', 'data', 'agent-traces')
requireRecordedRuns(TRACES)
const SIMULATED = 12_000

function input(): EnrichedAgentEvent[] {
  const now = Date.now()
  const chatdev = loadTraceRuns(TRACES).runs.filter((r) => r.kind === 'chatdev').flatMap((r) => r.events)
  const simulated = simulatedEvents(SIMULATED, 23, (now - 6 * 3_600_000) * 1000)
  // interleave so each phase of the run gets both kinds (and the recorded runs' old timestamps
  // arrive after newer simulator events in some partitions: late events)
  const mixed = []
  const step = Math.max(1, Math.floor(simulated.length / Math.max(1, chatdev.length)))
  let c = 0
  for (let i = 0; i < simulated.length; i++) {
    mixed.push(simulated[i]!)
    if (i % step === 0 && c < chatdev.length) mixed.push(chatdev[c++]!)
  }
  mixed.push(...chatdev.slice(c))
  return enrichAll(mixed, now)
}

async function p95(pool: pg.Pool): Promise<number | null> {
  const res = await pool.query<{ bucket: number; n: string }>("SELECT bucket, sum(count) AS n FROM agg_latency_histogram WHERE metric = 'llm' GROUP BY bucket")
  return percentile(new Map(res.rows.map((r) => [r.bucket, Number(r.n)])), 0.95)
}

describe('aggregation scale-out (real processes, one input, 1 instance vs a changing group)', () => {
  let kafka: TestKafka
  let events: EnrichedAgentEvent[]
  const apps: AppProcess[] = []
  const pools: pg.Pool[] = []
  let schemaA = ''
  let schemaB = ''

  beforeAll(async () => {
    kafka = await createTestKafka(6)
    schemaA = schemaForPrefix('sa', kafka.prefix)
    schemaB = schemaForPrefix('sb', kafka.prefix)
    events = input()
  })
  afterAll(async () => {
    for (const a of apps) if (a.alive()) a.kill('SIGKILL')
    await Promise.all(apps.map((a) => a.exited))
    await Promise.all(pools.map((p) => p.end().catch(() => undefined)))
    if (schemaA) await dropSchema(schemaA)
    if (schemaB) await dropSchema(schemaB)
    await kafka?.close()
  })

  it('gives the same rollup tables and the same LLM p95 in both schemas', { timeout: 600_000 }, async () => {
    expect(new Set(events.map((e) => e.event.event_type)).size).toBeGreaterThan(10)
    const topic = kafka.topics.enrichedEvents
    const env = (group: string) => ({ AUREN_GROUP_ID_PREFIX: `${kafka.prefix}${group}.auren.`, AUREN_AGGREGATION_EXPECTED_PARTITIONS: '6' })
    const startB = async () => {
      const a = await startAggregation(kafka.prefix, schemaB, env('b'))
      apps.push(a)
      return a
    }
    const chunks = 5
    const size = Math.ceil(events.length / chunks)
    const chunk = (k: number) => events.slice(k * size, (k + 1) * size)
    const poolB = schemaPool(schemaB)
    pools.push(poolB)
    const waitApplied = (min: number) =>
      waitUntil(`${min} offsets stored`, async () => {
        const r = await poolB.query<{ n: string | null }>('SELECT sum(next_offset)::text AS n FROM agg_offsets').catch(() => ({ rows: [{ n: null }] }))
        return Number(r.rows[0]?.n ?? 0) >= min
      }, { timeoutMs: 120_000, everyMs: 100 }).catch(() => undefined) // the final comparison shows what is missing

    // (b) a group whose membership changes while input arrives
    await produceEnriched(kafka, chunk(0))
    const [b1, b2] = await Promise.all([startB(), startB(), startB()])
    await produceEnriched(kafka, chunk(1))
    const b4 = await startB() // an instance added
    await waitApplied(size)
    await produceEnriched(kafka, chunk(2))
    b1!.kill('SIGTERM') // one removed gracefully
    expect(await b1!.exited, b1!.output().slice(-6000)).toBe(0)
    await produceEnriched(kafka, chunk(3))
    await waitApplied(Math.floor(2.5 * size))
    b2!.kill('SIGKILL') // one crashes mid-run ...
    await b2!.exited
    await produceEnriched(kafka, chunk(4))
    await startB() // ... and is restarted
    expect(b4.alive()).toBe(true)
    await waitStoredCaughtUp(poolB, kafka, topic, { timeoutMs: 300_000, pollMs: 200 })

    // (a) one instance over the same topic
    const a = await startAggregation(kafka.prefix, schemaA, env('a'))
    apps.push(a)
    const poolA = schemaPool(schemaA)
    pools.push(poolA)
    await waitStoredCaughtUp(poolA, kafka, topic, { timeoutMs: 300_000, pollMs: 200, alive: () => a.alive() })

    const [dumpA, dumpB] = await Promise.all([dumpTables(poolA), dumpTables(poolB)])
    expect(dumpA.agg_seen_events!.length).toBe(events.length)
    expect(dumpA.agg_llm_window!.length).toBeGreaterThan(0)
    for (const table of Object.keys(dumpA)) expect(dumpB[table], table).toEqual(dumpA[table])
    // the mix gives late events, whose flag depends on each partition's order: equal too
    expect(dumpA.agg_agent_window!.reduce((t, r) => t + Number(r.late_events), 0)).toBeGreaterThan(0)
    const [pa, pb] = [await p95(poolA), await p95(poolB)]
    expect(pa ?? 0).toBeGreaterThan(0)
    expect(pb).toBe(pa)
  })
})
