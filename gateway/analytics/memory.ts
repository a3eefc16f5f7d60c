/**
 * Shapes memory tier statistics (GET /api/v2/memory/tier-stats) from agg_memory_tier_window sums
 * and `memory_tier` histogram buckets (pure).
 *
 * Per tier: `accesses` = lookups that tried the tier (each tier tried counts once), `hits` and
 * `misses` of those, `hit_rate` = hits ÷ accesses; `served` = lookups the tier answered,
 * `served_share` = served ÷ all lookups served (the seed's "45% served from Redis"); latency of
 * one lookup in the tier, ms (exact mean, p50/p95/p99 from the merged buckets).
 */
import { bucketsBy, latencyFigures, num, ratio, type LatencyFigures } from './figures.ts'

type N = string | number
export interface TierRow { tier: string; accesses: N; hits: N; misses: N; served: N; latency_count: N; latency_sum_ms: N }
export interface TierHistogramRow { tier: string; bucket: number; n: N }

/** The contract's tiers in lookup order (CONTRACTS.md section 2, memory_tier_access). */
export const TIER_ORDER = ['redis_immediate', 'postgresql_structured', 'chromadb_semantic']

export interface TierStats {
  tier: string
  accesses: number
  hits: number
  misses: number
  hit_rate: number | null
  served: number
  served_share: number | null
  latency: LatencyFigures
}

const rank = (t: string) => (TIER_ORDER.includes(t) ? TIER_ORDER.indexOf(t) : TIER_ORDER.length)

/** Tiers in lookup order (unknown tiers after, by name), with totals. */
export function shapeTierStats(tiers: readonly TierRow[], histograms: readonly TierHistogramRow[]) {
  const hist = bucketsBy(histograms, (r) => r.tier)
  const servedTotal = tiers.reduce((s, t) => s + num(t.served), 0)
  const out: TierStats[] = tiers.map((t) => ({
    tier: t.tier,
    accesses: num(t.accesses),
    hits: num(t.hits),
    misses: num(t.misses),
    hit_rate: ratio(num(t.hits), num(t.accesses)),
    served: num(t.served),
    served_share: ratio(num(t.served), servedTotal),
    latency: latencyFigures(hist.get(t.tier), num(t.latency_count), num(t.latency_sum_ms)),
  }))
  out.sort((a, b) => rank(a.tier) - rank(b.tier) || a.tier.localeCompare(b.tier))
  return {
    totals: { accesses: out.reduce((s, t) => s + t.accesses, 0), hits: out.reduce((s, t) => s + t.hits, 0), lookups_served: servedTotal },
    tiers: out,
  }
}
