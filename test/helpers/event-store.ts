/**
 * Event-store fixtures for integration tests: a schema of the test's own (test/helpers/pg-schema.ts)
 * with the event store's migrations applied, and the environment of an event-store app process
 * writing to a schema.
 */
import { runEventStoreMigrations } from '../../processors/event-store/io/migrate.ts'
import { createTestSchema, type TestSchema } from './pg-schema.ts'
import { stackEnv } from './stack.ts'

/** A schema of the test's own holding the event store. */
export interface EventStoreTestSchema extends TestSchema {
  readonly databaseUrl: string
}

/** Creates schema `es_t_<random>` (pool of 6) and migrates the event store into it. */
export async function createEventStoreTestSchema(): Promise<EventStoreTestSchema> {
  const databaseUrl = stackEnv().databaseUrl
  const db = await createTestSchema('es_t', 6)
  await runEventStoreMigrations(databaseUrl, db.schema)
  return { ...db, databaseUrl }
}

/** Environment of an event-store app process appending to `schema` of the stack's PostgreSQL. */
export function eventStoreEnv(schema: string, extra: Record<string, string> = {}): Record<string, string> {
  return { AUREN_DATABASE_URL: stackEnv().databaseUrl, AUREN_EVENT_STORE_DB_SCHEMA: schema, ...extra }
}
