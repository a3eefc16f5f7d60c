/**
 * Object keys of the archive (pure). A key is a function of the hive partition, the input
 * topic and partition, and the FIRST offset of the flushed batch only:
 *
 *   events/date=2026-11-30/hour=05/tier=critical/auren.agent-events.enriched.v1+p3+o000000000000001200.parquet
 *
 * so a redelivered batch (same partition, same first offset) overwrites its own earlier objects
 * instead of adding new ones. The offset range a key covers is in the manifest
 * (manifest.ts), not in the key, because a redelivered batch may end elsewhere. Compacted
 * objects are named `compacted-<hash of their inputs>.parquet` in the same folder.
 */
import { createHash } from 'node:crypto'
import type { ArchivePartition } from './archive-row.ts'

/** Top folder of archived rows. */
export const EVENTS_PREFIX = 'events/'

/** Offsets are zero-padded to 18 digits so keys sort by offset. */
const OFFSET_DIGITS = 18

/** `events/date=YYYY-MM-DD/hour=HH/tier=<tier>/` */
export function partitionPrefix(p: ArchivePartition): string {
  return `${EVENTS_PREFIX}date=${p.date}/hour=${String(p.hour).padStart(2, '0')}/tier=${p.tier}/`
}

/** Key of the object holding the rows of `p` from a batch of `topic`/`partition` starting at `firstOffset`. */
export function batchObjectKey(p: ArchivePartition, topic: string, partition: number, firstOffset: string): string {
  if (!/^\d+$/.test(firstOffset)) throw new Error(`invalid offset ${JSON.stringify(firstOffset)}`)
  return `${partitionPrefix(p)}${topic}+p${partition}+o${firstOffset.padStart(OFFSET_DIGITS, '0')}.parquet`
}

/** Key of the compacted object replacing `inputs` (sorted first, so the same inputs give the same key). */
export function compactedObjectKey(p: ArchivePartition, inputs: readonly string[]): string {
  const h = createHash('sha256').update([...inputs].sort().join('\n')).digest('hex').slice(0, 16)
  return `${partitionPrefix(p)}compacted-${h}.parquet`
}

/** The hive partition a key lies in, or null for a key outside `events/`. */
export function parseObjectKey(key: string): ArchivePartition | null {
  const m = /^events\/date=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\/tier=(critical|operational|analytical)\/[^/]+\.parquet$/.exec(key)
  if (!m) return null
  return { date: m[1]!, hour: Number(m[2]), tier: m[3] as ArchivePartition['tier'] }
}

/** Start of the hour of a partition, ms since the epoch (UTC). */
export function hourStartMs(p: Pick<ArchivePartition, 'date' | 'hour'>): number {
  return Date.parse(`${p.date}T${String(p.hour).padStart(2, '0')}:00:00Z`)
}
