/**
 * Event-store app: `node --import tsx processors/event-store/main.ts`. Runs the migrations, then
 * consumes the enriched topic (consumer group `auren.event-store`) into the PostgreSQL event store
 * through the runtime's buffered sink: per partition, the events buffered since the last append go
 * in one transaction (io/event-store.ts appendIdempotent) while the next records are decoded; the
 * position is committed to Kafka only after that transaction committed.
 * Configuration: runtime/ops/config.ts plus ./config.ts (AUREN_EVENT_STORE_*).
 */
import { runProcessorApp } from '../runtime/app.ts'
import { createPgPool, inTransaction } from '../runtime/sinks/postgres.ts'
import { createBufferedSink } from '../runtime/sinks/buffered-sink.ts'
import { parseEventStoreConfig } from './config.ts'
import { eventStoreDefinition } from './definition.ts'
import { appendIdempotentJson } from './io/event-store.ts'
import { runEventStoreMigrations } from './io/migrate.ts'
import { createEventStoreMetrics, recordAppend } from './metrics.ts'

await runProcessorApp({
  name: 'auren-event-store',
  parseAppConfig: parseEventStoreConfig,
  build: async ({ appConfig: c, registry, log }) => {
    log.info({ applied: await runEventStoreMigrations(c.databaseUrl, c.dbSchema), schema: c.dbSchema }, 'migrations up to date')
    const pool = createPgPool({ url: c.databaseUrl, max: c.dbPoolSize, schema: c.dbSchema, log })
    const metrics = createEventStoreMetrics(registry)
    const sink = createBufferedSink<string>({
      maxRecords: c.flushMaxRecords,
      maxBytes: c.flushMaxBytes,
      maxAgeMs: c.flushMaxAgeMs,
      sizeOf: (json) => json.length,
      // The next records are decoded and buffered while an append commits; a partition whose
      // consumer caught up appends at once (catch-up readers trail the log by one append).
      overlap: true,
      flushWhenCaughtUp: true,
      flush: async ({ topic, partition, records, reason }) => {
        const t0 = performance.now()
        const appended = await inTransaction(pool, 'event store append', (client) => appendIdempotentJson(client, records.map((r) => r.value)))
        recordAppend(metrics, records.length, appended, (performance.now() - t0) / 1000)
        log.debug({ topic, partition, reason, events: records.length, appended }, 'appended')
      },
    })
    return { definition: eventStoreDefinition(sink), closers: [() => pool.end()] }
  },
})
