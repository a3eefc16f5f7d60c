/**
 * Shapes cost breakdowns (GET /api/v2/costs) from grouped rollup sums (pure). USD amounts are
 * the enriched events' `cost_usd` summed exactly in PostgreSQL (numeric), then read as numbers.
 *
 * Groups: `agent`, `model` (LLM calls only: agg_llm_window), `user` (events with a user only),
 * `hour` / `day` (UTC; key = the ISO start). `unattributed_usd` is the part of the total no group
 * holds: events without an agent (agent), costs of events that are not LLM calls, e.g. priced
 * tools (model), events without a user (user); 0 for hour and day.
 */
import { num, ratio } from './figures.ts'
import type { Projection } from './projection.ts'

export const COST_GROUPS = ['agent', 'model', 'user', 'hour', 'day'] as const
export type CostGroup = (typeof COST_GROUPS)[number]

/** A grouped sum row. */
export interface CostRow {
  key: string
  cost_usd: string | number
  /** Events (or calls) of the group with a known cost; 0 → the group's cost is unknown (null). */
  priced: string | number
  llm_calls: string | number
  input_tokens: string | number
  output_tokens: string | number
}

/** One group of the answer. */
export interface CostGroupFigures {
  key: string
  /** USD; null when no event of the group carried a known cost. */
  cost_usd: number | null
  /** cost_usd ÷ total_usd (null when either is unknown or the total is 0). */
  share: number | null
  /** Answered LLM calls. */
  llm_calls: number
  /** Failed LLM attempts without an answer (not calls). */
  llm_failed_attempts: number
  /** Tokens of answered calls; null without an answered call. */
  input_tokens: number | null
  output_tokens: number | null
  /** USD per answered LLM call (null without calls or without a known cost). */
  cost_per_call_usd: number | null
}

/** Headline projected spend (projection.ts rate method). */
export interface CostProjection {
  /** Rate projections, USD; null with `reason` when the basis holds too few priced windows. */
  hourly_usd: number | null
  daily_usd: number | null
  monthly_usd: number | null
  /** Why the rate projections are null (null when they are given). */
  reason: string | null
  /** Trend projection of the next day, USD (null with `trend_reason`: too little data or r² too low, projection.ts). */
  trend_daily_usd: number | null
  trend_reason: string | null
  /** r² of the cost trend line over the basis (null for a constant series). */
  trend_r2: number | null
  as_of: string | null
  basis: Projection['basis']
  method: string
}

/**
 * Groups sorted by cost (descending, unknown last), hour/day by time, with shares of `totalUsd`.
 * @param failed failed attempts per group key (groups with only failed attempts are listed too)
 */
export function shapeCostGroups(
  group: CostGroup, rows: readonly CostRow[], totalUsd: number | null, failed: ReadonlyMap<string, number> = new Map(),
): { groups: CostGroupFigures[]; unattributed_usd: number | null } {
  const keys = new Set(rows.map((r) => r.key))
  const all: CostRow[] = [...rows, ...[...failed.keys()].filter((k) => k !== '' && !keys.has(k)).map((k) => ({ key: k, cost_usd: 0, priced: 0, llm_calls: 0, input_tokens: 0, output_tokens: 0 }))]
  const groups = all.map((r) => {
    const cost = num(r.priced) > 0 ? num(r.cost_usd) : null
    const calls = num(r.llm_calls)
    return {
      key: r.key, cost_usd: cost, share: cost === null || totalUsd === null ? null : ratio(cost, totalUsd), llm_calls: calls,
      llm_failed_attempts: failed.get(r.key) ?? 0, input_tokens: calls > 0 ? num(r.input_tokens) : null,
      output_tokens: calls > 0 ? num(r.output_tokens) : null, cost_per_call_usd: cost === null ? null : ratio(cost, calls),
    }
  })
  if (group === 'hour' || group === 'day') groups.sort((a, b) => a.key.localeCompare(b.key))
  else groups.sort((a, b) => (b.cost_usd ?? -1) - (a.cost_usd ?? -1) || a.key.localeCompare(b.key))
  if (totalUsd === null) return { groups, unattributed_usd: null }
  const grouped = groups.reduce((s, g) => s + (g.cost_usd ?? 0), 0)
  const rest = totalUsd - grouped
  return { groups, unattributed_usd: Math.abs(rest) < 1e-12 ? 0 : rest }
}

/** The spend part of a projection: next hour, day and 30 days, USD. */
export function costProjection(p: Projection): CostProjection {
  return {
    hourly_usd: p.next_hour.cost_usd,
    daily_usd: p.next_day.cost_usd,
    monthly_usd: p.next_30_days.cost_usd,
    reason: p.reasons.cost,
    trend_daily_usd: p.next_day.trend_cost_usd,
    trend_reason: p.next_day.trend_cost_usd === null ? (p.reasons.trend_cost ?? 'the next day is beyond the trend\'s reach (24 × the basis)') : null,
    trend_r2: p.trend.cost_usd.r2,
    as_of: p.as_of,
    basis: p.basis,
    method: p.method,
  }
}
