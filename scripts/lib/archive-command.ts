/**
 * `auren query "<SQL>"` and `auren archive compact|sweep|ranges`: the archive from the command
 * line. Settings: `AUREN_DATABASE_URL`, `AUREN_S3_*`, `AUREN_ARCHIVAL_*` (processors/archival/
 * config.ts), each falling back to the local stack's stack.env; the schema of the manifest is
 * `--schema` or AUREN_ARCHIVAL_DB_SCHEMA (default public).
 */
import pg from 'pg'
import { parseArchivalConfig, type ArchivalConfig } from '../../processors/archival/config.ts'
import { compactClosedHours, type CompactionResult } from '../../processors/archival/io/compaction.ts'
import { defineEventsView, openArchiveDb, runQuery, s3Urls } from '../../processors/archival/io/duckdb.ts'
import { archivedRanges, liveObjects } from '../../processors/archival/io/manifest.ts'
import { createObjectStore } from '../../processors/archival/io/s3-store.ts'
import { sweep, type SweptObject } from '../../processors/archival/io/sweeper.ts'
import { stackEnv, stackS3Env } from './stack-env.ts'

/** The archival configuration from the environment, completed from stack.env. */
export function archiveConfig(schema?: string, overrides: Record<string, string | undefined> = {}): ArchivalConfig {
  const env: Record<string, string | undefined> = { ...process.env, ...overrides }
  if (!env.AUREN_DATABASE_URL) env.AUREN_DATABASE_URL = stackEnv().databaseUrl
  if (!env.AUREN_S3_BUCKET) {
    const s3 = stackS3Env()
    env.AUREN_S3_ENDPOINT ??= s3.endpoint
    env.AUREN_S3_REGION ??= s3.region
    env.AUREN_S3_BUCKET = s3.bucket
    env.AUREN_S3_ACCESS_KEY_ID ??= s3.accessKeyId
    env.AUREN_S3_SECRET_ACCESS_KEY ??= s3.secretAccessKey
  }
  if (schema) env.AUREN_ARCHIVAL_DB_SCHEMA = schema
  return parseArchivalConfig(env)
}

function poolOf(c: ArchivalConfig): pg.Pool {
  return new pg.Pool({ connectionString: c.databaseUrl, max: 2, options: `-c search_path=${c.dbSchema}` })
}

/**
 * Runs SQL in DuckDB with the `events` view over the manifest's live objects.
 * @returns column names and rows (BIGINT and DECIMAL as strings, times as text)
 */
export async function queryArchive(c: ArchivalConfig, sql: string): Promise<{ columns: string[]; rows: Record<string, unknown>[]; objects: number }> {
  const pool = poolOf(c)
  try {
    const keys = (await liveObjects(pool)).map((o) => o.key)
    const db = await openArchiveDb(c.s3)
    try {
      await defineEventsView(db, s3Urls(c.s3.bucket, keys))
      return { ...(await runQuery(db, sql)), objects: keys.length }
    } finally {
      db.closeSync()
    }
  } finally {
    await pool.end()
  }
}

/** Renders rows as an aligned text table. */
export function formatTable(columns: readonly string[], rows: readonly Record<string, unknown>[]): string {
  const cell = (v: unknown) => (v === null || v === undefined ? 'NULL' : typeof v === 'object' ? JSON.stringify(v) : String(v))
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)))
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd()
  return [line([...columns]), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join('\n')
}

/** One compaction round (`auren archive compact`). */
export async function compactArchive(c: ArchivalConfig): Promise<CompactionResult[]> {
  const pool = poolOf(c)
  const store = createObjectStore(c.s3)
  try {
    return await compactClosedHours(pool, store, c.compactLatenessMs, c.rowGroupRows)
  } finally {
    store.close()
    await pool.end()
  }
}

/** One retention sweep (`auren archive sweep [--dry-run]`). */
export async function sweepArchive(c: ArchivalConfig, dryRun: boolean): Promise<SweptObject[]> {
  const pool = poolOf(c)
  const store = createObjectStore(c.s3)
  try {
    return await sweep(pool, store, { retention: c.retention, graceMs: c.deleteGraceMs, dryRun })
  } finally {
    store.close()
    await pool.end()
  }
}

/** Archived offset ranges (`auren archive ranges`). */
export async function archiveRanges(c: ArchivalConfig) {
  const pool = poolOf(c)
  try {
    return await archivedRanges(pool)
  } finally {
    await pool.end()
  }
}
