/**
 * The demo's archive part: a bucket of the run's own on the stack's S3 store (created here,
 * emptied and removed at the end unless --keep-running), the archival app's settings, and the
 * summary printed at the end: events archived, objects and bytes (from the manifest), and one
 * DuckDB query over the objects (events and USD per tier and agent).
 */
import pg from 'pg'
import { CreateBucketCommand, DeleteBucketCommand } from '@aws-sdk/client-s3'
import { createObjectStore, createS3Client, type S3Settings } from '../../processors/archival/io/s3-store.ts'
import { queryArchive, formatTable, archiveConfig } from '../lib/archive-command.ts'
import { stackS3Env } from '../lib/stack-env.ts'

/** The DuckDB query the demo prints. */
export const DEMO_ARCHIVE_SQL = `SELECT tier, agent_id, count(*)::INTEGER AS events, round(sum(cost_usd), 6) AS usd
  FROM events WHERE record_kind = 'event' GROUP BY ALL ORDER BY tier, usd DESC NULLS LAST, agent_id`

/** What the demo prints about the archive. */
export interface ArchiveSummary {
  readonly bucket: string
  readonly events: number
  readonly objects: number
  readonly bytes: number
  readonly by_tier_agent: readonly { tier: string; agent_id: string | null; events: number; usd: number | null }[]
}

/** A bucket of the demo's own (`auren-demo-<time>`), and how to remove it. */
export async function createDemoBucket(prefix: string): Promise<{ s3: S3Settings; remove: () => Promise<void> }> {
  const s3 = { ...stackS3Env(), bucket: `auren-${prefix.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '')}`.slice(0, 63) }
  const client = createS3Client(s3)
  await client.send(new CreateBucketCommand({ Bucket: s3.bucket }))
  return {
    s3,
    async remove() {
      const store = createObjectStore(s3)
      try {
        const keys = (await store.list('')).map((o) => o.key)
        if (keys.length > 0) await store.delete(keys)
        await client.send(new DeleteBucketCommand({ Bucket: s3.bucket }))
      } finally {
        store.close()
        client.destroy()
      }
    },
  }
}

/** Environment of the demo's archival app. */
export function archivalDemoEnv(s3: S3Settings, databaseUrl: string, schema: string): Record<string, string> {
  return {
    AUREN_DATABASE_URL: databaseUrl,
    AUREN_ARCHIVAL_DB_SCHEMA: schema,
    AUREN_S3_ENDPOINT: s3.endpoint ?? '',
    AUREN_S3_REGION: s3.region,
    AUREN_S3_BUCKET: s3.bucket,
    AUREN_S3_ACCESS_KEY_ID: s3.accessKeyId,
    AUREN_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    // The recorded runs are from 2023–2025: retention (on event time) would delete them at once,
    // so the demo runs no maintenance; and a short flush age lets the demo finish quickly.
    AUREN_ARCHIVAL_MAINTENANCE_INTERVAL_MS: '0',
    AUREN_ARCHIVAL_FLUSH_MAX_AGE_MS: '2000',
  }
}

/** Reads the archive's figures from the manifest and DuckDB. */
export async function readArchiveSummary(s3: S3Settings, schema: string): Promise<ArchiveSummary> {
  const env = { AUREN_S3_ENDPOINT: s3.endpoint, AUREN_S3_REGION: s3.region, AUREN_S3_BUCKET: s3.bucket, AUREN_S3_ACCESS_KEY_ID: s3.accessKeyId, AUREN_S3_SECRET_ACCESS_KEY: s3.secretAccessKey }
  {
    const c = archiveConfig(schema, env)
    const totals = await queryArchive(c, "SELECT count(*)::INTEGER AS events FROM events WHERE record_kind = 'event'")
    const perTier = await queryArchive(c, DEMO_ARCHIVE_SQL)
    const pool = new pg.Pool({ connectionString: c.databaseUrl, max: 1, options: `-c search_path=${schema}` })
    try {
      const o = (await pool.query<{ n: number; b: string }>("SELECT count(*)::int AS n, coalesce(sum(bytes), 0)::text AS b FROM archive_objects WHERE state = 'live'")).rows[0]!
      return {
        bucket: s3.bucket,
        events: Number(totals.rows[0]!.events),
        objects: o.n,
        bytes: Number(o.b),
        by_tier_agent: perTier.rows.map((r) => ({ tier: String(r.tier), agent_id: (r.agent_id as string | null) ?? null, events: Number(r.events), usd: r.usd === null ? null : Number(r.usd) })),
      }
    } finally {
      await pool.end()
    }
  }
}

/** The archive lines of the demo's text summary. */
export function renderArchiveSummary(a: ArchiveSummary): string {
  const rows = a.by_tier_agent.map((r) => ({ tier: r.tier, agent: r.agent_id ?? '(none)', events: r.events, usd: r.usd === null ? 'n/a' : r.usd.toFixed(6) }))
  return [
    `archive: ${a.events} events in ${a.objects} Parquet objects, ${a.bytes} bytes (bucket ${a.bucket}, zstd)`,
    'DuckDB over the archive: events and USD per tier and agent',
    formatTable(['tier', 'agent', 'events', 'usd'], rows).split('\n').map((l) => `  ${l}`).join('\n'),
  ].join('\n')
}
