/**
 * The condition kinds (rule-schema.ts): what an observation adds to a group's buckets, and
 * whether the condition holds at an event time, with the value and threshold it compares.
 * Pure; comparisons: count, budget and window_sum fire at value ≥ threshold; ratio and latency
 * at value > threshold; baseline when the current rate < (1 − drop) × the baseline rate.
 */
import { percentile } from '../../schemas/index.ts'
import type { EventFacts } from './event-facts.ts'
import { matches } from './event-facts.ts'
import type { CompiledCondition, WindowField } from './rule-schema.ts'
import { percentileOfRecord, totalsIn, type Bucket, type Contribution, type Totals } from './window-buckets.ts'

/** Buckets per window of a sliding rule (the granularity of its window edge). */
export const STEPS_PER_WINDOW = 10

/** Bucket width of a condition, ms (0 for kinds without buckets). */
export function stepMs(c: CompiledCondition): number {
  switch (c.kind) {
    case 'event':
    case 'absence':
      return 0
    case 'baseline':
      return Math.max(1, Math.floor(Math.min(c.windowMs, c.baselineWindowMs) / STEPS_PER_WINDOW))
    default:
      return c.tumbling ? c.windowMs : Math.max(1, Math.floor(c.windowMs / STEPS_PER_WINDOW))
  }
}

/**
 * Bucket width of a rule's partial aggregates on the repartition topic, ms (partial-buckets.ts):
 * the window step of the windowed kinds; for an absence, a tenth of its silence (the group's
 * last event time is sent once per such bucket, so an absence fires at most that much later).
 * 0 for the `event` kind (never repartitioned).
 */
export function partialStepMs(c: CompiledCondition): number {
  return c.kind === 'absence' ? Math.max(1, Math.floor(c.afterMs / STEPS_PER_WINDOW)) : stepMs(c)
}

/** Buckets ending at or before this time can no longer count at clock `nowMs`: they may be dropped. */
export function keepFromMs(c: CompiledCondition, nowMs: number): number {
  switch (c.kind) {
    case 'event':
    case 'absence':
      return nowMs
    case 'baseline':
      return Math.floor(nowMs / stepMs(c)) * stepMs(c) - c.windowMs - c.baselineWindowMs
    default:
      return c.tumbling ? Math.floor(nowMs / c.windowMs) * c.windowMs - c.windowMs : nowMs + 1 - c.windowMs
  }
}

// Shared, read-only contributions (no object per event and rule).
const ONE: Readonly<Contribution> = Object.freeze({ n: 1 })
const ONE_OF_NUMERATOR: Readonly<Contribution> = Object.freeze({ n: 1, k: 1 })
const ONE_NOT_OF_NUMERATOR: Readonly<Contribution> = Object.freeze({ n: 1, k: 0 })

/**
 * What an event adds for a rule whose selector it matched, or null when it adds nothing
 * (a latency rule and an event without latency; a budget rule and an unpriced event).
 */
export function eventContribution(c: CompiledCondition, f: EventFacts): Contribution | null {
  switch (c.kind) {
    case 'count':
    case 'baseline':
      return ONE
    case 'ratio':
      return matches(c.numerator, f) ? ONE_OF_NUMERATOR : ONE_NOT_OF_NUMERATOR
    case 'latency':
      return f.latencyMs === null ? null : { n: 1, sum: f.latencyMs, latencyMs: f.latencyMs }
    case 'budget': {
      const amount = c.measure === 'usd' ? f.costUsd : f.tokens
      return amount === null ? null : { n: 1, sum: amount }
    }
    default:
      return null
  }
}

/** The figures of one AgentMetricsWindow a window_sum rule can read. */
export type WindowFigures = Readonly<Record<WindowField, number>>

/** What a metrics window adds for a window_sum rule. */
export function windowContribution(c: CompiledCondition, w: WindowFigures): Contribution | null {
  return c.kind === 'window_sum' ? { n: 1, sum: w[c.field] } : null
}

/** The outcome of evaluating a condition at an event time. */
export interface Evaluation {
  /** Whether the condition holds. */
  active: boolean
  /** The observed value (null when there is too little data to say: below the minimum sample). */
  value: number | null
  /** The threshold the value is compared with. */
  threshold: number
  /** The event-time window the value is computed over, epoch ms, [start, end). */
  window: { start: number; end: number } | null
}

const QUANTILE = { p50: 0.5, p95: 0.95, p99: 0.99 } as const

/** A latency statistic of a latency condition (rule-schema.ts). */
export type LatencyStatistic = Extract<CompiledCondition, { kind: 'latency' }>['statistic']

/**
 * Whether a sliding-window condition holds, read from its group's running totals without
 * building an {@link Evaluation} (no allocation: the engine asks this of every rule an event
 * reaches, and most rules are inactive and stay so). It is exactly {@link evaluateWindowed}'s
 * `active` for sliding `count`, `ratio`, `latency`, `budget` and `window_sum` conditions, under
 * the same precondition (buckets pruned at the clock, `totals` their running sum), and for
 * `baseline` (its current window and the bucket in progress summed from the last buckets, no
 * allocation); undefined for what it does not answer (tumbling windows, `event`, `absence`),
 * which the caller evaluates in full.
 * @param latencyOf the group's latency statistic in ms (null without observations): a percentile
 *   of the totals' histogram or the mean, computed by the caller once per statistic and group
 */
