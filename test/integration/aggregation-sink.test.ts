/**
 * The aggregation sink against the real PostgreSQL (`npm run stack:up`): exactly-once
 * properties. Each test gets a fresh migrated schema, dropped afterwards.
 */
import { readdirSync } from 'node:fs'
import pg from 'pg'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { addDecimal } from '../../processors/aggregation/decimal.ts'
import { percentile } from '../../schemas/latency-histogram.ts'
import { MIGRATIONS_DIR, MIGRATIONS_TABLE, runMigrations } from '../../processors/aggregation/migrate.ts'
import type { RollupDelta } from '../../processors/aggregation/rollup-delta.ts'
import { isAurenError } from '../../processors/runtime/ops/errors.ts'
import { randomWorkload } from '../helpers/aggregation-events.ts'
import { createTestDb, dumpTables, feed, splitByTrace, type TestDb } from '../helpers/aggregation-db.ts'
import { waitUntil } from '../helpers/wait-until.ts'

const T0 = Date.UTC(2025, 0, 1, 12, 0, 0) * 1000
const GROUP = 'auren.aggregation'
const TOPIC = 'auren.agent-events.enriched.v1'
const at = (partition: number, nextOffset: number) => ({ groupId: GROUP, topic: TOPIC, partition, nextOffset: String(nextOffset) })
const records = (deltas: readonly RollupDelta[], partition: number, first: number) => deltas.map((value, i) => ({ value, partition, offset: String(first + i) }))

/** p95 of a latency metric over every window, agent and partition, from the stored buckets. */
async function p95(pool: pg.Pool, metric: string): Promise<number | null> {
  const res = await pool.query<{ bucket: number; n: string }>('SELECT bucket, sum(count) AS n FROM agg_latency_histogram WHERE metric = $1 GROUP BY bucket', [metric])
  return percentile(new Map(res.rows.map((r) => [r.bucket, Number(r.n)])), 0.95)
}

let db: TestDb
beforeEach(async () => {
  db = await createTestDb()
})
afterEach(async () => {
  await db.drop()
})

describe('migrations', () => {
  it('run idempotently, and concurrently from several instances', async () => {
    const fresh = `${db.schema}_m`
    try {
      const runs = await Promise.all([1, 2, 3].map(() => runMigrations(db.url, { schema: fresh })))
      const files = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).sort().map((f) => f.replace(/\.sql$/, ''))
      expect(files.length).toBeGreaterThanOrEqual(2)
      expect(runs.flat()).toEqual(files) // each applied once, by one of the three, in order
      expect(await runMigrations(db.url, { schema: fresh })).toEqual([])
      const res = await db.pool().query(`SELECT count(*)::int AS n FROM ${fresh}.${MIGRATIONS_TABLE}`)
      expect(res.rows[0].n).toBe(files.length)
    } finally {
      await db.pool().query(`DROP SCHEMA IF EXISTS ${fresh} CASCADE`)
    }
  })
})

