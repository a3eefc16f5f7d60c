/**
 * The event time an idle partition of the alerting app follows: the watermark of the partitions
 * this instance owns that still receive records.
 *
 * Each input partition keeps its own event-time clock (the engine's: the highest event time of
 * its records), and its own records alone move it while they flow, so a partition's alerts do
 * not depend on how its records interleave with other partitions' in fetch batches. A partition
 * with no record for the idle timeout (processing time) no longer moves by itself: its absence
 * and resolution timers would never fire. It then follows the watermark of the active
 * partitions of the same input topic = the lowest clock among the partitions whose last record
 * is younger than the idle timeout (an idle partition does not hold the watermark back, as in
 * the aggregation's group watermark, processors/aggregation/tumbling-window.ts). Only when every
 * partition of the input is idle does time go on by processing time (the traffic stopped).
 *
 * Why the lowest active clock: a replay publishes history in event-time order, so an idle
 * partition's next record is not older than what the other partitions have already delivered;
 * its timers fire at their own due times (engine.ts evaluates each at its due time), whatever
 * the steps the clock is moved in. A replay therefore fires the same absences and resolutions
 * at the same event times every time, instead of after so many seconds of wall-clock idleness.
 *
 * The registry is in memory, per instance and definition: a partition is entered on each of its
 * punctuation ticks; a revoked partition stops ticking, its entry goes idle after the timeout
 * and no longer counts.
 */
import type { PartitionRef } from '../runtime/context.ts'

/** What the registry knows of one partition, as of its last tick. */
interface PartitionClock {
  readonly input: string
  /** The partition's event-time clock, epoch ms (null before any input). */
  readonly clockMs: number | null
  /** Processing time of its last record on this instance, epoch ms (null: none since assignment). */
  readonly lastRecordAtMs: number | null
}

/** Clocks of the partitions this instance owns, and the watermark of the active ones. */
export class IdleWatermark {
  private readonly partitions = new Map<string, PartitionClock>()

  /**
   * @param idleTimeoutMs processing time without records after which a partition is idle, ms
   *   (> 0; with 0 idle handling is off and nothing here is used)
   */
  constructor(private readonly idleTimeoutMs: number) {}

  /** Records a partition's event-time clock (ms) and the processing time of its last record (ms). */
  observe(ref: PartitionRef, clockMs: number | null, lastRecordAtMs: number | null): void {
    this.partitions.set(`${ref.topic}\u0000${ref.partition}`, { input: ref.input, clockMs, lastRecordAtMs })
  }

  /** Whether a partition whose last record was handled at `lastRecordAtMs` is idle at `nowMs` (ms). */
  isIdle(lastRecordAtMs: number | null, nowMs: number): boolean {
    return lastRecordAtMs === null || nowMs - lastRecordAtMs >= this.idleTimeoutMs
  }

  /**
   * The lowest clock (epoch ms) among the partitions of `input` (contract topic key) that are
   * active at `nowMs` (a record within the idle timeout, a clock known); null when none is.
   */
  activeWatermark(input: string, nowMs: number): number | null {
    let min: number | null = null
    for (const p of this.partitions.values()) {
      if (p.input !== input || p.clockMs === null || this.isIdle(p.lastRecordAtMs, nowMs)) continue
      if (min === null || p.clockMs < min) min = p.clockMs
    }
    return min
  }
}
