/**
 * The archive on the real S3 store (s3proxy) and PostgreSQL: flushes to Parquet objects and the
 * manifest, redelivery, DuckDB over s3:// with the documented types, compaction without a window
 * of double or missing rows, retention per tier, orphans.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api'
import { ARCHIVE_COLUMNS, type ArchiveColumnType } from '../../schemas/archive-parquet.ts'
import { eventRow, type ArchiveOutput } from '../../processors/archival/archive-row.ts'
import { createArchiveWriter, type ArchiveWriter, type FlushRecord } from '../../processors/archival/io/archive-writer.ts'
import { compactClosedHours } from '../../processors/archival/io/compaction.ts'
import { defineEventsView, openArchiveDb, runQuery, s3Urls } from '../../processors/archival/io/duckdb.ts'
import { archivedRanges, liveObjects, retiredObjects } from '../../processors/archival/io/manifest.ts'
import { sweep } from '../../processors/archival/io/sweeper.ts'
import { DEFAULT_RETENTION_MS } from '../../processors/archival/retention-plan.ts'
import type { Tier } from '../../schemas/index.ts'
import { createArchiveTestEnv, enrichedEvent, type ArchiveTestEnv } from '../helpers/archive.ts'

const TOPIC = 'auren.agent-events.enriched.v1'
const HOUR_US = 3_600_000_000
const TIERS: Tier[] = ['critical', 'operational', 'analytical']
/** Two closed hours well in the past, and one recent hour that keeps the watermark ahead. */
const BASE_US = Date.parse('2026-11-29T10:00:00Z') * 1000

let env: ArchiveTestEnv
let writer: ArchiveWriter
let duck: DuckDBConnection

function outputs(n: number, hourOffset: number, seed: number): ArchiveOutput[] {
  return Array.from({ length: n }, (_, i) => {
    const e = enrichedEvent({ tier: TIERS[(i + seed) % 3]!, timestampUs: BASE_US + hourOffset * HOUR_US + i * 1_000_000, trace: `trace-${seed}-${i % 4}`, agent: `agent-${i % 2}`, cost: i % 5 === 0 ? null : 0.01 })
    return { row: eventRow(e) }
  })
}
const at = (outs: ArchiveOutput[], firstOffset: number): FlushRecord[] => outs.map((value, i) => ({ value, offset: String(firstOffset + i) }))

async function countView(): Promise<{ n: number; distinct: number }> {
  await defineEventsView(duck, s3Urls(env.s3.bucket, (await liveObjects(env.pool)).map((o) => o.key)))
  const { rows } = await runQuery(duck, 'SELECT count(*)::INT AS n, count(DISTINCT event_id)::INT AS d FROM events')
  return { n: Number(rows[0]!.n), distinct: Number(rows[0]!.d) }
}

beforeAll(async () => {
  env = await createArchiveTestEnv()
  writer = createArchiveWriter({ pool: env.pool, store: env.store, rowGroupRows: 8 })
  duck = await openArchiveDb(env.s3)
})
afterAll(async () => {
  duck?.closeSync()
  await env?.drop()
})

