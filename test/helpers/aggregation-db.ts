/**
 * PostgreSQL fixtures for aggregation integration tests: a fresh schema per test (migrated,
 * dropped afterwards), a table dump for "same rollups" comparisons, and a feeder that plays
 * partition streams into sinks the way the runner would (offset order per partition, batches
 * of random size, partitions interleaved at random).
 */
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import type { EnrichedAgentEvent } from '../../schemas/index.ts'
import { runMigrations } from '../../processors/aggregation/migrate.ts'
import { createAggregationSink, type AggregationSink, type AggregationSinkOptions } from '../../processors/aggregation/postgres-sink.ts'
import { ROLLUP_TABLES, type RollupDelta } from '../../processors/aggregation/rollup-delta.ts'
import { toRollupDelta } from '../../processors/aggregation/transform.ts'
import { stackEnv } from './stack.ts'
import { seededRandom } from './aggregation-events.ts'

/** A migrated schema of its own, with pools bound to it by search_path. */
export interface TestDb {
  readonly url: string
  readonly schema: string
  /** A new pool whose connections use the schema (closed by drop()). */
  pool(max?: number): pg.Pool
  /** A sink on a new pool. */
  sink(options?: Partial<AggregationSinkOptions>): AggregationSink
  /** Ends every pool and drops the schema. */
  drop(): Promise<void>
}

export const WINDOW = { windowMs: 60_000, allowedLatenessMs: 30_000 } as const

/** Creates and migrates a fresh schema `agg_t_<random>`. */
export async function createTestDb(): Promise<TestDb> {
  const url = stackEnv().databaseUrl
  const schema = `agg_t_${randomUUID().replace(/-/g, '').slice(0, 12)}`
  await runMigrations(url, { schema })
  const pools: pg.Pool[] = []
  const pool = (max = 4) => {
    const p = new pg.Pool({ connectionString: url, max, options: `-c search_path=${schema}` })
    p.on('error', () => {})
    pools.push(p)
    return p
  }
  return {
    url,
    schema,
    pool,
    sink: (options = {}) => createAggregationSink(pool(), { ...WINDOW, ...options }),
    async drop() {
      await Promise.all(pools.map((p) => p.end().catch(() => {})))
      const c = new pg.Client(url)
      await c.connect()
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      await c.end()
    },
  }
}

/** Columns that hold processing time or sequence ids: they differ between equivalent runs. */
const VOLATILE = new Set(['last_processed_at', 'seen_at', 'updated_at', 'created_at', 'published_at', 'id'])
/** The rollup tables compared by "same rollups" (offsets and outbox are per run). */
export const COMPARED_TABLES = [...Object.values(ROLLUP_TABLES).map((t) => t.table), 'agg_agent_activity', 'agg_hypothesis_state', 'agg_seen_events']

/** Every row of the tables, volatile columns removed, in a canonical order. */
export async function dumpTables(pool: pg.Pool, tables: readonly string[] = COMPARED_TABLES): Promise<Record<string, Record<string, unknown>[]>> {
  const out: Record<string, Record<string, unknown>[]> = {}
  for (const table of tables) {
    const res = await pool.query(`SELECT * FROM ${table}`)
    out[table] = res.rows
      .map((r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).filter(([k]) => !VOLATILE.has(k))))
      .sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1))
  }
  return out
}

/** Kafka-like partition of a trace id (any stable hash will do: same trace, same partition). */
export function partitionOf(traceId: string, partitions: number): number {
  let h = 0
  for (const ch of traceId) h = (Math.imul(h, 31) + ch.charCodeAt(0)) | 0
  return Math.abs(h) % partitions
}

/** Splits events into partition streams by trace id, keeping their order. */
export function splitByTrace(events: readonly EnrichedAgentEvent[], partitions: number): RollupDelta[][] {
  const out: RollupDelta[][] = Array.from({ length: partitions }, () => [])
  for (const e of events) out[partitionOf(e.event.trace_id, partitions)]!.push(toRollupDelta(e, WINDOW.windowMs))
  return out
}

/** Options of {@link feed}. */
export interface FeedOptions {
  readonly groupId?: string
  readonly topic?: string
  /** Seed of batch sizes and interleaving. */
  readonly seed: number
  /** Largest batch. */
  readonly maxBatch?: number
  /** First offset of every partition (e.g. a second copy of the input at higher offsets). */
  readonly baseOffset?: number
  /** Partitions written concurrently (one sink each, like instances) instead of one at a time. */
  readonly concurrent?: boolean
}

/**
 * Plays partition streams into sinks: partition p goes to sinks[p % sinks.length], in offset
 * order, in batches of 1..maxBatch records, partitions interleaved by the seed.
 */
export async function feed(sinks: readonly AggregationSink[], streams: readonly RollupDelta[][], o: FeedOptions): Promise<void> {
  const rand = seededRandom(o.seed)
  const groupId = o.groupId ?? 'auren.aggregation'
  const topic = o.topic ?? 'auren.agent-events.enriched.v1'
  const base = o.baseOffset ?? 0
  const next = streams.map(() => 0)
  const writeNext = async (p: number) => {
    const n = 1 + Math.floor(rand() * (o.maxBatch ?? 25))
    const slice = streams[p]!.slice(next[p], next[p]! + n)
    const records = slice.map((value, i) => ({ value, partition: p, offset: String(base + next[p]! + i) }))
    next[p]! += slice.length
    await sinks[p % sinks.length]!.writeBatch(records, { groupId, topic, partition: p, nextOffset: String(base + next[p]!) })
  }
  if (o.concurrent) {
    await Promise.all(streams.map(async (s, p) => {
      while (next[p]! < s.length) await writeNext(p)
    }))
    return
  }
  for (;;) {
    const open = streams.map((s, p) => (next[p]! < s.length ? p : -1)).filter((p) => p >= 0)
    if (open.length === 0) return
    await writeNext(open[Math.floor(rand() * open.length)]!)
  }
}