describe('exactly-once', () => {
  const events = randomWorkload(21, 600, { startUs: T0, stepMs: 400, jitterMs: 10_000, duplicateShare: 0.05 })
  const stream = splitByTrace(events, 1)[0]!

  it('per-agent tokens equal the input exactly and costs equal the enriched costs summed, duplicates counted once', async () => {
    const sink = db.sink()
    await feed([sink], [stream], { seed: 1 })
    const unique = [...new Map(events.map((e) => [e.event.event_id, e])).values()]
    expect(unique.length).toBeLessThan(events.length)
    const tokens = new Map<string, number>()
    const cost = new Map<string, number[]>()
    for (const { event: e, cost_usd } of unique) {
      const agent = e.source_agent?.id ?? ''
      if (e.event_type === 'llm_call_completed') tokens.set(agent, (tokens.get(agent) ?? 0) + e.payload.input_tokens + e.payload.output_tokens)
      if (cost_usd) cost.set(agent, [...(cost.get(agent) ?? []), cost_usd])
    }
    const res = await db.pool().query<{ agent_id: string; tokens: string; cost: string }>(
      'SELECT agent_id, sum(input_tokens + output_tokens) AS tokens, sum(cost_usd) AS cost FROM agg_agent_window GROUP BY agent_id',
    )
    const got = new Map(res.rows.filter((r) => r.tokens !== '0').map((r) => [r.agent_id, Number(r.tokens)]))
    expect(got).toEqual(tokens)
    for (const r of res.rows) {
      const expected = cost.get(r.agent_id) ?? [0]
      expect(r.cost === '0' ? '0' : addDecimal(r.cost)).toBe(addDecimal(...expected)) // exact decimal sum
      expect(Math.abs(Number(r.cost) - expected.reduce((a, b) => a + b, 0))).toBeLessThan(1e-9)
    }
  })

  it('applying the same batch twice (same offsets) changes nothing', async () => {
    const sink = db.sink()
    const batch = records(stream.slice(0, 50), 0, 0)
    await sink.writeBatch(batch, at(0, 50))
    const once = await dumpTables(db.pool(1))
    await sink.writeBatch(batch, at(0, 50))
    await sink.writeBatch(batch.slice(10, 30), at(0, 30)) // an older, overlapping batch: nothing, offset stays
    expect(await dumpTables(db.pool(1))).toEqual(once)
    expect(await sink.storedOffsets(GROUP, TOPIC, [0, 1])).toEqual(new Map([[0, '50']]))
  })

  it('the same events at other offsets (a replay of the run) change nothing but the offset', async () => {
    const sink = db.sink()
    await feed([sink], [stream], { seed: 2 })
    const first = await dumpTables(db.pool(1))
    await feed([sink], [stream], { seed: 3, baseOffset: 10_000 })
    expect(await dumpTables(db.pool(1))).toEqual(first)
    expect(await sink.storedOffsets(GROUP, TOPIC, [0])).toEqual(new Map([[0, String(10_000 + stream.length)]]))
  })

  it('a transaction failing midway leaves no partial rows and no offset advance', async () => {
    const sink = db.sink()
    await sink.writeBatch(records(stream.slice(0, 40), 0, 0), at(0, 40))
    const before = await dumpTables(db.pool(1))
    // Fail at step 5 (the offset update), after every rollup upsert of the batch ran.
    const admin = db.pool(1)
    await admin.query(`CREATE FUNCTION fail_offset() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$`)
    await admin.query('CREATE TRIGGER fail_offset BEFORE UPDATE OF next_offset ON agg_offsets FOR EACH ROW WHEN (NEW.next_offset > 40) EXECUTE FUNCTION fail_offset()')
    const err = await sink.writeBatch(records(stream.slice(40, 90), 0, 40), at(0, 90)).catch((e: unknown) => e)
    expect(isAurenError(err) && err.code === 'AUREN_ERR_SINK_UNAVAILABLE' && !err.retriable).toBe(true)
    expect(await dumpTables(db.pool(1))).toEqual(before)
    expect(await sink.storedOffsets(GROUP, TOPIC, [0])).toEqual(new Map([[0, '40']]))
    // The retry after the fault applies the batch exactly once.
    await admin.query('DROP TRIGGER fail_offset ON agg_offsets')
    await sink.writeBatch(records(stream.slice(40, 90), 0, 40), at(0, 90))
    const reference = await createTestDb()
    try {
      await reference.sink().writeBatch(records(stream.slice(0, 90), 0, 0), at(0, 90))
      expect(await dumpTables(db.pool(1))).toEqual(await dumpTables(reference.pool(1)))
    } finally {
      await reference.drop()
    }
  })

  it('a connection killed inside the transaction leaves nothing; the retry applies the batch once', async () => {
    const sink = db.sink()
    await sink.writeBatch(records(stream.slice(0, 40), 0, 0), at(0, 40))
    const before = await dumpTables(db.pool(1))
    // Hold the group's emission row so the batch blocks at its last step, then kill its backend.
    const holder = await db.pool(1).connect()
    await holder.query('BEGIN')
    await holder.query('SELECT * FROM agg_window_emission FOR UPDATE')
    const pending = sink.writeBatch(records(stream.slice(40, 90), 0, 40), at(0, 90)).catch((e: unknown) => e)
    const admin = db.pool(1)
    await waitUntil('the blocked batch\'s backend terminated', async () => {
      const res = await admin.query(
        "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%agg_window_emission%' AND pid <> pg_backend_pid()",
      )
      return res.rows.some((r: { ok: boolean }) => r.ok)
    }, { timeoutMs: 10_000, everyMs: 25 })
    const err = await pending
    expect(isAurenError(err) && err.retriable).toBe(true)
    await holder.query('ROLLBACK')
    holder.release()
    expect(await dumpTables(db.pool(1))).toEqual(before)
    expect(await sink.storedOffsets(GROUP, TOPIC, [0])).toEqual(new Map([[0, '40']]))
    await sink.writeBatch(records(stream.slice(40, 90), 0, 40), at(0, 90))
    const res = await admin.query('SELECT sum(events)::int AS n FROM agg_agent_window')
    expect(res.rows[0].n).toBe(new Set(stream.slice(0, 90).map((d) => d.event_id)).size)
  })

  it('restarts at random points (new instance, resume from stored offsets, last batch resent) give the same rollups', async () => {
    const streams = splitByTrace(events, 3)
    const reference = await createTestDb()
    try {
      await feed([reference.sink()], streams, { seed: 4 })
      let sink = db.sink()
      const next = [0, 0, 0]
      let step = 0
      while (next.some((n, p) => n < streams[p]!.length)) {
        const p = step % 3
        step += 1
        if (next[p]! >= streams[p]!.length) continue
        const n = 1 + ((step * 7) % 19)
        const batch = records(streams[p]!.slice(next[p], next[p]! + n), p, next[p]!)
        await sink.writeBatch(batch, at(p, next[p]! + batch.length))
        if (step % 5 === 0) {
          // "crash" after the commit but before the Kafka commit: a new instance resumes from
          // the stored offsets, and the runner's uncommitted last batch arrives again
          await sink.close()
          sink = db.sink()
          const stored = await sink.storedOffsets(GROUP, TOPIC, [0, 1, 2])
          await sink.writeBatch(batch, at(p, next[p]! + batch.length))
          next[p] = Number(stored.get(p))
        } else next[p]! += batch.length
      }
      expect(await dumpTables(db.pool(1))).toEqual(await dumpTables(reference.pool(1)))
    } finally {
      await reference.drop()
    }
  })
})

