/**
 * The event time an idle partition of the alerting app follows: the watermark of the partitions
 * this instance owns that still receive records.
 *
 * Each input partition keeps its own event-time clock (the engine's: the highest event time of
 * its records), and its own records alone move it while they flow, so a partition's alerts do
 * not depend on how its records interleave with other partitions' in fetch batches.
 *
 * Idle = caught up and quiet: a partition is idle when it has nothing left to read (its lag, as
 * last measured, is 0) and no record came for the idle timeout (processing time), or none since
 * assignment. A partition that is behind (lag > 0, or not measured yet) is never idle, however
 * long it waits for its turn to be fetched: after a restart with a backlog, or on a consumer
 * busy with other partitions, its records are on their way, and treating it as idle would let
 * the others' watermark pass its buckets (Kafka Streams `max.task.idle.ms` waits the same way
 * for a partition with data to fetch). An idle partition no longer moves by itself: its absence
 * and resolution timers would never fire. It then follows the watermark of the active
 * partitions of the same input topic = the lowest clock among the partitions not idle (an idle
 * partition does not hold the watermark back, as in the aggregation's group watermark,
 * processors/aggregation/tumbling-window.ts). Only when every partition of the input is idle
 * does time go on by processing time (the traffic stopped).
 *
 * Why the lowest active clock: a replay publishes history in event-time order, so an idle
 * partition's next record is not older than what the other partitions have already delivered;
 * its timers fire at their own due times (engine.ts evaluates each at its due time), whatever
 * the steps the clock is moved in. A replay therefore fires the same absences and resolutions
 * at the same event times every time, instead of after so many seconds of wall-clock idleness.
 *
 * The registry is in memory, per instance and definition: a partition is entered on each of its
 * punctuation ticks; a revoked partition stops ticking, and an entry not renewed for the idle
 * timeout no longer counts, whatever its lag.
 */
import type { PartitionRef } from '../runtime/context.ts'

/** What the registry knows of one partition, as of its last tick. */
interface PartitionClock {
  readonly input: string
  /** The partition's event-time clock, epoch ms (null before any input). */
  readonly clockMs: number | null
  /** Whether it was idle at its last tick ({@link IdleWatermark.isIdle}). */
  readonly idle: boolean
  /** Processing time of that tick, epoch ms. */
  readonly observedAtMs: number
}

/** What a tick knows of its partition's input: when its last record came and how far behind it is. */
export interface SourceActivity {
  /** Processing time of its last record on this instance, epoch ms (null: none since assignment). */
  readonly lastRecordAtMs: number | null
  /** Records left to read, as last measured (null: not measured since assignment); runtime context.ts `lagRecords`. */
  readonly lagRecords: number | null
}

/** Clocks of the partitions this instance owns, and the watermark of the active ones. */
export class IdleWatermark {
  private readonly partitions = new Map<string, PartitionClock>()

  /**
   * @param idleTimeoutMs processing time without records after which a caught-up partition is
   *   idle, ms (> 0; with 0 idle handling is off and nothing here is used)
   */
  constructor(private readonly idleTimeoutMs: number) {}

  /**
   * Records a partition's event-time clock (ms) at a tick at processing time `nowMs` (ms).
   * @returns whether the partition is idle ({@link isIdle})
   */
  observe(ref: PartitionRef, clockMs: number | null, activity: SourceActivity, nowMs: number): boolean {
    const idle = this.isIdle(activity, nowMs)
    this.partitions.set(`${ref.topic}\u0000${ref.partition}`, { input: ref.input, clockMs, idle, observedAtMs: nowMs })
    return idle
  }

  /** Whether a partition is idle at `nowMs` (ms): nothing left to read, and no record for the idle timeout or none since assignment (module doc). */
  isIdle(a: SourceActivity, nowMs: number): boolean {
    if (a.lagRecords !== 0) return false
    return a.lastRecordAtMs === null || nowMs - a.lastRecordAtMs >= this.idleTimeoutMs
  }

  /**
   * The lowest clock (epoch ms) among the partitions of `input` (contract topic key) that were
   * not idle at their last tick, that tick within the idle timeout before `nowMs`, and whose
   * clock is known; null when there is none.
   */
  activeWatermark(input: string, nowMs: number): number | null {
    let min: number | null = null
    for (const p of this.partitions.values()) {
      if (p.input !== input || p.clockMs === null || p.idle || nowMs - p.observedAtMs >= this.idleTimeoutMs) continue
      if (min === null || p.clockMs < min) min = p.clockMs
    }
    return min
  }
}
