/**
 * Must show of issue 11: the archival app and the event-store app each SIGKILLed five times
 * while the recorded runs and simulated load flow through the real pipeline (replay →
 * auren.agent-events.v1 → enrichment app → auren.agent-events.enriched.v1 → archival app →
 * Parquet on s3proxy, and event-store app → es_events): a DuckDB count over the whole archive
 * equals the number of distinct input event_ids with no event_id twice, the same after
 * compaction, and the event store holds each event_id once, in each stream in input order.
 */
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DuckDBConnection } from '@duckdb/node-api'
import { fromEnrichedRecord, type AgentEvent, type EnrichedAgentEventRecord } from '../../schemas/index.ts'
import { loadTraceRuns } from '../../scripts/sources/trace-files.ts'
import { createSimulator } from '../../scripts/sources/simulator.ts'
import { compactClosedHours } from '../../processors/archival/io/compaction.ts'
import { defineEventsView, openArchiveDb, runQuery, s3Urls } from '../../processors/archival/io/duckdb.ts'
import { liveObjects } from '../../processors/archival/io/manifest.ts'
import { readTopicToEnd, waitForGroupCaughtUp } from '../../scripts/lib/read-topic.ts'
import { createTestKafka, type TestKafka } from '../helpers/kafka.ts'
import { startApp, type AppProcess } from '../helpers/processes.ts'
import { archivalEnv, createArchiveTestEnv, metricSum, type ArchiveTestEnv } from '../helpers/archive.ts'
import { eventStoreEnv } from '../helpers/event-store.ts'
import { pause, waitUntil } from '../helpers/wait-until.ts'
import { requireRecordedRuns } from '../helpers/required-data.ts'

const TRACES = join(import.meta.dirname, '..', '..', '..', 'shared', 'data', 'agent-traces')
const KILLS = 5

let kafka: TestKafka
let env: ArchiveTestEnv
let duck: DuckDBConnection
const apps: AppProcess[] = []

function inputs(): AgentEvent[] {
  requireRecordedRuns(TRACES)
  const recorded = loadTraceRuns(TRACES).runs.flatMap((r) => r.events)
  const sim = createSimulator({ seed: 11 })
  const nowUs = Date.now() * 1000
  const simulated = Array.from({ length: 3000 }, (_, i) => sim.next(nowUs - (3000 - i) * 1000))
  return [...recorded, ...simulated]
}

async function archiveCounts(): Promise<{ n: number; distinct: number; ids: Set<string> }> {
  await defineEventsView(duck, s3Urls(env.s3.bucket, (await liveObjects(env.pool)).map((o) => o.key)))
  const agg = await runQuery(duck, "SELECT count(*)::INT AS n, count(DISTINCT event_id)::INT AS d FROM events WHERE record_kind = 'event'")
  const ids = await runQuery(duck, "SELECT event_id FROM events WHERE record_kind = 'event'")
  return { n: Number(agg.rows[0]!.n), distinct: Number(agg.rows[0]!.d), ids: new Set(ids.rows.map((r) => String(r.event_id))) }
}

beforeAll(async () => {
  kafka = await createTestKafka()
  env = await createArchiveTestEnv()
  duck = await openArchiveDb(env.s3)
})
afterAll(async () => {
  for (const a of apps) if (a.alive()) a.kill('SIGKILL')
  await Promise.all(apps.map((a) => a.exited))
  duck?.closeSync()
  await env?.drop()
  await kafka?.close()
})

