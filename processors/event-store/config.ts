/**
 * The event-store app's own configuration: `AUREN_EVENT_STORE_*` variables and
 * `AUREN_DATABASE_URL`, parsed once, every problem reported at once, frozen;
 * {@link describeEventStoreConfig} renders the README table. The shared base (brokers, group id,
 * registry, HTTP port) is the runtime's (processors/runtime/ops/config.ts).
 */
import { defineEnvConfig, type ConfigRow } from '../runtime/ops/env-config.ts'
import { databaseFields, dbPoolSizeField, intField as int } from '../runtime/ops/config-fragments.ts'


const fields = {
  ...databaseFields('AUREN_EVENT_STORE_', { url: 'PostgreSQL of the event store (required).', schema: 'Schema of the es_* tables (the gateway reads them in its AUREN_GATEWAY_DB_SCHEMA); created by the migrations when missing.' }),
  ...dbPoolSizeField('AUREN_EVENT_STORE_', 'Most PostgreSQL connections of the instance (one append in flight per partition).', 1),
  AUREN_EVENT_STORE_FLUSH_MAX_RECORDS: int(5_000, 1, 1_000_000).meta({ unit: 'records', description: 'Append a partition buffer holding this many events in one transaction.' }),
  AUREN_EVENT_STORE_FLUSH_MAX_BYTES: int(16 * 1024 * 1024, 1024).meta({ unit: 'bytes', description: 'Append a partition buffer holding this many bytes (JSON characters of the serialised events).' }),
  AUREN_EVENT_STORE_FLUSH_MAX_AGE_MS: int(1_000, 10).meta({ unit: 'ms', description: 'Append a partition buffer whose oldest event was taken this long ago (bounds how far catch-up readers trail the topic).' }),
}

/** Event-store configuration, compiled and frozen. */
export interface EventStoreConfig {
  readonly databaseUrl: string
  readonly dbSchema: string
  readonly dbPoolSize: number
  readonly flushMaxRecords: number
  readonly flushMaxBytes: number
  readonly flushMaxAgeMs: number
}

/** The event-store configuration ({@link defineEnvConfig}; `AUREN_EVENT_STORE_*` typos are errors). */
export const EVENT_STORE_CONFIG = defineEnvConfig({
  name: 'event-store',
  prefix: 'AUREN_EVENT_STORE_',
  fields,
  compile: (c): EventStoreConfig => ({
    databaseUrl: c.AUREN_DATABASE_URL,
    dbSchema: c.AUREN_EVENT_STORE_DB_SCHEMA,
    dbPoolSize: c.AUREN_EVENT_STORE_DB_POOL_SIZE,
    flushMaxRecords: c.AUREN_EVENT_STORE_FLUSH_MAX_RECORDS,
    flushMaxBytes: c.AUREN_EVENT_STORE_FLUSH_MAX_BYTES,
    flushMaxAgeMs: c.AUREN_EVENT_STORE_FLUSH_MAX_AGE_MS,
  }),
})

/**
 * Parses the event-store variables of `env`. Empty strings count as unset.
 * @throws AurenError AUREN_ERR_CONFIG listing every problem, one per line, each naming its variable
 */
export function parseEventStoreConfig(env: Record<string, string | undefined>): EventStoreConfig {
  return EVENT_STORE_CONFIG.parse(env)
}

/** One row per variable: name, unit, default and description, for the README. */
export function describeEventStoreConfig(): ConfigRow[] {
  return EVENT_STORE_CONFIG.describe()
}
