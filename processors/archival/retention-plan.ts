/**
 * Pure decisions of the sweeper (io/sweeper.ts) and of compaction (io/compaction.ts).
 *
 * Retention per tier, on event time: an object is expired once the END of its hour partition is
 * older than its tier's retention, so every event in it is past retention when it goes (seed
 * 003: critical 72 h, operational 24 h, analytical 6 h by default).
 */
import type { Tier } from '../../schemas/index.ts'
import { hourStartMs } from './object-key.ts'

const HOUR_MS = 3_600_000

/** Retention per tier, ms. */
export type RetentionPolicy = Readonly<Record<Tier, number>>

/** Seed 003's defaults: critical 72 h, operational 24 h, analytical 6 h. */
export const DEFAULT_RETENTION_MS: RetentionPolicy = Object.freeze({
  critical: 72 * HOUR_MS,
  operational: 24 * HOUR_MS,
  analytical: 6 * HOUR_MS,
})

/** What the planner needs of a manifest object. */
export interface PlannedObject {
  readonly key: string
  readonly date: string
  readonly hour: number
  readonly tier: Tier
  readonly state: 'live' | 'superseded' | 'expired'
  readonly retiredAt: Date | null
  readonly maxEventMs: number
}

/** What the planner needs of a bucket listing entry. */
export interface ListedObject {
  readonly key: string
  readonly lastModified: Date
}

/** A sweep's decisions. */
export interface SweepPlan<O extends PlannedObject, L extends ListedObject> {
  /** Live objects past their tier's retention: removed from the manifest, then deleted. */
  readonly expire: readonly O[]
  /** Retired objects (compaction inputs) whose grace period ended: deleted. */
  readonly purge: readonly O[]
  /** Bucket objects under events/ the manifest does not know, older than the grace period (left by a crashed flush or compaction). */
  readonly orphans: readonly L[]
}

/**
 * Plans a sweep.
 * @param nowMs current time, ms
 * @param graceMs how long a retired or unlisted object stays (readers holding an older manifest
 *   snapshot may still read it; a flush in progress has uploaded but not yet recorded it)
 */
export function planSweep<O extends PlannedObject, L extends ListedObject>(input: {
  readonly objects: readonly O[]
  readonly listing: readonly L[]
  readonly nowMs: number
  readonly retention: RetentionPolicy
  readonly graceMs: number
}): SweepPlan<O, L> {
  const { nowMs, retention, graceMs } = input
  const known = new Set(input.objects.map((o) => o.key))
  return {
    expire: input.objects.filter((o) => o.state === 'live' && hourStartMs(o) + HOUR_MS + retention[o.tier] <= nowMs),
    purge: input.objects.filter((o) => o.state !== 'live' && o.retiredAt !== null && o.retiredAt.getTime() + graceMs <= nowMs),
    orphans: input.listing.filter((l) => l.key.startsWith('events/') && !known.has(l.key) && l.lastModified.getTime() + graceMs <= nowMs),
  }
}

/** One hour partition to compact: its live objects, in key order. */
export interface CompactionGroup<O extends PlannedObject> {
  readonly date: string
  readonly hour: number
  readonly tier: Tier
  readonly inputs: readonly O[]
}

/**
 * Hour partitions that are closed and hold more than one live object. An hour is closed when its
 * end is at or before the watermark: the newest archived event time minus `latenessMs` (events
 * later than that for a closed hour still land, as a new object, and are merged by the next round).
 */
export function planCompaction<O extends PlannedObject>(live: readonly O[], latenessMs: number): CompactionGroup<O>[] {
  if (live.length === 0) return []
  const watermark = Math.max(...live.map((o) => o.maxEventMs)) - latenessMs
  const groups = new Map<string, CompactionGroup<O> & { inputs: O[] }>()
  for (const o of live) {
    if (o.state !== 'live' || hourStartMs(o) + HOUR_MS > watermark) continue
    const k = `${o.date}/${o.hour}/${o.tier}`
    let g = groups.get(k)
    if (!g) groups.set(k, (g = { date: o.date, hour: o.hour, tier: o.tier, inputs: [] }))
    g.inputs.push(o)
  }
  return [...groups.values()]
    .filter((g) => g.inputs.length > 1)
    .map((g) => ({ ...g, inputs: [...g.inputs].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)) }))
}
