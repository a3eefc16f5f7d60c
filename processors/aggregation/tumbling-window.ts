/**
 * Event-time tumbling windows, per-partition watermarks and the late-event policy. Pure.
 *
 * Windows: [start, start + size) in UTC epoch microseconds, start a multiple of the size
 * counted from the epoch (1 min by default, so windows start on whole UTC minutes).
 *
 * Watermark of a partition = (max event time seen in that partition) − allowed lateness. It is
 * a function of the partition's records in offset order only, so it is the same whichever
 * instance reads the partition and however the stream is cut into batches; its state
 * ({@link PartitionClock}) is stored with the partition's offset, in the same transaction as
 * the rollups, so it survives restarts exactly once.
 *
 * A window closes for a partition when that partition's watermark reaches its end. An event
 * whose window has closed in its partition is *late*. Policy (README "Late events"):
 * - an event within the allowed lateness updates its window normally: not late;
 * - a late event is still applied to every rollup (so totals stay exact), counted in
 *   `late_events` of its agent and window and in `auren_aggregation_late_events_total`, and
 *   the updated window is published again; for `auren.agent-metrics.v1` consumers the latest
 *   record per (agent_id, window_start) wins.
 * A window is published once the *group* watermark (the minimum over the partitions) passes its
 * end, i.e. when every partition has closed it; see {@link groupWatermarkUs}.
 */

/** Window size and allowed lateness, ms (config.ts: AUREN_AGGREGATION_WINDOW_MS, …_ALLOWED_LATENESS_MS). */
export interface WindowConfig {
  readonly windowMs: number
  readonly allowedLatenessMs: number
}

/** State of one partition's event clock: the max event time applied so far (µs), null before any. */
export interface PartitionClock {
  readonly maxEventUs: number | null
}

/** The clock of a partition that has seen nothing. */
export const EMPTY_CLOCK: PartitionClock = Object.freeze({ maxEventUs: null })

/** Start (µs, inclusive) of the window holding eventTimeUs; floor division, so also right before 1970. */
export function windowStartUs(eventTimeUs: number, windowMs: number): number {
  const size = windowMs * 1000
  return Math.floor(eventTimeUs / size) * size
}

/** End (µs, exclusive) of the window starting at startUs. */
export function windowEndUs(startUs: number, windowMs: number): number {
  return startUs + windowMs * 1000
}

/** Watermark of a partition clock (µs), or null when the partition has seen no event. */
export function watermarkUs(clock: PartitionClock, allowedLatenessMs: number): number | null {
  return clock.maxEventUs === null ? null : clock.maxEventUs - allowedLatenessMs * 1000
}

/** True when the window of eventTimeUs has already closed in a partition with this clock. */
export function isLate(eventTimeUs: number, clock: PartitionClock, config: WindowConfig): boolean {
  const wm = watermarkUs(clock, config.allowedLatenessMs)
  return wm !== null && windowEndUs(windowStartUs(eventTimeUs, config.windowMs), config.windowMs) <= wm
}

/** The clock after an event (max is monotone: an older event never moves it back). */
export function advanceClock(clock: PartitionClock, eventTimeUs: number): PartitionClock {
  return clock.maxEventUs !== null && clock.maxEventUs >= eventTimeUs ? clock : { maxEventUs: eventTimeUs }
}

/**
 * Classifies a partition's records in offset order: each is late or not against the clock of
 * the records before it, then advances the clock. Batch boundaries do not matter: classifying
 * [a, b] then [c] from the stored clock gives what classifying [a, b, c] gives.
 */
export function classifyInOrder(clock: PartitionClock, eventTimesUs: readonly number[], config: WindowConfig): { late: boolean[]; clock: PartitionClock } {
  const late: boolean[] = []
  let current = clock
  for (const t of eventTimesUs) {
    late.push(isLate(t, current, config))
    current = advanceClock(current, t)
  }
  return { late, clock: current }
}

/**
 * The watermark of a consumer group over its partitions: the minimum of the partitions'
 * watermarks, or null while any expected partition has seen nothing. Partitions never written
 * are unknown to the store; `expectedPartitions` (the topic's partition count) makes the group
 * wait for them; without it a partition that starts later re-opens windows already published
 * (they are published again, updated), which is correct but noisier.
 */
export function groupWatermarkUs(clocks: readonly PartitionClock[], config: WindowConfig, expectedPartitions = 0): number | null {
  if (clocks.length === 0 || clocks.length < expectedPartitions) return null
  let min: number | null = null
  for (const c of clocks) {
    const wm = watermarkUs(c, config.allowedLatenessMs)
    if (wm === null) return null
    if (min === null || wm < min) min = wm
  }
  return min
}

/**
 * The windows that close when a watermark moves from `fromUs` (exclusive; null = nothing closed
 * yet) to `toUs` (inclusive): those whose end e has fromUs < e ≤ toUs, given as the inclusive
 * range of their starts (µs; `firstStartUs` null = unbounded below). Null when none closes.
 */
export function closingWindows(fromUs: number | null, toUs: number, windowMs: number): { firstStartUs: number | null; lastStartUs: number } | null {
  const size = windowMs * 1000
  const lastStartUs = windowStartUs(toUs, windowMs) - size // the last window with end <= toUs
  const firstStartUs = fromUs === null ? null : windowStartUs(fromUs, windowMs) // the first with end > fromUs
  if (firstStartUs !== null && firstStartUs > lastStartUs) return null
  return { firstStartUs, lastStartUs }
}

/** A partition's clock with the processing time (epoch ms) of its last applied record (null: unknown) and whether it had caught up then (null: unknown, taken as caught up). */
export interface TimedPartitionClock extends PartitionClock {
  readonly lastRecordMs: number | null
  readonly caughtUp?: boolean | null
}

/**
 * The group watermark with an idle timeout (README "Idle partitions"): a partition that had caught
 * up with its log end at its last batch and has had no record for `idleTimeoutMs` of processing
 * time does not hold back the group watermark (a partition with a backlog never counts as idle);
 * partitions never written (fewer clocks than `expectedPartitions`) hold it back until
 * `missingIdle` (the idle timeout passed since the group's first record), then count as idle:
 * - some partition active: the minimum of the active partitions' watermarks;
 * - every partition idle: the end of the latest window holding an event, so every window with
 *   data closes (the last window of a burst is published once traffic stops);
 * - no partition has seen an event: null.
 * `idleTimeoutMs` 0 turns idleness off ({@link groupWatermarkUs}).
 * @param nowMs processing time of the decision, epoch ms
 */
export function groupWatermarkWithIdlenessUs(
  clocks: readonly TimedPartitionClock[],
  config: WindowConfig,
  expectedPartitions: number,
  nowMs: number,
  idleTimeoutMs: number,
  missingIdle = true,
): number | null {
  if (idleTimeoutMs <= 0) return groupWatermarkUs(clocks, config, expectedPartitions)
  if (clocks.length < expectedPartitions && !missingIdle) return null
  let activeMin: number | null = null
  let latestEnd: number | null = null
  for (const c of clocks) {
    if (c.maxEventUs === null) continue
    const end = windowEndUs(windowStartUs(c.maxEventUs, config.windowMs), config.windowMs)
    if (latestEnd === null || end > latestEnd) latestEnd = end
    const idle = c.caughtUp !== false && (c.lastRecordMs === null || nowMs - c.lastRecordMs >= idleTimeoutMs)
    if (idle) continue
    const wm = c.maxEventUs - config.allowedLatenessMs * 1000
    if (activeMin === null || wm < activeMin) activeMin = wm
  }
  return activeMin ?? latestEnd
}
