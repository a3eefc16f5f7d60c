/**
 * Archival's domain metrics (README.md "Metrics"). Recorded after the manifest transaction of a
 * flush committed (so a failed or redelivered flush is not counted), or after a sweep or
 * compaction round. Labels: tier and outcome only (bounded sets).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { FlushResult } from './io/archive-writer.ts'

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
const ROWS = [1, 10, 50, 100, 500, 1_000, 5_000, 10_000, 50_000, 100_000, 500_000]

/** The metric objects; every name is in README.md's metrics table. */
export interface ArchivalMetrics {
  readonly objectsWritten: Counter<'tier'>
  readonly bytesWritten: Counter<'tier'>
  readonly rowsPerObject: Histogram
  readonly flushDuration: Histogram
  readonly uploadDuration: Histogram
  readonly redelivered: Counter
  readonly newestArchivedEventSeconds: Gauge<'topic'>
  readonly archiveLag: Gauge<'topic'>
  readonly retentionDeletedObjects: Counter<'tier'>
  readonly retentionDeletedBytes: Counter<'tier'>
  readonly compactions: Counter
  /** Moves auren_archive_newest_event_timestamp_seconds{topic} (and the lag) forward to `us` (epoch µs). */
  readonly observeNewestEvent: (topic: string, us: number) => void
}

/** Registers the archival metrics on `registry` (once per registry). */
export function createArchivalMetrics(registry: Registry): ArchivalMetrics {
  const registers = [registry]
  // Per input topic; a topic appears only once something of it was archived (no made-up 0).
  const newestUs = new Map<string, number>()
  const newest = new Gauge({ name: 'auren_archive_newest_event_timestamp_seconds', help: 'Event time of the newest archived record, Unix seconds, per input topic', labelNames: ['topic'], registers })
  return {
    objectsWritten: new Counter({ name: 'auren_archive_objects_written_total', help: 'Parquet objects uploaded and recorded in the manifest', labelNames: ['tier'], registers }),
    bytesWritten: new Counter({ name: 'auren_archive_bytes_written_total', help: 'Bytes of Parquet objects uploaded and recorded in the manifest', labelNames: ['tier'], registers }),
    rowsPerObject: new Histogram({ name: 'auren_archive_rows_per_object', help: 'Rows per Parquet object written by a flush', buckets: ROWS, registers }),
    flushDuration: new Histogram({ name: 'auren_archive_flush_duration_seconds', help: 'Whole flush: encode, upload and manifest transaction, seconds', buckets: SECONDS, registers }),
    uploadDuration: new Histogram({ name: 'auren_archive_upload_duration_seconds', help: 'Upload of one object until the store acknowledged it, seconds', buckets: SECONDS, registers }),
    redelivered: new Counter({ name: 'auren_archive_redelivered_records_total', help: 'Records dropped from a flush because the manifest holds their offset already (redelivery)', registers }),
    newestArchivedEventSeconds: newest,
    archiveLag: new Gauge({
      name: 'auren_archive_lag_seconds',
      help: 'Now minus the event time of the newest archived record, seconds, per input topic (absent until the first flush)',
      labelNames: ['topic'],
      registers,
      collect() {
        for (const [topic, us] of newestUs) this.set({ topic }, Date.now() / 1000 - us / 1e6)
      },
    }),
    retentionDeletedObjects: new Counter({ name: 'auren_archive_retention_deleted_objects_total', help: 'Objects deleted by the retention sweeper', labelNames: ['tier'], registers }),
    retentionDeletedBytes: new Counter({ name: 'auren_archive_retention_deleted_bytes_total', help: 'Bytes deleted by the retention sweeper', labelNames: ['tier'], registers }),
    compactions: new Counter({ name: 'auren_archive_compactions_total', help: 'Closed hour partitions whose objects were merged into one', registers }),
    observeNewestEvent(topic, us) {
      const prev = newestUs.get(topic)
      if (prev !== undefined && prev >= us) return
      newestUs.set(topic, us)
      newest.set({ topic }, us / 1e6)
    },
  }
}

/** Records a committed flush. */
export function recordFlush(m: ArchivalMetrics, topic: string, r: FlushResult): void {
  for (const o of r.objects) {
    m.objectsWritten.inc({ tier: o.tier })
    m.bytesWritten.inc({ tier: o.tier }, o.bytes)
    m.rowsPerObject.observe(o.rows)
    m.uploadDuration.observe(o.uploadSeconds)
  }
  if (r.redelivered > 0) m.redelivered.inc(r.redelivered)
  m.flushDuration.observe(r.seconds)
  if (r.maxEventUs !== null) m.observeNewestEvent(topic, r.maxEventUs)
}
