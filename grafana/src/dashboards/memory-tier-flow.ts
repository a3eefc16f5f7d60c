/** Memory tier flow (seed 001 view 1): Redis → PostgreSQL → vector DB lookups, hits, latency. */
import type { DashboardSpec } from '../board.ts'
import { bars, grid, series } from '../panels.ts'
import { inRange, matches, prom, sel, sqlSeries, sqlTable, timeOf } from '../queries.ts'
import { HIGH_RATIO_STEPS } from '../thresholds.ts'
import { RT } from '../../../schemas/rollup-tables.ts'

const T = 'tier=~"$tier"'

export const memoryTierFlow: DashboardSpec = {
  uid: 'auren-memory-tier-flow',
  title: 'AUREN / Memory tier flow',
  description: 'Lookups per tier, hit rate, share of requests served by each tier and latency per tier (redis_immediate → postgresql_structured → chromadb_semantic). Seed 001 view 1.',
  variables: ['tier'],
  panels: [
    series({ title: 'How many lookups reach each tier?', description: 'Lookups per second per tier; every tier tried counts (auren_memory_tier_accesses_total).', unit: 'reqps', targets: [prom(`sum by (tier) (rate(${sel('auren_memory_tier_accesses_total', T)}[$__rate_interval]))`, '{{tier}}')] }),
    series({ title: 'What share of lookups hit, per tier?', description: 'Hits / lookups per tier (auren_memory_tier_hits_total / auren_memory_tier_accesses_total); the denominator is the lookups that reached the tier.', unit: 'percentunit', min: 0, max: 1, thresholds: HIGH_RATIO_STEPS, targets: [prom(`sum by (tier) (rate(${sel('auren_memory_tier_hits_total', T)}[$__rate_interval])) / sum by (tier) (rate(${sel('auren_memory_tier_accesses_total', T)}[$__rate_interval]))`, '{{tier}}')] }),
    series({ title: 'How long does one lookup take per tier (p50, p95)?', description: 'Quantiles of auren_memory_tier_latency_seconds per tier.', unit: 's', targets: [0.5, 0.95].map((q) => prom(`histogram_quantile(${q}, sum by (le, tier) (rate(${sel('auren_memory_tier_latency_seconds_bucket', T)}[$__rate_interval])))`, `{{tier}} p${q * 100}`)) }),
    bars({ title: 'Which tier serves the requests?', description: `Share of answered lookups served by each tier over the range: served / all served (${RT.memory}).`, unit: 'percentunit', x: 'tier', targets: [sqlTable(`SELECT tier, sum(served)::float8 / NULLIF((SELECT sum(served) FROM ${RT.memory} WHERE ${inRange()}), 0) AS "share served" FROM ${RT.memory} WHERE ${inRange()} AND ${matches('tier', 'tier')} GROUP BY 1 ORDER BY CASE tier WHEN 'redis_immediate' THEN 1 WHEN 'postgresql_structured' THEN 2 ELSE 3 END`)] }),
    series({ title: 'How many requests does each tier serve per minute (rollups)?', description: `Lookups served per tier per rollup window of event time (window_ms in ${RT.rollup_window}, 1 min by default) (${RT.memory}.served).`, unit: 'short', stack: true, targets: [sqlSeries(`SELECT ${timeOf()} AS time, tier AS metric, sum(served) AS served FROM ${RT.memory} WHERE ${inRange()} AND ${matches('tier', 'tier')} GROUP BY 1, 2 ORDER BY 1`)] }),
    grid({ title: 'Per tier over the range: lookups, hits, misses, hit rate, mean latency', description: `From ${RT.memory}; hit rate = hits / lookups; mean latency = sum / count (ms; null when not timed).`, targets: [sqlTable(`SELECT tier, sum(accesses) AS lookups, sum(hits) AS hits, sum(misses) AS misses, sum(hits)::float8 / NULLIF(sum(accesses), 0) AS "hit rate", sum(served) AS served, sum(latency_sum_ms) / NULLIF(sum(latency_count), 0) AS "mean latency ms" FROM ${RT.memory} WHERE ${inRange()} AND ${matches('tier', 'tier')} GROUP BY 1 ORDER BY 1`)] }),
  ],
}
