/**
 * Compaction of closed hour partitions: their live objects are merged into one
 * `compacted-<hash of the inputs>.parquet`, with no moment at which a reader sees an event twice
 * or not at all, because readers take the set of objects from the manifest (one snapshot, one
 * SELECT) and the manifest switches from the inputs to the merged object in ONE transaction:
 *
 * 1. read the inputs, merge, upload the merged object (not in the manifest yet: invisible);
 * 2. in one transaction, lock the inputs' rows and check they are all still live (a concurrent
 *    compaction or sweep changed nothing), insert the merged object as live and mark the inputs
 *    superseded; otherwise roll back (the upload becomes an orphan, removed by the sweeper);
 * 3. the inputs stay in the bucket for the grace period (a reader that took the old snapshot can
 *    still read them), then the sweeper deletes them.
 *
 * Idempotent: the merged key is a function of the inputs, so a rerun after a crash before step 2
 * overwrites the same object; after step 2 the hour has one live object and is left alone.
 */
import type pg from 'pg'
import { compactedObjectKey } from '../object-key.ts'
import { mergeParquet } from '../parquet-writer.ts'
import { planCompaction, type CompactionGroup } from '../retention-plan.ts'
import { liveObjects, type ManifestObject } from './manifest.ts'
import type { ObjectStore } from './s3-store.ts'

/** One merged hour partition. */
export interface CompactionResult {
  readonly key: string
  readonly inputs: readonly string[]
  readonly rows: number
  readonly bytes: number
  /** False when the manifest changed meanwhile and the merge was not recorded. */
  readonly committed: boolean
}

/**
 * Merges one hour partition (module doc).
 * @throws on store or database errors (nothing recorded; a rerun redoes it)
 */
export async function compactGroup(pool: pg.Pool, store: ObjectStore, group: CompactionGroup<ManifestObject>, rowGroupRows?: number): Promise<CompactionResult> {
  const inputs = group.inputs.map((o) => o.key)
  const key = compactedObjectKey(group, inputs)
  const parts: Uint8Array[] = []
  for (const k of inputs) parts.push(await store.get(k))
  const merged = mergeParquet(parts, { rowGroupRows })
  await store.put(key, merged.bytes)
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    const live = await client.query<{ n: number; min_t: Date; max_t: Date; rows: string }>(
      `SELECT count(*)::int AS n, min(min_event_time) AS min_t, max(max_event_time) AS max_t, sum(rows)::text AS rows
         FROM (SELECT * FROM archive_objects WHERE key = ANY($1::text[]) AND state = 'live' FOR UPDATE) o`,
      [inputs],
    )
    const row = live.rows[0]!
    if (row.n !== inputs.length || Number(row.rows) !== merged.rows) {
      await client.query('ROLLBACK')
      return { key, inputs, rows: merged.rows, bytes: merged.bytes.byteLength, committed: false }
    }
    await client.query(
      `INSERT INTO archive_objects (key, date, hour, tier, kind, rows, bytes, min_event_time, max_event_time)
       VALUES ($1, $2::date, $3, $4, 'compacted', $5, $6, $7, $8)`,
      [key, group.date, group.hour, group.tier, merged.rows, merged.bytes.byteLength, row.min_t, row.max_t],
    )
    await client.query(`UPDATE archive_objects SET state = 'superseded', retired_at = now() WHERE key = ANY($1::text[])`, [inputs])
    await client.query('COMMIT')
    return { key, inputs, rows: merged.rows, bytes: merged.bytes.byteLength, committed: true }
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {})
    throw err
  } finally {
    client.release()
  }
}

/**
 * One compaction round over every closed hour partition with more than one live object.
 * @param latenessMs how far behind the newest archived event an hour must end to count as closed
 */
export async function compactClosedHours(pool: pg.Pool, store: ObjectStore, latenessMs: number, rowGroupRows?: number): Promise<CompactionResult[]> {
  const groups = planCompaction(await liveObjects(pool), latenessMs)
  const out: CompactionResult[] = []
  for (const g of groups) out.push(await compactGroup(pool, store, g, rowGroupRows))
  return out
}