describe('partitions and instances', () => {
  it('3 partitions on 3 concurrent instances give the same rollups and p95 as 1 partition', async () => {
    // jitter below the allowed lateness: no event is late in either split, so all rows agree
    const events = randomWorkload(33, 900, { startUs: T0, stepMs: 300, jitterMs: 12_000 })
    const single = await createTestDb()
    try {
      await feed([single.sink()], splitByTrace(events, 1), { seed: 5 })
      await feed([db.sink(), db.sink(), db.sink()], splitByTrace(events, 3), { seed: 6, concurrent: true, maxBatch: 40 })
      const one = await dumpTables(single.pool(1))
      expect(await dumpTables(db.pool(1))).toEqual(one)
      expect(one.agg_agent_window!.every((r) => r.late_events === '0')).toBe(true)
      for (const metric of ['llm', 'execution', 'tool', 'memory_tier']) {
        const expected = await p95(single.pool(1), metric)
        expect(expected).not.toBeNull()
        expect(await p95(db.pool(1), metric)).toBe(expected)
      }
    } finally {
      await single.drop()
    }
  })

  it('any interleaving and batching of the same partitions gives the same rollups, late events included', async () => {
    const events = randomWorkload(44, 700, { startUs: T0, stepMs: 300, jitterMs: 20_000, lateShare: 0.08, lateByMs: 150_000 })
    const streams = splitByTrace(events, 3)
    const other = await createTestDb()
    try {
      await feed([db.sink()], streams, { seed: 7, maxBatch: 5 })
      await feed([other.sink(), other.sink(), other.sink()], streams, { seed: 8, maxBatch: 60, concurrent: true })
      const a = await dumpTables(db.pool(1))
      expect(a.agg_agent_window!.reduce((n, r) => n + Number(r.late_events), 0)).toBeGreaterThan(10)
      expect(await dumpTables(other.pool(1))).toEqual(a)
    } finally {
      await other.drop()
    }
  })
})
