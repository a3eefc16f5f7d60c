/**
 * Exactly-once into PostgreSQL with real processes: one aggregation instance is killed with
 * SIGKILL at random points three times during a replay and restarted each time; its rollup
 * tables end equal, row for row, to those of an uninterrupted instance over the same topic.
 * Producing the same input again (same event_ids, new offsets) then changes nothing.
 */
import { join } from 'node:path'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestKafka, type TestKafka } from '../helpers/kafka.ts'
import type { AppProcess } from '../helpers/processes.ts'
import { dumpTables } from '../helpers/aggregation-db.ts'
import { seededRandom } from '../helpers/aggregation-events.ts'
import { waitUntil } from '../helpers/wait-until.ts'
import { loadTraceRuns } from '../../scripts/sources/trace-files.ts'
import type { EnrichedAgentEvent } from '../../schemas/index.ts'
import { dropSchema, schemaForPrefix, enrichAll, produceEnriched, schemaPool, simulatedEvents, startAggregation, storedOffsetSum, waitStoredCaughtUp } from '../bench/aggregation-workload.ts'
import { requireRecordedRuns } from '../helpers/required-data.ts'

const TRACES = join(import.meta.dirname, '..', '..', '..', 'shared', 'data', 'agent-traces')
requireRecordedRuns(TRACES)

function input(): EnrichedAgentEvent[] {
  const now = Date.now()
  const chatdev = loadTraceRuns(TRACES).runs.flatMap((r) => r.events)
  return enrichAll([...chatdev, ...simulatedEvents(10_000, 7, (now - 3_600_000) * 1000)], now)
}

describe('aggregation exactly-once under repeated SIGKILL (real processes)', () => {
  let kafka: TestKafka
  const apps: AppProcess[] = []
  const pools: pg.Pool[] = []
  let schemaKilled = ''
  let schemaClean = ''
  beforeAll(async () => {
    kafka = await createTestKafka(6)
    schemaKilled = schemaForPrefix('k', kafka.prefix)
    schemaClean = schemaForPrefix('u', kafka.prefix)
  })
  afterAll(async () => {
    for (const a of apps) if (a.alive()) a.kill('SIGKILL')
    await Promise.all(apps.map((a) => a.exited))
    await Promise.all(pools.map((p) => p.end().catch(() => undefined)))
    if (schemaKilled) await dropSchema(schemaKilled)
    if (schemaClean) await dropSchema(schemaClean)
    await kafka?.close()
  })

  it('ends with the rollups of an uninterrupted run, and a second replay changes nothing', { timeout: 600_000 }, async () => {
    const events = input()
    const topic = kafka.topics.enrichedEvents
    const env = (group: string) => ({ AUREN_GROUP_ID_PREFIX: `${kafka.prefix}${group}.auren.`, AUREN_AGGREGATION_EXPECTED_PARTITIONS: '6', AUREN_MAX_BATCH_BYTES: '32768' })
    const killedPool = schemaPool(schemaKilled)
    pools.push(killedPool)
    await produceEnriched(kafka, events)
    const total = events.length
    const random = seededRandom(20261121)

    // Three crashes at random points of the replay, each followed by a restart.
    for (let crash = 0; crash < 3; crash++) {
      const app = await startAggregation(kafka.prefix, schemaKilled, env('k'))
      apps.push(app)
      const target = Math.floor(total * (crash / 3 + random() / 3))
      let stored = 0
      await waitUntil(`stored offsets to pass ${target} before crash ${crash + 1}`, async () => (stored = await storedOffsetSum(killedPool, topic)) >= target, {
        timeoutMs: 120_000,
        everyMs: 5 + random() * 40,
        describe: () => `${stored} stored`,
      })
      app.kill('SIGKILL')
      expect(await app.exited).toBe('SIGKILL')
    }
    const last = await startAggregation(kafka.prefix, schemaKilled, env('k'))
    apps.push(last)
    await waitStoredCaughtUp(killedPool, kafka, topic, { timeoutMs: 300_000, pollMs: 200 })

    const clean = await startAggregation(kafka.prefix, schemaClean, env('u'))
    apps.push(clean)
    const cleanPool = schemaPool(schemaClean)
    pools.push(cleanPool)
    await waitStoredCaughtUp(cleanPool, kafka, topic, { timeoutMs: 300_000, pollMs: 200 })

    const [dumpClean, dumpKilled] = await Promise.all([dumpTables(cleanPool), dumpTables(killedPool)])
    expect(dumpClean.agg_seen_events!.length).toBe(total)
    for (const table of Object.keys(dumpClean)) expect(dumpKilled[table], table).toEqual(dumpClean[table])

    // The same events again, at new offsets: nothing changes once they are consumed.
    await produceEnriched(kafka, events)
    await waitStoredCaughtUp(killedPool, kafka, topic, { timeoutMs: 300_000, pollMs: 200 })
    const again = await dumpTables(killedPool)
    for (const table of Object.keys(dumpKilled)) expect(again[table], table).toEqual(dumpKilled[table])
  })
})
