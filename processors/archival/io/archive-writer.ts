/**
 * The flush of the archival processor: one input partition's buffered records → Parquet objects
 * in the bucket → one PostgreSQL transaction that records them in the manifest and moves the
 * partition's archived position.
 *
 * Lossless and idempotent, whatever crashes or rebalances happen:
 * 1. A session advisory lock per (topic, partition) serialises flushes of one partition across
 *    instances (kafkajs has no fencing of a zombie that still holds a revoked partition); a
 *    SIGKILLed holder's lock goes with its connection.
 * 2. Records below the partition's `archive_partitions.next_offset` are archived already (a
 *    redelivery after a crash between the manifest commit and the Kafka commit) and are dropped.
 * 3. The objects are uploaded under keys made of hive partition, topic, partition and the first
 *    remaining offset; an attempt that crashed before step 4 left objects under the same keys
 *    (overwritten now) or under keys of hive partitions this attempt does not write (orphans: not
 *    in the manifest, so never read, and deleted by the sweeper after the grace period).
 * 4. Only after every upload is acknowledged (they run concurrently), one transaction inserts
 *    the objects (live) and the batch's offset range and sets next_offset past the last record.
 *    The caller (the buffered sink) then lets the runner commit to Kafka.
 * So each input offset is in exactly one live object.
 */
import { createHash } from 'node:crypto'
import type pg from 'pg'
import { partitionOf, type ArchiveOutput, type ArchivePartition, type ArchiveRow } from '../archive-row.ts'
import { batchObjectKey } from '../object-key.ts'
import { writeParquet } from '../parquet-writer.ts'
import type { ParquetEncode } from './parquet-encoder.ts'
import type { ObjectStore } from './s3-store.ts'

/** One buffered record: the transform's output and its input offset. */
export interface FlushRecord {
  readonly value: ArchiveOutput
  /** Input offset, Kafka's decimal string. */
  readonly offset: string
}

/** One object a flush wrote. */
export interface WrittenObject {
  readonly key: string
  readonly tier: ArchivePartition['tier']
  readonly rows: number
  readonly bytes: number
  readonly uploadSeconds: number
}

/** What a committed flush did. */
export interface FlushResult {
  readonly objects: readonly WrittenObject[]
  /** Records written (after dropping redelivered ones). */
  readonly rows: number
  /** Records dropped because the manifest had their offset already. */
  readonly redelivered: number
  /** Newest event time written, epoch µs; null when nothing was written. */
  readonly maxEventUs: number | null
  /** Whole flush, seconds. */
  readonly seconds: number
}

/** Options of {@link createArchiveWriter}. */
export interface ArchiveWriterOptions {
  /** Pool whose connections use the manifest's schema (search_path). */
  readonly pool: pg.Pool
  readonly store: ObjectStore
  /** Maximum rows per Parquet row group. */
  readonly rowGroupRows?: number
  /**
   * Encodes one object's rows (default: writeParquet on the calling thread; the app passes
   * io/parquet-encoder.ts, a worker thread).
   */
  readonly encode?: ParquetEncode
}

/** Flushes partition batches (module doc). */
export interface ArchiveWriter {
  /**
   * Archives `records` (in offset order) of one input partition.
   * @throws on upload or database errors; nothing is recorded then (the caller retries from
   *   the last committed offset)
   */
  flush(topic: string, partition: number, records: readonly FlushRecord[]): Promise<FlushResult>
  /** Next offset to archive per partition of `topic` (partitions never flushed are absent). */
  storedOffsets(topic: string, partitions: readonly number[]): Promise<Map<number, string>>
}

/** Microseconds per hour: rows of one tier in one event hour share a hive partition. */
const US_PER_HOUR = 3_600_000_000

/** Lock class of the per-partition flush lock (first key of the two-key advisory lock). */
const FLUSH_LOCK_CLASS = 0x41_52_43 // 'ARC'

/** Second advisory lock key: 31 bits of a hash of topic and partition. */
function flushLockKey(topic: string, partition: number): number {
  return createHash('sha256').update(`${topic}\u0000${partition}`).digest().readInt32BE(0)
}

