/**
 * Reads of the archive manifest (migrations/…_archive-manifest.sql): the live objects that make
 * up the archive, the retired ones waiting for deletion, and the archived offset ranges.
 */
import type pg from 'pg'
import type { Tier } from '../../../schemas/index.ts'

/** One object row of the manifest. */
export interface ManifestObject {
  readonly key: string
  /** YYYY-MM-DD (UTC). */
  readonly date: string
  readonly hour: number
  readonly tier: Tier
  readonly kind: 'batch' | 'compacted'
  readonly rows: number
  readonly bytes: number
  readonly state: 'live' | 'superseded' | 'expired'
  /** When it stopped being live (superseded or expired), or null. */
  readonly retiredAt: Date | null
  /** Newest event time in it, ms since the epoch. */
  readonly maxEventMs: number
}

/** An archived offset range of one partition: [firstOffset, nextOffset). */
export interface ArchivedRange {
  readonly topic: string
  readonly partition: number
  readonly firstOffset: string
  readonly nextOffset: string
  readonly rows: number
}

type Row = { key: string; date: string; hour: number; tier: Tier; kind: 'batch' | 'compacted'; rows: number; bytes: string; state: ManifestObject['state']; retired_at: Date | null; max_ms: number }
const SELECT = `SELECT key, to_char(date, 'YYYY-MM-DD') AS date, hour, tier, kind, rows, bytes::text, state, retired_at,
                       extract(epoch FROM max_event_time) * 1000 AS max_ms FROM archive_objects`
const toObject = (r: Row): ManifestObject => ({
  key: r.key, date: r.date, hour: r.hour, tier: r.tier, kind: r.kind, rows: r.rows, bytes: Number(r.bytes),
  state: r.state, retiredAt: r.retired_at, maxEventMs: Number(r.max_ms),
})

/** The live objects in key order: the archive as readers must see it (one consistent snapshot). */
export async function liveObjects(db: pg.Pool | pg.ClientBase): Promise<ManifestObject[]> {
  const r = await db.query<Row>(`${SELECT} WHERE state = 'live' ORDER BY key`)
  return r.rows.map(toObject)
}

/** Objects no longer live (superseded by a compaction, or expired) still listed, oldest first. */
export async function retiredObjects(db: pg.Pool | pg.ClientBase): Promise<ManifestObject[]> {
  const r = await db.query<Row>(`${SELECT} WHERE state <> 'live' ORDER BY retired_at`)
  return r.rows.map(toObject)
}

/** Every key the manifest knows (live or retired). */
export async function knownKeys(db: pg.Pool | pg.ClientBase): Promise<Set<string>> {
  const r = await db.query<{ key: string }>('SELECT key FROM archive_objects')
  return new Set(r.rows.map((x) => x.key))
}

/** Archived offset ranges, per topic and partition in offset order. */
export async function archivedRanges(db: pg.Pool | pg.ClientBase): Promise<ArchivedRange[]> {
  const r = await db.query<{ topic: string; partition: number; first_offset: string; next_offset: string; rows: number }>(
    'SELECT topic, "partition", first_offset::text, next_offset::text, rows FROM archive_batches ORDER BY topic, "partition", first_offset',
  )
  return r.rows.map((x) => ({ topic: x.topic, partition: x.partition, firstOffset: x.first_offset, nextOffset: x.next_offset, rows: x.rows }))
}
