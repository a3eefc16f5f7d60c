/**
 * Archive fixtures for integration tests: a fresh bucket on the stack's S3 store and a fresh,
 * migrated PostgreSQL schema per test (both removed by drop()), and enriched-event builders.
 */
import { randomUUID } from 'node:crypto'
import { CreateBucketCommand, DeleteBucketCommand } from '@aws-sdk/client-s3'
import pg from 'pg'
import type { EnrichedAgentEvent, Tier } from '../../schemas/index.ts'
import { runArchiveMigrations } from '../../processors/archival/io/migrate.ts'
import { createObjectStore, createS3Client, type ObjectStore, type S3Settings } from '../../processors/archival/io/s3-store.ts'
import { stackEnv, stackS3Env } from './stack.ts'
import { llmCallEvent } from './events.ts'

/** A bucket and schema of the test's own. */
export interface ArchiveTestEnv {
  readonly s3: S3Settings
  readonly store: ObjectStore
  readonly databaseUrl: string
  readonly schema: string
  /** A pool bound to the schema (closed by drop()). */
  readonly pool: pg.Pool
  /** Deletes every object and the bucket, drops the schema. */
  drop(): Promise<void>
}

/** Creates bucket `auren-t-<random>` and schema `arc_t_<random>` (migrated). */
export async function createArchiveTestEnv(): Promise<ArchiveTestEnv> {
  const id = randomUUID().replace(/-/g, '').slice(0, 12)
  const s3: S3Settings = { ...stackS3Env(), bucket: `auren-t-${id}` }
  const client = createS3Client(s3)
  await client.send(new CreateBucketCommand({ Bucket: s3.bucket }))
  const databaseUrl = stackEnv().databaseUrl
  const schema = `arc_t_${id}`
  await runArchiveMigrations(databaseUrl, schema)
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 6, options: `-c search_path=${schema}` })
  pool.on('error', () => {})
  const store = createObjectStore(s3)
  return {
    s3, store, databaseUrl, schema, pool,
    async drop() {
      const keys = (await store.list('')).map((o) => o.key)
      if (keys.length > 0) await store.delete(keys)
      await client.send(new DeleteBucketCommand({ Bucket: s3.bucket })).catch(() => {})
      client.destroy()
      store.close()
      await pool.end().catch(() => {})
      const c = new pg.Client(databaseUrl)
      await c.connect()
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      await c.end()
    },
  }
}

/** An enriched LLM call of `tier` at `timestampUs`, on trace `trace`. */
export function enrichedEvent(opts: { tier?: Tier; timestampUs: number; trace?: string; agent?: string; cost?: number | null; userId?: string }): EnrichedAgentEvent {
  const event = llmCallEvent({ timestampUs: opts.timestampUs, trace: opts.trace, agent: opts.agent, userId: opts.userId })
  return {
    event,
    tier: opts.tier ?? 'operational',
    cost_usd: opts.cost === undefined ? 0.001 : opts.cost,
    cost_source: 'computed',
    pricing_ref: 'test',
    agent_domain: null,
    tool_category: null,
    input_complexity: null,
    ingest_lag_ms: 5,
    enriched_at: opts.timestampUs + 5_000,
  }
}

/** Sum of every series of a counter in a /metrics text (0 when absent). */
export function metricSum(text: string, name: string): number {
  let sum = 0
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'gm'))) sum += Number(m[1])
  return sum
}

/** Environment of an archival app process writing to this test's bucket and schema. */
export function archivalEnv(env: ArchiveTestEnv, extra: Record<string, string> = {}): Record<string, string> {
  return {
    AUREN_DATABASE_URL: env.databaseUrl,
    AUREN_ARCHIVAL_DB_SCHEMA: env.schema,
    AUREN_S3_ENDPOINT: env.s3.endpoint!,
    AUREN_S3_REGION: env.s3.region,
    AUREN_S3_BUCKET: env.s3.bucket,
    AUREN_S3_ACCESS_KEY_ID: env.s3.accessKeyId,
    AUREN_S3_SECRET_ACCESS_KEY: env.s3.secretAccessKey,
    AUREN_ARCHIVAL_MAINTENANCE_INTERVAL_MS: '0',
    ...extra,
  }
}
