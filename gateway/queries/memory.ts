/** GET /api/v2/memory/tier-stats: agg_memory_tier_window and `memory_tier` histograms over the range. */
import { shapeTierStats, type TierHistogramRow, type TierRow } from '../analytics/memory.ts'
import { rangeBody } from '../analytics/range.ts'
import { Params, rows, whereOf, type Db, type Filter } from './db.ts'
import { RT } from '../../schemas/rollup-tables.ts'

/** Rows of the tier table, summed per tier. */
export async function tierRows(db: Db, f: Filter): Promise<TierRow[]> {
  const ps = new Params()
  return rows<TierRow>(db,
    'SELECT tier, sum(accesses)::text AS accesses, sum(hits)::text AS hits, sum(misses)::text AS misses, sum(served)::text AS served, ' +
    `sum(latency_count)::text AS latency_count, sum(latency_sum_ms)::text AS latency_sum_ms FROM ${RT.memory} WHERE ${whereOf(f, ps)} GROUP BY tier`, ps.values)
}

/** Body: `{ range, totals, tiers: TierStats[] }` (analytics/memory.ts). */
export async function loadTierStats(db: Db, f: Filter) {
  const hs = new Params()
  const [tiers, histograms] = await Promise.all([
    tierRows(db, f),
    rows<TierHistogramRow>(db,
      `SELECT dim AS tier, bucket, sum(count)::text AS n FROM ${RT.histogram} WHERE ${whereOf(f, hs)} AND metric = 'memory_tier' GROUP BY dim, bucket`, hs.values),
  ])
  return { range: rangeBody(f.range), ...shapeTierStats(tiers, histograms) }
}