describe('archive writer, DuckDB reader, compaction and retention', () => {
  const p0h0 = outputs(30, 0, 0)
  const p0h1 = outputs(30, 1, 1)
  const p1h0 = outputs(21, 0, 2)

  it('writes one object per hive partition keyed by partition and first offset, recorded in the manifest', async () => {
    const r = await writer.flush(TOPIC, 0, at(p0h0, 0))
    expect(r.rows).toBe(30)
    expect(r.objects.map((o) => o.key).sort()).toEqual(
      TIERS.map((t) => `events/date=2026-11-29/hour=10/tier=${t}/${TOPIC}+p0+o000000000000000000.parquet`).sort(),
    )
    await writer.flush(TOPIC, 0, at(p0h1, 30))
    await writer.flush(TOPIC, 1, at(p1h0, 0))
    expect(await archivedRanges(env.pool)).toEqual([
      { topic: TOPIC, partition: 0, firstOffset: '0', nextOffset: '30', rows: 30 },
      { topic: TOPIC, partition: 0, firstOffset: '30', nextOffset: '60', rows: 30 },
      { topic: TOPIC, partition: 1, firstOffset: '0', nextOffset: '21', rows: 21 },
    ])
    expect(await writer.storedOffsets(TOPIC, [0, 1, 2])).toEqual(new Map([[0, '60'], [1, '21']]))
  })

  it('drops a redelivered range (crash between manifest commit and Kafka commit) and archives nothing twice', async () => {
    const extra = outputs(5, 1, 7)
    const r = await writer.flush(TOPIC, 0, at([...p0h1.slice(20), ...extra], 50))
    expect(r.redelivered).toBe(10)
    expect(r.rows).toBe(5)
    expect(r.objects.every((o) => o.key.includes('+p0+o000000000000000060.parquet'))).toBe(true)
    const again = await writer.flush(TOPIC, 0, at(extra, 60))
    expect(again).toMatchObject({ rows: 0, redelivered: 5 })
    expect(await countView()).toEqual({ n: 86, distinct: 86 })
  })

  it('is read over s3:// by DuckDB with the documented column types and typed hive partitions', async () => {
    await defineEventsView(duck, s3Urls(env.s3.bucket, (await liveObjects(env.pool)).map((o) => o.key)))
    const { rows } = await runQuery(duck, 'DESCRIBE events')
    const types = Object.fromEntries(rows.map((r) => [r.column_name, r.column_type]))
    expect(types).toMatchObject({
      event_id: 'VARCHAR', event_time: 'TIMESTAMP WITH TIME ZONE', enriched_at: 'TIMESTAMP WITH TIME ZONE',
      input_tokens: 'BIGINT', output_tokens: 'BIGINT', cost_usd: 'DOUBLE', success: 'BOOLEAN', source_partition: 'INTEGER',
      source_offset: 'BIGINT', attributes: 'MAP(VARCHAR, VARCHAR)', payload: 'VARCHAR', tier: 'VARCHAR', date: 'DATE', hour: 'INTEGER',
    })
    const meta = await runQuery(duck, `SELECT DISTINCT compression FROM parquet_metadata(${JSON.stringify(s3Urls(env.s3.bucket, [(await liveObjects(env.pool))[0]!.key])).replaceAll('"', "'")})`)
    expect(meta.rows).toEqual([{ compression: 'ZSTD' }])
    const typed = await runQuery(duck, `SELECT hour, date, count(*)::INT AS n, sum(input_tokens)::BIGINT AS tokens,
      min(event_time) = TIMESTAMPTZ '2026-11-29 10:00:00+00' AS first_ok, max(source_offset)::BIGINT AS max_off
      FROM events WHERE date = DATE '2026-11-29' AND hour = 10 AND source_partition = 0 GROUP BY ALL`)
    expect(typed.rows).toEqual([{ hour: 10, date: '2026-11-29', n: 30, tokens: String(p0h0.reduce((s, o) => s + Number(o.row.input_tokens), 0)), first_ok: true, max_off: '29' }])
  })

  it('is read by an independent reader (a plain DuckDB over the objects, hive layout kept) with the documented Parquet types; date and hour come back typed', async () => {
    // The objects as any tool would get them: downloaded with their keys, read by a DuckDB that
    // knows nothing of this project (no view, no manifest, no httpfs).
    const dir = mkdtempSync(join(tmpdir(), 'auren-archive-reader-'))
    const db = await (await DuckDBInstance.create(':memory:')).connect()
    try {
      const live = await liveObjects(env.pool)
      for (const o of live) {
        mkdirSync(dirname(join(dir, o.key)), { recursive: true })
        writeFileSync(join(dir, o.key), await env.store.get(o.key))
      }
      const glob = `'${dir}/events/*/*/*/*.parquet'`
      // Physical and logical types as written, per schemas/archive-parquet.md.
      const written: Record<ArchiveColumnType, { type: string | null; logical: string | null }> = {
        STRING: { type: 'BYTE_ARRAY', logical: 'StringType()' },
        INT32: { type: 'INT32', logical: null },
        INT64: { type: 'INT64', logical: null },
        DOUBLE: { type: 'DOUBLE', logical: null },
        BOOLEAN: { type: 'BOOLEAN', logical: null },
        'TIMESTAMP(MICROS, UTC)': { type: 'INT64', logical: 'TimestampType(isAdjustedToUTC=1, unit=TimeUnit(MILLIS=<null>, MICROS=MicroSeconds(), NANOS=<null>))' },
        'MAP<STRING, STRING>': { type: null, logical: 'MapType()' },
      }
      const schema = (await db.runAndReadAll(`SELECT DISTINCT file_name, name, type, logical_type FROM parquet_schema(${glob})`)).getRowObjectsJson()
      for (const file of new Set(schema.map((r) => r.file_name))) {
        const cols = new Map(schema.filter((r) => r.file_name === file).map((r) => [r.name, { type: r.type, logical: r.logical_type }]))
        for (const c of ARCHIVE_COLUMNS) expect(cols.get(c.name), `${String(file)} ${c.name}`).toEqual(written[c.type])
      }
      // Hive partitions: date is typed by DuckDB's own detection; hour is zero-padded in the
      // path (hour=09), which DuckDB's detection keeps as text, so a reader gives the documented
      // INTEGER type as it would for any hive layout.
      const detected = (await db.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${glob}, hive_partitioning = true)`)).getRowObjectsJson()
      expect(detected.find((r) => r.column_name === 'date')?.column_type).toBe('DATE')
      const r = await db.runAndReadAll(`SELECT typeof(date) AS date_type, typeof(hour) AS hour_type, date, hour, count(*)::INT AS n, count(DISTINCT event_id)::INT AS d,
          bool_and(hour = hour(event_time AT TIME ZONE 'UTC') AND date = CAST(event_time AT TIME ZONE 'UTC' AS DATE)) AS placed
        FROM read_parquet(${glob}, hive_partitioning = true, hive_types = {'date': DATE, 'hour': INTEGER}) GROUP BY ALL ORDER BY hour`)
      const rows = r.getRowObjectsJson()
      expect(rows.map((x) => [x.date_type, x.hour_type, x.date, x.hour, x.placed])).toEqual([['DATE', 'INTEGER', '2026-11-29', 10, true], ['DATE', 'INTEGER', '2026-11-29', 11, true]])
      const total = live.reduce((n, o) => n + o.rows, 0)
      expect(rows.reduce((n, x) => n + Number(x.n), 0)).toBe(total)
      expect(rows.reduce((n, x) => n + Number(x.d), 0)).toBe(total)
    } finally {
      db.closeSync()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('compacts closed hours into one object each, with the same rows, idempotently', async () => {
    // The watermark: a recent event makes both 2026-11-29 hours closed.
    await writer.flush(TOPIC, 2, at(outputs(3, 30, 9), 0))
    const before = await countView()
    const results = await compactClosedHours(env.pool, env.store, 10 * 60_000, 8)
    expect(results.length).toBe(6) // per tier: hour 10 holds p0 and p1 objects, hour 11 the p0 o30 and p0 o60 ones
    expect(results.every((r) => r.committed)).toBe(true)
    expect(await countView()).toEqual(before)
    const live = await liveObjects(env.pool)
    for (const t of TIERS) {
      for (const hour of [10, 11]) expect(live.filter((o) => o.date === '2026-11-29' && o.hour === hour && o.tier === t).map((o) => o.kind)).toEqual(['compacted'])
    }
    expect(await compactClosedHours(env.pool, env.store, 10 * 60_000, 8)).toEqual([])
    const retired = await retiredObjects(env.pool)
    expect(retired.length).toBe(12)
    // Inputs stay in the bucket for the grace period, then the sweeper deletes them.
    const kept = await sweep(env.pool, env.store, { retention: { critical: 1e12, operational: 1e12, analytical: 1e12 }, graceMs: 3_600_000 })
    expect(kept).toEqual([])
    const purged = await sweep(env.pool, env.store, { retention: { critical: 1e12, operational: 1e12, analytical: 1e12 }, graceMs: 0 })
    expect(purged.map((o) => o.reason).sort()).toEqual(Array(12).fill('superseded'))
    expect(await countView()).toEqual(before)
  })

  it('deletes exactly the expired objects of a tier with a short retention, and reports them (dry run first)', async () => {
    const nowMs = Date.parse('2026-11-29T13:30:00Z')
    const retention = { ...DEFAULT_RETENTION_MS, analytical: 2 * 3_600_000 }
    const expected = (await liveObjects(env.pool)).filter((o) => o.tier === 'analytical' && o.date === '2026-11-29' && o.hour <= 10).map((o) => o.key).sort()
    expect(expected.length).toBeGreaterThan(0)
    const dry = await sweep(env.pool, env.store, { retention, graceMs: 3_600_000, nowMs, dryRun: true })
    expect(dry.map((o) => o.key).sort()).toEqual(expected)
    expect((await env.store.list('events/')).map((o) => o.key)).toEqual(expect.arrayContaining(expected))
    const before = (await env.store.list('events/')).map((o) => o.key)
    const done = await sweep(env.pool, env.store, { retention, graceMs: 3_600_000, nowMs })
    expect(done.map((o) => ({ key: o.key, reason: o.reason, tier: o.tier }))).toEqual(expected.map((key) => ({ key, reason: 'retention', tier: 'analytical' })))
    const after = (await env.store.list('events/')).map((o) => o.key)
    expect(after.sort()).toEqual(before.filter((k) => !expected.includes(k)).sort())
    expect((await liveObjects(env.pool)).some((o) => expected.includes(o.key))).toBe(false)
  })

  it('never reads an orphan (an upload whose flush crashed before its manifest commit), and sweeps it after the grace period', async () => {
    const before = await countView()
    const orphanKey = `events/date=2026-11-29/hour=11/tier=critical/${TOPIC}+p5+o000000000000000000.parquet`
    const first = (await liveObjects(env.pool)).find((o) => o.tier === 'critical')!
    await env.store.put(orphanKey, await env.store.get(first.key))
    expect(await countView()).toEqual(before)
    const swept = await sweep(env.pool, env.store, { retention: { critical: 1e12, operational: 1e12, analytical: 1e12 }, graceMs: 0 })
    expect(swept).toEqual([expect.objectContaining({ key: orphanKey, reason: 'orphan' })])
  })
})