/** Creates the writer (module doc). */
export function createArchiveWriter(opts: ArchiveWriterOptions): ArchiveWriter {
  const { pool, store } = opts
  const encode: ParquetEncode = opts.encode ?? (async (rows, o) => writeParquet(rows, o))

  async function upload(key: string, body: Uint8Array): Promise<number> {
    const t0 = performance.now()
    await store.put(key, body)
    return (performance.now() - t0) / 1000
  }

  return {
    async storedOffsets(topic, partitions) {
      const r = await pool.query<{ partition: number; next_offset: string }>(
        'SELECT "partition", next_offset::text FROM archive_partitions WHERE topic = $1 AND "partition" = ANY($2::int[])',
        [topic, partitions],
      )
      return new Map(r.rows.map((x) => [x.partition, x.next_offset]))
    },

    async flush(topic, partition, records) {
      const t0 = performance.now()
      const client = await pool.connect()
      const lockKey = flushLockKey(topic, partition)
      let locked = false
      try {
        await client.query('SELECT pg_advisory_lock($1, $2)', [FLUSH_LOCK_CLASS, lockKey])
        locked = true
        const pos = await client.query<{ next_offset: string }>(
          'SELECT next_offset::text FROM archive_partitions WHERE topic = $1 AND "partition" = $2',
          [topic, partition],
        )
        const next = BigInt(pos.rows[0]?.next_offset ?? '0')
        const fresh = records.filter((r) => BigInt(r.offset) >= next)
        const redelivered = records.length - fresh.length
        if (fresh.length === 0) {
          return { objects: [], rows: 0, redelivered, maxEventUs: null, seconds: (performance.now() - t0) / 1000 }
        }
        const first = fresh[0]!.offset
        const last = fresh.at(-1)!.offset

        // Group by hive partition (one per tier and event hour), in offset order within each object.
        const groups = new Map<string, { key: string; p: ArchivePartition; rows: ArchiveRow[]; minUs: number; maxUs: number }>()
        for (const r of fresh) {
          // The row's source columns are this record's coordinates, whatever the transform put there.
          const row = { ...r.value.row, source_topic: topic, source_partition: partition, source_offset: BigInt(r.offset) }
          const slot = `${Math.floor(row.event_time / US_PER_HOUR)}\u0000${row.tier}`
          let g = groups.get(slot)
          if (!g) {
            const p = partitionOf(row)
            groups.set(slot, (g = { key: batchObjectKey(p, topic, partition, first), p, rows: [], minUs: Infinity, maxUs: -Infinity }))
          }
          g.rows.push(row)
          if (row.event_time < g.minUs) g.minUs = row.event_time
          if (row.event_time > g.maxUs) g.maxUs = row.event_time
        }
        // Each object uploads as soon as it is encoded; the uploads overlap.
        const objects: (WrittenObject & { p: ArchivePartition; minUs: number; maxUs: number })[] = await Promise.all(
          [...groups.values()].map(async (g) => {
            const body = await encode(g.rows, { rowGroupRows: opts.rowGroupRows })
            return { key: g.key, tier: g.p.tier, rows: g.rows.length, bytes: body.byteLength, uploadSeconds: await upload(g.key, body), p: g.p, minUs: g.minUs, maxUs: g.maxUs }
          }),
        )

        await client.query('BEGIN')
        try {
          await client.query(
            `INSERT INTO archive_objects (key, date, hour, tier, kind, rows, bytes, min_event_time, max_event_time)
             SELECT key, date::date, hour, tier, 'batch', rows, bytes, to_timestamp(min_us / 1e6), to_timestamp(max_us / 1e6)
               FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::int[], $6::bigint[], $7::double precision[], $8::double precision[])
                 AS t(key, date, hour, tier, rows, bytes, min_us, max_us)`,
            [
              objects.map((o) => o.key), objects.map((o) => o.p.date), objects.map((o) => o.p.hour), objects.map((o) => o.p.tier),
              objects.map((o) => o.rows), objects.map((o) => o.bytes), objects.map((o) => o.minUs), objects.map((o) => o.maxUs),
            ],
          )
          await client.query(
            `INSERT INTO archive_batches (topic, "partition", first_offset, next_offset, rows, object_keys)
             VALUES ($1, $2, $3, $4::bigint + 1, $5, $6)`,
            [topic, partition, first, last, fresh.length, objects.map((o) => o.key)],
          )
          await client.query(
            `INSERT INTO archive_partitions (topic, "partition", next_offset) VALUES ($1, $2, $3::bigint + 1)
             ON CONFLICT (topic, "partition") DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now()`,
            [topic, partition, last],
          )
          await client.query('COMMIT')
        } catch (err) {
          await client.query('ROLLBACK').catch(() => {})
          throw err
        }
        const maxEventUs = Math.max(...objects.map((o) => o.maxUs))
        return {
          objects: objects.map(({ key, tier, rows, bytes, uploadSeconds }) => ({ key, tier, rows, bytes, uploadSeconds })),
          rows: fresh.length,
          redelivered,
          maxEventUs,
          seconds: (performance.now() - t0) / 1000,
        }
      } finally {
        if (locked) await client.query('SELECT pg_advisory_unlock($1, $2)', [FLUSH_LOCK_CLASS, lockKey]).catch(() => {})
        client.release()
      }
    },
  }
}
