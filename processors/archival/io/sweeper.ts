/**
 * The retention sweeper: deletes whole objects past their tier's retention (retention-plan.ts),
 * compaction inputs whose grace period ended, and orphans (bucket objects the manifest does not
 * know, left by a crashed flush or compaction). An expired object leaves the manifest first (one
 * transaction), then the bucket, then its manifest row goes. `dryRun` only reports.
 */
import type pg from 'pg'
import { planSweep, type RetentionPolicy } from '../retention-plan.ts'
import type { ManifestObject } from './manifest.ts'
import { EVENTS_PREFIX } from '../object-key.ts'
import type { ObjectStore } from './s3-store.ts'

/** One object the sweep deleted (or would delete). */
export interface SweptObject {
  readonly key: string
  readonly reason: 'retention' | 'superseded' | 'orphan'
  readonly tier: string | null
  readonly bytes: number
}

/** Options of {@link sweep}. */
export interface SweepOptions {
  readonly retention: RetentionPolicy
  /** Grace period of retired and unlisted objects, ms. */
  readonly graceMs: number
  readonly dryRun?: boolean
  /** Current time, ms (default Date.now()). */
  readonly nowMs?: number
}

/**
 * Runs one sweep.
 * @returns what was deleted (dry run: what would be)
 * @throws on store or database errors (a rerun finishes the job: every step is idempotent)
 */
export async function sweep(pool: pg.Pool, store: ObjectStore, opts: SweepOptions): Promise<SweptObject[]> {
  const objects = (await pool.query<{ key: string; date: string; hour: number; tier: ManifestObject['tier']; state: ManifestObject['state']; retired_at: Date | null; max_ms: number; bytes: string }>(
    `SELECT key, to_char(date, 'YYYY-MM-DD') AS date, hour, tier, state, retired_at, bytes::text,
            extract(epoch FROM max_event_time) * 1000 AS max_ms FROM archive_objects`,
  )).rows.map((r) => ({ key: r.key, date: r.date, hour: r.hour, tier: r.tier, state: r.state, retiredAt: r.retired_at, maxEventMs: Number(r.max_ms), bytes: Number(r.bytes) }))
  const listing = await store.list(EVENTS_PREFIX)
  const plan = planSweep({ objects, listing, nowMs: opts.nowMs ?? Date.now(), retention: opts.retention, graceMs: opts.graceMs })
  const out: SweptObject[] = [
    ...plan.expire.map((o) => ({ key: o.key, reason: 'retention' as const, tier: o.tier, bytes: o.bytes })),
    ...plan.purge.map((o) => ({ key: o.key, reason: 'superseded' as const, tier: o.tier, bytes: o.bytes })),
    ...plan.orphans.map((l) => ({ key: l.key, reason: 'orphan' as const, tier: null, bytes: l.size })),
  ]
  if (opts.dryRun || out.length === 0) return out
  const expired = plan.expire.map((o) => o.key)
  if (expired.length > 0) {
    await pool.query(`UPDATE archive_objects SET state = 'expired', retired_at = now() WHERE key = ANY($1::text[]) AND state = 'live'`, [expired])
  }
  await store.delete(out.map((o) => o.key))
  const rowsToDrop = [...expired, ...plan.purge.map((o) => o.key)]
  if (rowsToDrop.length > 0) await pool.query(`DELETE FROM archive_objects WHERE key = ANY($1::text[]) AND state <> 'live'`, [rowsToDrop])
  return out
}
