/**
 * Event-store throughput: N enriched events (simulator traffic through the real enrichment
 * transform, as for archival) are produced to the enriched topic once; then, per round, one
 * event-store instance with a fresh consumer group and PostgreSQL schema reads them all and is
 * timed from /readyz until `es_events` holds every one of them (rows committed by the append
 * transactions; each input has its own event_id). Append by age is the app's default, 1 s.
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
      const stored = async () => Number((await pool.query<{ n: string }>('SELECT count(*)::text AS n FROM es_events').catch(() => ({ rows: [{ n: '0' }] }))).rows[0]?.n ?? 0)
      try {
        await app.waitReady(120_000)
        const startMs = nowMs()
        const meter = startCpuMeter(app.child.pid)
        const atReady = await stored()
        await waitStoredPositions(app, stored, { total: events, startMs, timeoutMs: opts.timeoutMs, pollMs: 100, what: { app: 'event-store', done: 'appended' }, log: opts.log })
        const seconds = (nowMs() - startMs) / 1000
        const cpu = meter()
        const timedEvents = events - atReady
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