describe('archival and the event store under SIGKILL', () => {
  it(`archives every input once after ${KILLS} SIGKILLs of each app during a replay plus simulated load, before and after compaction; the event store holds each event once, in order`, async () => {
    const events = inputs()
    expect(events.length).toBeGreaterThan(6000)
    const enrichment = await startApp('enrichment', kafka.prefix)
    apps.push(enrichment)
    const archivalSettings = archivalEnv(env, { AUREN_ARCHIVAL_FLUSH_MAX_RECORDS: '300', AUREN_ARCHIVAL_FLUSH_MAX_AGE_MS: '500', AUREN_MAX_BATCH_BYTES: '32768' })
    const eventStoreSettings = eventStoreEnv(env.schema, { AUREN_EVENT_STORE_FLUSH_MAX_RECORDS: '300', AUREN_EVENT_STORE_FLUSH_MAX_AGE_MS: '500', AUREN_MAX_BATCH_BYTES: '32768' })
    const start = async (app: 'archival' | 'event-store') => {
      const a = await startApp(app, kafka.prefix, app === 'archival' ? archivalSettings : eventStoreSettings)
      apps.push(a)
      return a
    }
    let archival = await start('archival')
    let eventStore = await start('event-store')

    // Replay and simulated load, paced: the first half flows at once, each further tenth only
    // after one more round of kills, so every kill lands while the replay is still being
    // produced and every restarted instance has records to work on.
    let produced = 0
    let roundsDone = 0
    const half = Math.floor(events.length / 2)
    const step = Math.ceil((events.length - half) / KILLS)
    const producing = (async () => {
      for (let i = 0; i < events.length; i += 150) {
        const end = Math.min(events.length, i + 150)
        while (roundsDone < Math.ceil(Math.max(0, end - half) / step)) await pause(50)
        await kafka.produceEvents(events.slice(i, end))
        produced = end
        await pause(250)
      }
    })()

    /** Waits until `current` has committed some work (`metric` > 0), then SIGKILLs it at a random point between or during flushes. */
    const killAfterWork = async (app: 'archival' | 'event-store', current: AppProcess, metric: string, k: number) => {
      await waitUntil(`${app} instance ${k + 1} to flush`, async () => {
        if (!current.alive()) throw new Error(`the ${app} app exited`)
        return metricSum(await current.metrics().catch(() => ''), metric) > 0
      }, { timeoutMs: 90_000, everyMs: 100 })
        .catch((err: Error) => { throw new Error(`${err.message}; its output:\n${current.output().slice(-4000)}`) })
      await pause(Math.floor(Math.random() * 400))
      expect(produced, 'the replay is still being produced').toBeLessThan(events.length)
      current.kill('SIGKILL')
      expect(await current.exited).toBe('SIGKILL')
      return start(app)
    }
    for (let k = 0; k < KILLS; k++) {
      ;[archival, eventStore] = await Promise.all([
        killAfterWork('archival', archival, 'auren_archive_objects_written_total', k),
        killAfterWork('event-store', eventStore, 'auren_event_store_append_duration_seconds_count', k),
      ])
      roundsDone = k + 1
    }
    await producing
    expect(produced).toBeGreaterThanOrEqual(events.length)

    await waitForGroupCaughtUp(kafka.admin, `${kafka.prefix}auren.enrichment`, kafka.topics.agentEvents)
    await waitForGroupCaughtUp(kafka.admin, `${kafka.prefix}auren.archival`, kafka.topics.enrichedEvents)
    await waitForGroupCaughtUp(kafka.admin, `${kafka.prefix}auren.event-store`, kafka.topics.enrichedEvents)
    expect(archival.alive()).toBe(true)
    expect(eventStore.alive()).toBe(true)

    // Inputs of both apps: the enriched topic (enrichment is at-least-once: duplicates by event_id possible).
    const enriched = await readTopicToEnd(kafka.driver, kafka.admin, kafka.topics.enrichedEvents)
    const order = new Map<string, string[]>() // trace -> event ids in offset order (first occurrence)
    const inputIds = new Set<string>()
    for (const r of enriched.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)))) {
      const e = fromEnrichedRecord((await kafka.serde.decode(r.value, 'enriched-agent-event')) as EnrichedAgentEventRecord)
      if (inputIds.has(e.event.event_id)) continue
      inputIds.add(e.event.event_id)
      order.set(e.event.trace_id, [...(order.get(e.event.trace_id) ?? []), e.event.event_id])
    }
    expect(inputIds.size).toBeGreaterThan(6000)

    const before = await archiveCounts()
    expect(before.n).toBe(inputIds.size)
    expect(before.distinct).toBe(before.n)
    expect([...inputIds].filter((id) => !before.ids.has(id))).toEqual([])

    const merged = await compactClosedHours(env.pool, env.store, 0)
    expect(merged.length).toBeGreaterThan(0)
    const after = await archiveCounts()
    expect({ n: after.n, distinct: after.distinct }).toEqual({ n: inputIds.size, distinct: inputIds.size })

    const es = await env.pool.query<{ event_id: string; stream_id: string; stream_version: number }>('SELECT event_id, stream_id, stream_version FROM es_events ORDER BY stream_id, stream_version')
    expect(es.rows.length).toBe(inputIds.size)
    expect(new Set(es.rows.map((r) => r.event_id)).size).toBe(inputIds.size)
    const streams = new Map<string, string[]>()
    for (const r of es.rows) {
      const list = streams.get(r.stream_id) ?? []
      expect(r.stream_version).toBe(list.length + 1)
      list.push(r.event_id)
      streams.set(r.stream_id, list)
    }
    expect(streams).toEqual(order)
  }, 600_000)
})
