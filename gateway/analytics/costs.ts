/**
 * Shapes cost breakdowns (GET /api/v2/costs) from grouped rollup sums (pure). USD amounts are
 * the enriched events' `cost_usd` summed exactly in PostgreSQL (numeric), then read as numbers.
 *
 * Groups: `agent`, `model` (LLM calls only: agg_llm_minute), `user` (events with a user only),
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
  llm_calls: string | number
  input_tokens: string | number
  output_tokens: string | number
}

/** One group of the answer. */
export interface CostGroupFigures {
  key: string
  /** USD. */
  cost_usd: number
  /** cost_usd ÷ total_usd (null when the total is 0). */
  share: number | null
  llm_calls: number
  input_tokens: number
  output_tokens: number
  /** USD per completed LLM call (null without calls). */
  cost_per_call_usd: number | null
}

/** Headline projected spend (projection.ts rate method). */
export interface CostProjection {
  hourly_usd: number
  daily_usd: number
  monthly_usd: number
  /** Trend projection of the next day, USD (null when the basis is too short, projection.ts). */
  trend_daily_usd: number | null
  as_of: string | null
  basis: Projection['basis']
  method: string
}

/** Groups sorted by cost (descending), hour/day by time, with shares of `totalUsd`. */
export function shapeCostGroups(group: CostGroup, rows: readonly CostRow[], totalUsd: number): { groups: CostGroupFigures[]; unattributed_usd: number } {
  const groups = rows.map((r) => {
    const cost = num(r.cost_usd)
    const calls = num(r.llm_calls)
    return {
      key: r.key, cost_usd: cost, share: ratio(cost, totalUsd), llm_calls: calls, input_tokens: num(r.input_tokens),
      output_tokens: num(r.output_tokens), cost_per_call_usd: ratio(cost, calls),
    }
  })
  if (group === 'hour' || group === 'day') groups.sort((a, b) => a.key.localeCompare(b.key))
  else groups.sort((a, b) => b.cost_usd - a.cost_usd || a.key.localeCompare(b.key))
  const grouped = groups.reduce((s, g) => s + g.cost_usd, 0)
  const rest = totalUsd - grouped
  return { groups, unattributed_usd: Math.abs(rest) < 1e-12 ? 0 : rest }
}

/** The spend part of a projection: next hour, day and 30 days, USD. */
export function costProjection(p: Projection): CostProjection {
  return {
    hourly_usd: p.next_hour.cost_usd,
    daily_usd: p.next_day.cost_usd,
    monthly_usd: p.next_30_days.cost_usd,
    trend_daily_usd: p.next_day.trend_cost_usd,
    as_of: p.as_of,
    basis: p.basis,
    method: p.method,
  }
}
