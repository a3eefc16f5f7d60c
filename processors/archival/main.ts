/**
 * Archival app: `node --import tsx processors/archival/main.ts`. Runs the migrations, then
 * consumes the enriched topic (and the alerts topic) into Parquet objects on the S3 store through
 * the runtime's buffered sink (flush by records, bytes and age;
 * the position is committed only after the flush's uploads were acknowledged and its manifest
 * transaction committed). In the background it compacts closed hours and sweeps retention.
 * Configuration: runtime/ops/config.ts plus ./config.ts (AUREN_ARCHIVAL_*, AUREN_S3_*).
 */
import { runProcessorApp } from '../runtime/app.ts'
import { createPgPool } from '../runtime/sinks/postgres.ts'
import { createBufferedSink } from '../runtime/sinks/buffered-sink.ts'
import { rowBytes, type ArchiveOutput } from './archive-row.ts'
import { parseArchivalConfig } from './config.ts'
import { archivalDefinition } from './definition.ts'
import { createArchiveWriter } from './io/archive-writer.ts'
import { startMaintenance } from './io/maintenance.ts'
import { runArchiveMigrations } from './io/migrate.ts'
import { createObjectStore } from './io/s3-store.ts'
import { createParquetEncoder } from './io/parquet-encoder.ts'
import { createArchivalMetrics, recordFlush } from './metrics.ts'

let stopMaintenance: (() => Promise<void>) | undefined
await runProcessorApp({
  name: 'auren-archival',
  parseAppConfig: parseArchivalConfig,
  build: async ({ appConfig: c, registry, log }) => {
    log.info({ applied: await runArchiveMigrations(c.databaseUrl, c.dbSchema), schema: c.dbSchema }, 'migrations up to date')
    // The runtime's pool: every client keeps an 'error' listener, checked out or idle (postgres.ts).
    const pool = createPgPool({ url: c.databaseUrl, max: 8, schema: c.dbSchema, log })
    const store = createObjectStore(c.s3)
    // Parquet encoding runs on a worker thread while the main thread decodes the next records.
    const encoder = c.parquetWorker ? createParquetEncoder() : undefined
    const writer = createArchiveWriter({ pool, store, rowGroupRows: c.rowGroupRows, encode: encoder?.encode })
    const metrics = createArchivalMetrics(registry)
    const sink = createBufferedSink<ArchiveOutput>({
      maxRecords: c.flushMaxRecords,
      maxBytes: c.flushMaxBytes,
      maxAgeMs: c.flushMaxAgeMs,
      sizeOf: (o) => rowBytes(o.row),
      // The next records are decoded and buffered while a flush encodes, uploads and commits.
      overlap: true,
      flush: async ({ topic, partition, records, reason }) => {
        const r = await writer.flush(topic, partition, records)
        recordFlush(metrics, topic, r)
        log.debug({ topic, partition, reason, rows: r.rows, objects: r.objects.length, redelivered: r.redelivered }, 'flushed')
      },
    })
    stopMaintenance = startMaintenance({ pool, store, config: c, metrics, log })
    // Closed after the drain: the last flushes of a clean stop still encode.
    return { definition: archivalDefinition(sink, { alerts: c.archiveAlerts }), closers: encoder ? [() => encoder.close()] : [] }
  },
  background: async () => async () => {
    await stopMaintenance?.()
  },
})
