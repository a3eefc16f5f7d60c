/**
 * Aggregation workloads for the bench and the aggregation integration tests: simulator events
 * (every event type) or recorded runs put through the real enrichment transform with a fixed
 * context, produced to the enriched topic in wire format, the aggregation app started on a
 * schema of its own, and "caught up" read from its PostgreSQL offsets.
 */
import pg from 'pg'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { DEFAULT_ENRICHMENT_CONFIG } from '../../processors/enrichment/config.ts'
import { createEnrichmentTransform } from '../../processors/enrichment/transform.ts'
import { createSimulator } from '../../scripts/sources/simulator.ts'
import { toEnrichedRecord, type AgentEvent, type EnrichedAgentEvent } from '../../schemas/index.ts'
import type { TestKafka } from '../helpers/kafka.ts'
import { startApp, type AppProcess } from '../helpers/processes.ts'
import { stackEnv } from '../helpers/stack.ts'
import { waitUntil } from '../helpers/wait-until.ts'
import { nowMs } from './stats.ts'

/**
 * Enriches events as the enrichment app would, with a processing clock fixed at `nowMs` (so the
 * output is the same on every call); rejected events are left out.
 */
export function enrichAll(events: Iterable<AgentEvent>, nowMsFixed: number): EnrichedAgentEvent[] {
  const transform = createEnrichmentTransform(DEFAULT_ENRICHMENT_CONFIG)
  const log = pino({ level: 'silent' })
  const registry = new Registry()
  const out: EnrichedAgentEvent[] = []
  let offset = 0
  for (const event of events) {
    const outcome = transform(event, { log, now: () => nowMsFixed, registry, source: { topic: 'in', partition: 0, offset: String(offset++) } })
    if (outcome.kind === 'emit') out.push(...outcome.records.map((r) => r.value))
  }
  return out
}

/** n simulator events (every event type, whole traces) on the simulator's own clock from `startTimeUs`. */
export function simulatedEvents(n: number, seed: number, startTimeUs?: number): AgentEvent[] {
  const sim = createSimulator({ seed, ...(startTimeUs !== undefined ? { startTimeUs } : {}) })
  return Array.from({ length: n }, () => sim.next())
}

/** Produces enriched events to the enriched topic of `kafka`, keyed by trace_id, in chunks; returns the mean value size, bytes. */
export async function produceEnriched(kafka: TestKafka, events: readonly EnrichedAgentEvent[], chunk = 2_000): Promise<number> {
  const topic = kafka.topics.enrichedEvents
  const id = await kafka.serde.register(topic, 'enriched-agent-event')
  let bytes = 0
  for (let i = 0; i < events.length; i += chunk) {
    const records = events.slice(i, i + chunk).map((e) => {
      const value = kafka.serde.encode(id, 'enriched-agent-event', toEnrichedRecord(e))
      bytes += value.length
      return { topic, key: e.event.trace_id, value }
    })
    await kafka.producer.send(records)
  }
  return events.length > 0 ? bytes / events.length : Number.NaN
}

/**
 * Pre-produces a backlog for a throughput phase: `n` simulator events `stepMs` ms of event time
 * apart, ending a minute before now, enriched and produced to the enriched topic of `kafka`.
 * @returns events produced and their mean Avro value size, bytes
 */
export async function preProduceSimulatedEnriched(kafka: TestKafka, o: { n: number; seed: number; stepMs: number }): Promise<{ events: number; meanValueBytes: number }> {
  const sim = createSimulator({ seed: o.seed })
  const now = Date.now()
  const startUs = (now - o.n * o.stepMs - 60_000) * 1000
  const enriched = enrichAll((function* () {
    for (let i = 0; i < o.n; i++) yield sim.next(startUs + i * o.stepMs * 1000)
  })(), now)
  return { events: enriched.length, meanValueBytes: await produceEnriched(kafka, enriched) }
}

/** Starts the aggregation app on the topics of `prefix`, writing to `schema`; waits for /readyz. */
export async function startAggregation(prefix: string, schema: string, env: Record<string, string> = {}): Promise<AppProcess> {
  const app = await startApp('aggregation', prefix, {
    AUREN_LOG_LEVEL: 'warn',
    AUREN_DATABASE_URL: stackEnv().databaseUrl,
    AUREN_AGGREGATION_DB_SCHEMA: schema,
    ...env,
  })
  try {
    await app.waitReady(120_000)
  } catch (err) {
    app.kill('SIGKILL')
    throw err
  }
  return app
}

/**
 * The PostgreSQL schema of one test's or bench round's rollups: `agg_<tag>_<topic prefix>`, the
 * prefix lower-cased with every other character than a-z and 0-9 as `_`, no trailing `_`
 * (e.g. `agg_c_t_1a2b3c4d` for prefix `t-1a2b3c4d-`).
 */
export function schemaForPrefix(tag: string, prefix: string): string {
  return `agg_${tag}_${prefix.replace(/[^a-z0-9]/gi, '_').toLowerCase()}`.replace(/_+$/, '')
}

/** Drops a schema (and everything in it). */
export async function dropSchema(schema: string): Promise<void> {
  const c = new pg.Client(stackEnv().databaseUrl)
  await c.connect()
  try {
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  } finally {
    await c.end()
  }
}

/** Sum of the next offsets stored in `schema`.agg_offsets for `topic` (records applied or skipped). */
export async function storedOffsetSum(pool: pg.Pool, topic: string): Promise<number> {
  const res = await pool.query<{ n: string | null }>('SELECT sum(next_offset)::text AS n FROM agg_offsets WHERE topic = $1', [topic]).catch(() => ({ rows: [{ n: null }] }))
  return Number(res.rows[0]?.n ?? 0)
}

/**
 * Waits until the offsets stored in PostgreSQL reach the log end offset of every partition of
 * `topic`; calls `onSample(done)` on every poll. Throws after timeoutMs, or when `alive()` says no.
 */
export async function waitStoredCaughtUp(
  pool: pg.Pool,
  kafka: TestKafka,
  topic: string,
  opts: { timeoutMs: number; pollMs?: number; onSample?: (done: number, t: number) => void; alive?: () => boolean },
): Promise<void> {
  const ends = await kafka.admin.endOffsets(topic)
  const exited = new Error('aggregation exited before it caught up')
  let done = 0
  await waitUntil(`aggregation to store the log end offsets of ${topic}`, async () => {
    const res = await pool
      .query<{ partition: number; next_offset: string }>('SELECT "partition", next_offset::text AS next_offset FROM agg_offsets WHERE topic = $1', [topic])
      .catch(() => ({ rows: [] as { partition: number; next_offset: string }[] }))
    const stored = new Map(res.rows.map((r) => [r.partition, r.next_offset]))
    done = 0
    for (const v of stored.values()) done += Number(v)
    opts.onSample?.(done, nowMs())
    if ([...ends].every(([p, end]) => end === '0' || stored.get(p) === end)) return true
    if (opts.alive && !opts.alive()) throw exited
    return false
  }, {
    timeoutMs: opts.timeoutMs,
    everyMs: opts.pollMs ?? 50,
    stopOn: (err) => err === exited,
    describe: () => `${done} offsets stored of ${[...ends.values()].reduce((a, e) => a + Number(e), 0)}`,
  })
}

/** A pool bound to `schema` by search_path. */
export function schemaPool(schema: string, max = 2): pg.Pool {
  const pool = new pg.Pool({ connectionString: stackEnv().databaseUrl, max, options: `-c search_path=${schema}` })
  pool.on('error', () => {})
  return pool
}
