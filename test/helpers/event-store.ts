/**
 * Event-store fixtures for integration tests: a fresh PostgreSQL schema per test with the event
 * store's migrations applied (removed by drop()), and the environment of an event-store app
 * process writing to it.
 */
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { runEventStoreMigrations } from '../../processors/event-store/io/migrate.ts'
import { stackEnv } from './stack.ts'

/** A schema of the test's own holding the event store. */
export interface EventStoreTestSchema {
  readonly databaseUrl: string
  readonly schema: string
  /** A pool bound to the schema (closed by drop()). */
  readonly pool: pg.Pool
  /** Drops the schema. */
  drop(): Promise<void>
}

/**
 * Creates schema `<prefix>_<random>` (default `es_t`) and migrates the event store into it; with
 * `schema`, migrates that schema instead (e.g. one another fixture created).
 */
export async function createEventStoreTestSchema(opts: { prefix?: string; schema?: string } = {}): Promise<EventStoreTestSchema> {
  const databaseUrl = stackEnv().databaseUrl
  const schema = opts.schema ?? `${opts.prefix ?? 'es_t'}_${randomUUID().replace(/-/g, '').slice(0, 12)}`
  await runEventStoreMigrations(databaseUrl, schema)
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 6, options: `-c search_path=${schema}` })
  pool.on('error', () => {})
  return {
    databaseUrl, schema, pool,
    async drop() {
      await pool.end().catch(() => {})
      const c = new pg.Client(databaseUrl)
      await c.connect()
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      await c.end()
    },
  }
}

/** Environment of an event-store app process appending to `schema` of the stack's PostgreSQL. */
export function eventStoreEnv(schema: string, extra: Record<string, string> = {}): Record<string, string> {
  return { AUREN_DATABASE_URL: stackEnv().databaseUrl, AUREN_EVENT_STORE_DB_SCHEMA: schema, ...extra }
}
