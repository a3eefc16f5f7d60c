/**
 * `auren_consumer_lag_records{processor,topic,partition}` for every partition assigned to this
 * instance, on a timer (not only when a batch arrives, so a stuck partition shows its lag rising):
 * log end offset (kafkajs admin `fetchTopicOffsets`) minus the position the processor actually
 * holds — the next offset stored in the sink for sink processors, the group's committed offset
 * otherwise (kafkajs admin `fetchOffsets`), the log start offset when neither exists. Series of
 * partitions no longer assigned are removed.
 */
import type { Gauge } from 'prom-client'
import type { Logger } from 'pino'
import { createEpisodeLog } from './ops/episode-log.ts'

/** Log start and end offsets of one partition, decimal strings. */
export interface OffsetRange {
  readonly low: string
  readonly high: string
}

/**
 * Lag per partition: `high - position`, at least 0; `position` undefined (nothing stored or
 * committed) counts from `low`. Partitions without a known range are left out.
 */
export function computeLag(assigned: readonly number[], ranges: ReadonlyMap<number, OffsetRange>, positions: ReadonlyMap<number, string | undefined>): Map<number, number> {
  const out = new Map<number, number>()
  for (const p of assigned) {
    const range = ranges.get(p)
    if (!range) continue
    const pos = BigInt(positions.get(p) ?? range.low)
    const lag = BigInt(range.high) - (pos > BigInt(range.low) ? pos : BigInt(range.low))
    out.set(p, Number(lag > 0n ? lag : 0n))
  }
  return out
}

/** What the monitor reads; the runner supplies them. */
export interface LagMonitorDeps {
  readonly processor: string
  readonly topic: string
  readonly gauge: Gauge<'processor' | 'topic' | 'partition'>
  /** Partitions of `topic` assigned to this instance now. */
  readonly assigned: () => readonly number[]
  /** Log start/end offsets per partition of `topic`. */
  readonly offsetRanges: () => Promise<Map<number, OffsetRange>>
  /** Position held per partition (next offset to process), undefined when none. */
  readonly positions: (partitions: readonly number[]) => Promise<Map<number, string | undefined>>
  readonly log: Logger
  /** Period, ms. */
  readonly intervalMs: number
  /** Told each timed reading of a partition still assigned (the runner keeps it with the partition, for punctuation). */
  readonly measured?: (partition: number, lag: number) => void
}

/** A running lag monitor. */
export interface LagMonitor {
  /** Sets a partition's lag now (e.g. after a batch); the next tick recomputes it. */
  set(partition: number, lag: number): void
  /** Reads offsets and updates every assigned partition's series once. @throws on broker or sink errors */
  tick(): Promise<void>
  /** Removes the series of partitions not assigned any more. */
  prune(): void
  /** Why the last timed update failed (broker or sink unreachable), undefined after a success. */
  lastError(): string | undefined
  stop(): void
}

/** Starts the timer (the first tick runs after `intervalMs`). */
export function startLagMonitor(deps: LagMonitorDeps): LagMonitor {
  const series = new Set<number>()
  const failures = createEpisodeLog(deps.log, 'consumer lag not measurable (retried)')
  const labels = (p: number) => ({ processor: deps.processor, topic: deps.topic, partition: String(p) })
  const prune = () => {
    const owned = new Set(deps.assigned())
    for (const p of series) {
      if (owned.has(p)) continue
      deps.gauge.remove(labels(p))
      series.delete(p)
    }
  }
  const set = (p: number, lag: number) => {
    deps.gauge.set(labels(p), lag)
    series.add(p)
  }
  let running = false
  let lastError: string | undefined
  const tick = async () => {
    const assigned = [...deps.assigned()]
    prune()
    if (assigned.length === 0) return
    const [ranges, positions] = await Promise.all([deps.offsetRanges(), deps.positions(assigned)])
    // A rebalance while reading: only partitions still assigned get a series.
    const still = new Set(deps.assigned())
    for (const [p, lag] of computeLag(assigned, ranges, positions)) {
      if (!still.has(p)) continue
      set(p, lag)
      deps.measured?.(p, lag)
    }
  }
  const timer = setInterval(() => {
    if (running) return
    running = true
    tick()
      .then(() => {
        lastError = undefined
        failures.ended()
      })
      .catch((err: unknown) => {
        lastError = (err as Error).message
        failures.occurred({ err }, lastError)
      })
      .finally(() => (running = false))
  }, deps.intervalMs)
  timer.unref()
  return { set, tick, prune, lastError: () => lastError, stop: () => clearInterval(timer) }
}