export function slidingHolds(c: CompiledCondition, buckets: readonly Bucket[], totals: Readonly<Totals>, nowMs: number, latencyOf: (statistic: LatencyStatistic) => number | null): boolean | undefined {
  switch (c.kind) {
    case 'baseline': {
      // As evaluateWindowed: closed buckets of the current window, the bucket in progress, the rest is the baseline.
      const step = stepMs(c)
      const end = Math.floor(nowMs / step) * step
      const from = end - c.windowMs
      let cur = 0
      let inProgress = 0
      for (let i = buckets.length - 1; i >= 0; i -= 1) {
        const b = buckets[i]!
        if (b.start >= end) inProgress += b.n
        else if (b.start + step > from) cur += b.n
        else break
      }
      const baseN = totals.n - cur - inProgress
      if (baseN < c.minBaselineEvents) return false
      const baseRate = baseN / (c.baselineWindowMs / 1000)
      const curRate = cur / (c.windowMs / 1000)
      return curRate < (1 - c.drop) * baseRate
    }
    case 'count':
      return c.tumbling ? undefined : totals.n >= c.threshold
    case 'window_sum':
      return c.tumbling ? undefined : totals.sum >= c.threshold
    case 'budget':
      return c.tumbling ? undefined : totals.n > 0 && totals.sum >= c.budget * c.warnAt
    case 'ratio':
      return c.tumbling ? undefined : totals.n >= c.minSample && totals.k / totals.n > c.threshold
    case 'latency': {
      if (c.tumbling) return undefined
      if (totals.n < c.minSample) return false
      const value = latencyOf(c.statistic)
      return value !== null && value > c.thresholdMs
    }
    default:
      return undefined
  }
}

/** The latency statistic (ms) of a sliding group's totals, as {@link evaluateWindowed} reads it; null without observations. */
export function slidingLatency(totals: Readonly<Totals>, statistic: LatencyStatistic): number | null {
  if (totals.n === 0) return null
  return statistic === 'mean' ? totals.sum / totals.n : percentileOfRecord(totals.hist, QUANTILE[statistic], totals.n)
}

/**
 * Evaluates a bucketed condition at `nowMs` (the event-time clock). Sliding windows cover
 * (now − window, now]; a tumbling window is the last one that closed at or before now.
 *
 * Precondition: `buckets` were pruned at `nowMs` ({@link keepFromMs}) and `totals` is their
 * running sum (window-buckets.ts). A sliding window is then every bucket left, read from the
 * totals in O(1); a baseline's current window is read from the last buckets and its baseline
 * is the totals minus the current window and the bucket in progress; a tumbling window is one
 * bucket.
 */
export function evaluateWindowed(c: CompiledCondition, buckets: readonly Bucket[], totals: Readonly<Totals>, nowMs: number): Evaluation {
  const step = stepMs(c)
  if (c.kind === 'baseline') {
    // Closed buckets only, so both rates cover exactly their lengths: the current window is the
    // `window` before the bucket in progress, the baseline the `baseline_window` before that.
    const end = Math.floor(nowMs / step) * step
    const cur = totalsIn(buckets, step, end - c.windowMs, end)
    const inProgress = totalsIn(buckets, step, end, Infinity)
    const baseN = totals.n - cur.n - inProgress.n
    const baseRate = baseN / (c.baselineWindowMs / 1000)
    const curRate = cur.n / (c.windowMs / 1000)
    const threshold = (1 - c.drop) * baseRate
    const enough = baseN >= c.minBaselineEvents
    return { active: enough && curRate < threshold, value: enough ? curRate : null, threshold, window: { start: end - c.windowMs, end } }
  }
  if (c.kind === 'event' || c.kind === 'absence') throw new Error(`${c.kind} conditions have no buckets`)
  let start: number
  let end: number
  let t: { n: number; k: number; sum: number }
  let tumblingHist: Map<number, number> | null = null
  if (c.tumbling) {
    end = Math.floor(nowMs / c.windowMs) * c.windowMs
    start = end - c.windowMs
    const r = totalsIn(buckets, step, start, end, c.kind === 'latency')
    t = r
    tumblingHist = r.hist
  } else {
    end = nowMs + 1
    start = end - c.windowMs
    t = totals
  }
  const window = { start, end }
  switch (c.kind) {
    case 'count':
      return { active: t.n >= c.threshold, value: t.n, threshold: c.threshold, window }
    case 'window_sum':
      return { active: t.sum >= c.threshold, value: t.sum, threshold: c.threshold, window }
    case 'budget': {
      const threshold = c.budget * c.warnAt
      return { active: t.n > 0 && t.sum >= threshold, value: t.sum, threshold, window }
    }
    case 'ratio': {
      if (t.n < c.minSample) return { active: false, value: null, threshold: c.threshold, window }
      const value = t.k / t.n
      return { active: value > c.threshold, value, threshold: c.threshold, window }
    }
    case 'latency': {
      // Every latency observation adds n = 1 and one histogram count: n is the histogram's total.
      if (t.n < c.minSample) return { active: false, value: null, threshold: c.thresholdMs, window }
      const value = tumblingHist ? (c.statistic === 'mean' ? t.sum / t.n : percentile(tumblingHist, QUANTILE[c.statistic])!) : slidingLatency(totals, c.statistic)!
      return { active: value > c.thresholdMs, value, threshold: c.thresholdMs, window }
    }
  }
}
