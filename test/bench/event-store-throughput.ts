/**
 * Event-store throughput: N enriched events (simulator traffic through the real enrichment
 * transform, as for archival) are produced to the enriched topic once; then, per round, one
 * event-store instance with a fresh consumer group and PostgreSQL schema reads them all and is
 * timed from /readyz until its group's committed offsets reach the log end (the app commits a
 * position only after the append that holds it committed; polled on the broker, so the timing
 * adds no query to the database under test). Then `es_events` must hold every input, each its own
 * event_id, or the run fails. The flush settings are the app's defaults.
 */
import { randomUUID } from 'node:crypto'
import { createTestKafka } from '../helpers/kafka.ts'
import { startApp } from '../helpers/processes.ts'
import { stackEnv } from '../helpers/stack.ts'
import { stopApp, waitStoredPositions, type PhaseContext } from './app.ts'
import { dropSchema, preProduceSimulatedEnriched, schemaPool } from './aggregation-workload.ts'
import { startCpuMeter, type CoreUsage } from './cpu.ts'
import { nowMs } from './stats.ts'

export interface EventStoreThroughputOptions extends PhaseContext {
  readonly events: number
  readonly timeoutMs: number
}

/** One timed catch-up of one event-store instance. */
export interface EventStoreRun {
  /** Events appended in the timed window (rows of es_events, each a distinct event_id). */
  readonly timedEvents: number
  readonly seconds: number
  readonly eventsPerSec: number
  readonly startupMs: number
  readonly cpu: CoreUsage
}

export interface EventStoreSession {
  readonly events: number
  run(round: number): Promise<EventStoreRun>
  close(): Promise<void>
}

/** Creates the topics and pre-produces the enriched input. */
export async function prepareEventStoreThroughput(opts: EventStoreThroughputOptions): Promise<EventStoreSession> {
  const kafka = await createTestKafka(opts.partitions)
  const topic = kafka.topics.enrichedEvents
  let events: number
  try {
    opts.log(`pre-producing ${opts.events} enriched events to ${topic} (event store)`)
    events = (await preProduceSimulatedEnriched(kafka, { n: opts.events, seed: opts.seed + 11, stepMs: 1 })).events
  } catch (err) {
    await kafka.close()
    throw err
  }

  const total = [...(await kafka.admin.endOffsets(topic)).values()].reduce((n, o) => n + Number(o), 0)

  return {
    events,
    async run(round) {
      const id = randomUUID().replace(/-/g, '').slice(0, 10)
      const group = `${kafka.prefix}es${round}.auren.`
      opts.trackGroup(`${group}event-store`)
      const schema = `es_bench_${id}`
      const pool = schemaPool(schema, 1)
      const spawnedAt = nowMs()
      const app = await startApp('event-store', kafka.prefix, {
        AUREN_GROUP_ID_PREFIX: group, AUREN_DATABASE_URL: stackEnv().databaseUrl, AUREN_EVENT_STORE_DB_SCHEMA: schema,
      })
      const committed = async () => [...(await kafka.admin.committedOffsets(`${group}event-store`, topic)).values()].reduce((n, o) => n + Math.max(0, Number(o)), 0)
      const rows = async () => Number((await pool.query<{ n: string }>('SELECT count(*)::text AS n FROM es_events')).rows[0]!.n)
      try {
        await app.waitReady(120_000)
        const startMs = nowMs()
        const meter = startCpuMeter(app.child.pid)
        const atReady = await committed()
        await waitStoredPositions(app, committed, { total, startMs, timeoutMs: opts.timeoutMs, pollMs: 100, what: { app: 'event-store', done: 'appended and committed' }, log: opts.log })
        const seconds = (nowMs() - startMs) / 1000
        const cpu = meter()
        const appended = await rows()
        if (appended !== total) throw new Error(`es_events holds ${appended} events after the group committed all ${total} inputs`)
        const timedEvents = total - atReady
        return { timedEvents, seconds, eventsPerSec: timedEvents / seconds, startupMs: startMs - spawnedAt, cpu }
      } finally {
        await stopApp(app)
        await pool.end().catch(() => undefined)
        await dropSchema(schema).catch(() => undefined)
      }
    },
    close: () => kafka.close(),
  }
}
