/**
 * The gateway's pure analytics: projections (rate and least-squares trend), recommendations,
 * range rules, CSV, the shapers' ratios and percentiles.
 */
import { describe, expect, it } from 'vitest'
import { csvField, parseCsv, toCsv } from '../../../gateway/analytics/csv.ts'
import { shapeCostGroups } from '../../../gateway/analytics/costs.ts'
import { shapeNetwork, shapeLearning } from '../../../gateway/analytics/intelligence.ts'
import { shapeTierStats } from '../../../gateway/analytics/memory.ts'
import { performanceTotals, shapePerformance } from '../../../gateway/analytics/performance.ts'
import { extendTrend, leastSquares, projectUsage, type UsagePoint } from '../../../gateway/analytics/projection.ts'
import { checkSeriesSize, resolveRange, windowStepUs } from '../../../gateway/analytics/range.ts'
import { cacheCandidates, collaborationPairs, knowledgeGaps, modelCostOutliers, recommend, unqualified } from '../../../gateway/analytics/recommendations.ts'
import { bucketOf } from '../../../schemas/latency-histogram.ts'

const MIN = 60_000_000
const T0 = Date.parse('2025-01-24T10:00:00Z') * 1000

describe('projection', () => {
  it('least squares recovers a line and extends it, clamped at 0', () => {
    const t = leastSquares([1, 3, 5, 7])
    expect(t.slope_per_window).toBeCloseTo(2, 12)
    expect(t.intercept).toBeCloseTo(1, 12)
    expect(t.r2).toBeCloseTo(1, 12)
    expect(extendTrend(t, 4, 2)).toBeCloseTo(9 + 11, 12)
    expect(extendTrend({ slope_per_window: -1, intercept: 2, r2: 1 }, 0, 5)).toBe(2 + 1 + 0 + 0 + 0)
    expect(leastSquares([4, 4, 4]).r2).toBeNull()
  })

  it('rate = basis total ÷ minutes × horizon; trend from the per-window series; empty windows count as 0', () => {
    // 10-minute basis ending at T0 + 10 min; data in windows 0, 2, 4, 6, 8 growing linearly.
    const points: UsagePoint[] = [0, 2, 4, 6, 8].map((i) => ({ startUs: T0 + i * MIN, input_tokens: 100 * (i + 1), output_tokens: 10, cost_usd: 0.01 * (i + 1), llm_calls: 1, priced: 1 }))
    points.push({ startUs: T0 - MIN, input_tokens: 1e9, output_tokens: 0, cost_usd: 1e9, llm_calls: 1, priced: 1 }) // before the basis: ignored
    const p = projectUsage(points, T0 + 10 * MIN, 10, 60_000, { minWindows: 5, trendMinR2: 0 })
    const tokens = 100 * (1 + 3 + 5 + 7 + 9) + 50
    const cost = 0.01 * 25
    expect(p.basis).toMatchObject({ windows: 10, windows_with_data: 5, tokens, llm_calls: 5, minutes: 10, from: '2025-01-24T10:00:00.000Z', to: '2025-01-24T10:10:00.000Z' })
    expect(p.basis.cost_usd).toBeCloseTo(cost, 12)
    expect(p.next_hour.tokens).toBeCloseTo((tokens / 10) * 60, 9)
    expect(p.next_day.cost_usd).toBeCloseTo((cost / 10) * 1440, 9)
    expect(p.next_30_days.cost_usd).toBeCloseTo((cost / 10) * 43_200, 9)
    const series = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? 100 * (i + 1) + 10 : 0))
    expect(p.next_hour.trend_tokens).toBe(Math.round(extendTrend(leastSquares(series), 10, 60)))
    expect(p.next_day.trend_tokens).toBeNull() // 1440 min > 24 × the 10 min basis
    expect(p.method).toMatch(/× 60 \(next hour\), × 1440 \(next day\)/)
  })

  it('no data: null projections with the reason, and a null as_of', () => {
    const p = projectUsage([], null, 60, 60_000)
    expect([p.as_of, p.next_hour.tokens, p.next_day.cost_usd, p.basis.windows_with_data]).toEqual([null, null, null, 0])
    expect(p.reasons.cost).toBe('no data at or before the end of the range')
  })

  it('steps by the window size stored with the rollups; none stored: no basis windows, null figures', () => {
    const half = 30_000_000
    const points: UsagePoint[] = Array.from({ length: 4 }, (_, i) => ({ startUs: T0 + i * half, input_tokens: 10, output_tokens: 0, cost_usd: 0.5, llm_calls: 1, priced: 1 }))
    const p = projectUsage(points, T0 + 4 * half, 2, 30_000, { minWindows: 4, trendMinR2: 0 })
    expect([p.basis.window_ms, p.basis.windows, p.basis.windows_with_tokens, p.basis.minutes, p.rate_per_minute.tokens]).toEqual([30_000, 4, 4, 2, 20])
    const none = projectUsage([], null, 60, null)
    expect([none.basis.window_ms, none.basis.windows, none.next_hour.tokens, none.next_day.trend_cost_usd]).toEqual([null, 0, null, null])
    expect(none.reasons.tokens).toBe('no data at or before the end of the range')
  })

  it('below the minimum data a projection is null with the reason; never $0 from windows without prices; tokens are whole', () => {
    // 60 windows of token data without any price (Who&When-like runs): tokens projected, cost unknown
    const unpriced: UsagePoint[] = Array.from({ length: 60 }, (_, i) => ({ startUs: T0 + i * MIN, input_tokens: 333 + (i % 3), output_tokens: 7, cost_usd: 0, llm_calls: 1, priced: 0 }))
    const a = projectUsage(unpriced, T0 + 60 * MIN, 60, 60_000)
    expect(a.next_day.cost_usd).toBeNull()
    expect(a.reasons.cost).toBe('only 0 of the 60 basis windows hold a priced event (minimum 10, AUREN_GATEWAY_PROJECTION_MIN_WINDOWS)')
    expect(Number.isInteger(a.next_hour.tokens)).toBe(true)
    expect(Number.isInteger(a.next_30_days.input_tokens)).toBe(true)
    // a one-minute burst: 3 windows with data, a noisy trend: no $/day figure from it
    const burst: UsagePoint[] = [57, 58, 59].map((i) => ({ startUs: T0 + i * MIN, input_tokens: 5000, output_tokens: 900, cost_usd: 2.1, llm_calls: 40, priced: 40 }))
    const b = projectUsage(burst, T0 + 60 * MIN, 60, 60_000)
    expect([b.next_day.cost_usd, b.next_day.trend_cost_usd, b.next_hour.tokens]).toEqual([null, null, null])
    expect(b.reasons.trend_cost).toMatch(/only 3 of the 60 basis windows/)
    // enough windows but a trend of r² below the minimum: rate given, trend null with its r²
    const noisy: UsagePoint[] = Array.from({ length: 60 }, (_, i) => ({ startUs: T0 + i * MIN, input_tokens: i % 2 === 0 ? 100 : 5000, output_tokens: 0, cost_usd: i % 2 === 0 ? 0.01 : 1, llm_calls: 1, priced: 1 }))
    const c = projectUsage(noisy, T0 + 60 * MIN, 60, 60_000)
    expect(c.next_day.cost_usd).not.toBeNull()
    expect(c.next_hour.trend_cost_usd).toBeNull()
    expect(c.reasons.trend_cost).toMatch(/^trend r² 0\.0\d\d is below the minimum 0\.5 \(AUREN_GATEWAY_TREND_MIN_R2\)$/)
    expect(c.basis).toMatchObject({ min_windows: 10, trend_min_r2: 0.5, windows_with_cost: 60, windows_with_tokens: 60 })
  })
})

describe('recommendations', () => {
  const tiers = [
    { tier: 'redis_immediate', accesses: 100, hits: 50, served: 50, latency_count: 100, latency_sum_ms: 200 },
    { tier: 'postgresql_structured', accesses: 50, hits: 30, served: 30, latency_count: 50, latency_sum_ms: 750 },
    { tier: 'chromadb_semantic', accesses: 20, hits: 20, served: 20, latency_count: 20, latency_sum_ms: 2000 },
  ]
  const knowledge = [
    { item_id: 'kb-a', domain: 'sleep', accesses: 40, found: 40 },
    { item_id: 'kb-b', domain: 'sleep', accesses: 10, found: 4 },
    { item_id: 'kb-c', domain: 'nutrition', accesses: 25, found: 25 },
  ]

  it('cache candidates: most accessed items, with the slowest tier share and the time saved', () => {
    const [first, second] = cacheCandidates({ knowledge, tiers, edges: [], models: [] }, 2)
    expect(first!.evidence).toMatchObject({ item_id: 'kb-a', accesses: 40, slowest_tier: 'chromadb_semantic', fastest_tier: 'redis_immediate', slowest_tier_served_share: 0.2, slowest_tier_mean_ms: 100, fastest_tier_mean_ms: 2 })
    expect(first!.evidence.estimated_ms_saved).toBeCloseTo(40 * 0.2 * 98, 9)
    expect(second!.evidence.item_id).toBe('kb-c')
    expect(first!.summary).toMatch(/Cache knowledge item 'kb-a' in redis_immediate: 40 accesses, and 20.0% of memory lookups are served by chromadb_semantic/)
    expect(cacheCandidates({ knowledge, tiers: tiers.slice(0, 1), edges: [], models: [] }, 5)).toEqual([])
  })

  it('knowledge gaps by accesses not found', () => {
    const [gap, ...rest] = knowledgeGaps(knowledge, 5)
    expect(rest).toEqual([])
    expect(gap!.evidence).toMatchObject({ item_id: 'kb-b', not_found: 6, not_found_rate: 0.6 })
  })

  it('collaboration pairs: both directions and kinds summed, share of each agent', () => {
    const edges = [
      { from_agent: 'neuro', to_agent: 'sleep', kind: 'collaboration', count: 6, consensus_known: 5, consensus_reached: 4 },
      { from_agent: 'sleep', to_agent: 'neuro', kind: 'handoff', count: 2, consensus_known: 0, consensus_reached: 0 },
      { from_agent: 'neuro', to_agent: 'nutrition', kind: 'collaboration', count: 2, consensus_known: 2, consensus_reached: 2 },
      { from_agent: 'neuro', to_agent: 'neuro', kind: 'handoff', count: 9, consensus_known: 0, consensus_reached: 0 },
    ]
    const [top] = collaborationPairs(edges, 1)
    expect(top!.evidence).toMatchObject({ agent_a: 'neuro', agent_b: 'sleep', interactions: 8, share_of_agent_a: 0.8, share_of_agent_b: 1, consensus_rate: 0.8, kinds: ['collaboration', 'handoff'] })
    expect(top!.summary).toMatch(/neuro \+ sleep interact most: 8 times, 80.0% of neuro's/)
  })

  it('model cost outliers: cost share ≥ factor × call share', () => {
    const models = [{ model: 'gpt-4', calls: 10, cost_usd: 9, priced_calls: 10 }, { model: 'gpt-3.5', calls: 90, cost_usd: 1, priced_calls: 90 }]
    const [out, ...rest] = modelCostOutliers(models, 2, 5)
    expect(rest).toEqual([])
    expect(out!.evidence).toMatchObject({ model: 'gpt-4', cost_share: 0.9, call_share: 0.1, cheapest_model: 'gpt-3.5', factor: 2 })
    expect(out!.evidence.share_ratio).toBeCloseTo(9, 12)
    expect(modelCostOutliers(models, 10, 5)).toEqual([])
    expect(modelCostOutliers([{ model: 'm', calls: 3, cost_usd: 0, priced_calls: 3 }], 2, 5)).toEqual([])
  })

  it('every rule has a minimum support, stated in its method; the answer says when nothing qualifies', () => {
    const few = [{ item_id: 'kb-x', domain: 'sleep', accesses: 2, found: 1 }]
    const o = { limit: 5, costShareFactor: 2, minSupport: 10 }
    const models = [{ model: 'gpt-4', calls: 3, cost_usd: 0.15, priced_calls: 3 }, { model: 'gpt-3.5', calls: 300, cost_usd: 0.3, priced_calls: 300 }]
    const edges = [{ from_agent: 'a', to_agent: 'b', kind: 'handoff', count: 2, consensus_known: 0, consensus_reached: 0 }]
    const input = { knowledge: few, tiers, edges, models }
    // "Cache item X: 2 accesses, 0.297 slow lookups" and a gap from one access no longer qualify
    expect(recommend(input, o)).toEqual([])
    expect(unqualified(input, [], o)).toEqual([
      { kind: 'cache_candidate', reason: '1 candidate items are all below the minimum support of 10' },
      { kind: 'knowledge_gap', reason: '1 candidate items are all below the minimum support of 10' },
      { kind: 'collaboration_pair', reason: '1 agent pairs have interactions below the minimum support of 10' },
      { kind: 'model_cost_outlier', reason: 'no model with at least 10 answered calls has a cost share ≥ 2 × its call share' },
    ])
    const recs = recommend({ knowledge, tiers, edges: [], models: [{ ...models[0]!, calls: 30, priced_calls: 30 }, models[1]!] }, o)
    expect(recs.map((r) => r.kind)).toEqual(['cache_candidate', 'cache_candidate', 'cache_candidate', 'knowledge_gap', 'model_cost_outlier'])
    for (const r of recs) expect(r.method).toContain('minimum support 10 (AUREN_GATEWAY_RECOMMENDATION_MIN_SUPPORT)')
    expect(unqualified({ knowledge: [], tiers: [], edges: [], models: [] }, [], o).map((u) => u.reason)).toEqual([
      'no knowledge access in the range', 'every knowledge access found its item', 'no collaboration or handoff in the range', 'no priced answered LLM call in the range',
    ])
  })
})

describe('range', () => {
  const limits = { defaultRangeMs: 86_400_000, maxRangeMs: 7 * 86_400_000 }
  const now = Date.parse('2025-01-24T12:00:00Z')
  it('defaults to the last day; checks order and length', () => {
    expect(resolveRange({}, now, limits)).toEqual({ fromUs: (now - 86_400_000) * 1000, toUs: now * 1000 })
    expect(() => resolveRange({ from: '2025-01-24T12:00:00Z', to: '2025-01-24T11:00:00Z' }, now, limits)).toThrow(/'from' .* must be before 'to'/)
    expect(() => resolveRange({ from: '2025-01-01T00:00:00Z', to: '2025-01-24T00:00:00Z' }, now, limits)).toThrow(/23d is longer than the maximum 7d/)
    expect(() => checkSeriesSize({ fromUs: 0, toUs: 7 * 86_400_000_000 }, 'minute')).toThrow(/10080 points/)
    expect(() => checkSeriesSize({ fromUs: 0, toUs: 7 * 86_400_000_000 }, 'hour')).not.toThrow()
    // window=rollup: the stored size; 30 s windows over 4 days are too many points, a larger window is named
    expect(windowStepUs('rollup', 30_000)).toBe(30_000_000)
    expect(windowStepUs('rollup', null)).toBeNull()
    expect(windowStepUs('hour', null)).toBe(3_600_000_000)
    expect(() => checkSeriesSize({ fromUs: 0, toUs: 4 * 86_400_000_000 }, 'rollup', 30_000_000)).toThrow(/11520 points, more than 10000; use a larger window \(minute or hour or day\)/)
  })
})

describe('csv', () => {
  it('quotes, neutralises formulas, round-trips', () => {
    expect(csvField('a,b')).toBe('"a,b"')
    expect(csvField('say "hi"')).toBe('"say ""hi"""')
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`)
    expect(csvField(-1.5)).toBe('-1.5')
    expect(csvField(null)).toBe('')
    const text = toCsv(['k', 'v'], [{ k: 'line\nbreak', v: 2 }, { k: 'plain', v: null }])
    expect(text.endsWith('\r\n')).toBe(true)
    expect(parseCsv(text)).toEqual([['k', 'v'], ['line\nbreak', '2'], ['plain', '']])
  })
})

describe('shapers', () => {
  it('performance: percentiles from merged buckets, exact means, per-user view without execution figures', () => {
    const agents = [{ agent_id: 'a', events: '5', executions_started: '2', executions_succeeded: '1', executions_failed: '1', llm_calls_succeeded: '3', llm_calls_failed: '1',
      input_tokens: '100', output_tokens: '20', cost_usd: '0.5', tool_calls: '0', tool_failures: '0', errors: '2', collaborations: '0',
      execution_latency_count: '2', execution_latency_sum_ms: '300', llm_latency_count: '4', llm_latency_sum_ms: '400', llm_failed_attempts: '0', priced_events: '4' }]
    const histograms = [{ agent_id: 'a', metric: 'llm', bucket: bucketOf(100), n: '3' }, { agent_id: 'a', metric: 'llm', bucket: bucketOf(100), n: '1' }]
    const llm = [{ agent_id: 'a', model: 'm', status: 'succeeded', calls: '3', input_tokens: '100', output_tokens: '20', cost_usd: '0.4', priced_calls: '3', latency_count: '3', latency_sum_ms: '300' },
      { agent_id: 'a', model: 'm', status: 'failed', calls: '1', input_tokens: '0', output_tokens: '0', cost_usd: '0', priced_calls: '1', latency_count: '0', latency_sum_ms: '0' }]
    const [p] = shapePerformance({ agents, llm, failures: [], histograms })
    expect(p).toMatchObject({ llm_calls: 4, llm_failed_attempts: 0 })
    expect(p!.llm).toMatchObject({ failed: 1, failure_rate: 0.25, total_tokens: 120, cost_usd: 0.4, cost_per_call_usd: 0.1 })
    expect(p!.executions!.success_rate).toBe(0.5)
    expect(p!.latency.llm.mean_ms).toBe(100)
    expect(Math.abs(p!.latency.llm.p50_ms! - 100) / 100).toBeLessThan(0.0905)
    expect(p!.latency.execution!.p95_ms).toBeNull()
    const [u] = shapePerformance({ userAgents: [{ agent_id: 'a', events: '2', cost_usd: '0.4', priced_events: '1' }], llm, failures: [], histograms: [] })
    expect(u).toMatchObject({ executions: null, tools: null, errors: null, latency: { execution: null, llm: { count: 3, mean_ms: 100, p95_ms: null } } })
  })

  it('performance: a retry is not a call, per-call cost divides by answered calls, unknown is null', () => {
    const row = (id: string, o: Record<string, string>) => ({ agent_id: id, events: '0', executions_started: '0', executions_succeeded: '0', executions_failed: '0', llm_calls_succeeded: '0',
      llm_calls_failed: '0', input_tokens: '0', output_tokens: '0', cost_usd: '0', tool_calls: '0', tool_failures: '0', errors: '0', collaborations: '0', execution_latency_count: '0',
      execution_latency_sum_ms: '0', llm_latency_count: '0', llm_latency_sum_ms: '0', llm_failed_attempts: '0', priced_events: '0', ...o })
    // ChatDev-like: 2 answered gpt-4 calls for $0.1014, 3 rate-limit retries; Who&When-like: turns only
    const agents = [row('coder', { events: '5', llm_calls_succeeded: '2', input_tokens: '3000', output_tokens: '200', cost_usd: '0.1014', llm_failed_attempts: '3', errors: '3', priced_events: '2' }),
      row('planner', { events: '7' })]
    const llm = [{ agent_id: 'coder', model: 'gpt-4', status: 'succeeded', calls: '2', input_tokens: '3000', output_tokens: '200', cost_usd: '0.1014', priced_calls: '2', latency_count: '2', latency_sum_ms: '9000' }]
    const failures = [{ agent_id: 'coder', model: 'gpt-4', error_type: 'rate_limit_exceeded', attempts: '3' }]
    const [coder, planner] = shapePerformance({ agents, llm, failures, histograms: [] })
    expect(coder).toMatchObject({ llm_calls: 2, llm_failed_attempts: 3, llm_failed_attempts_by_error_type: { rate_limit_exceeded: 3 }, cost_usd: 0.1014 })
    expect(coder!.llm).toMatchObject({ attempts: 5, failed: 0, cost_per_call_usd: 0.0507, input_tokens: 3000 })
    expect(planner).toMatchObject({ llm_calls: null, llm_failed_attempts: null, cost_usd: null, llm: { input_tokens: null, output_tokens: null, total_tokens: null, cost_usd: null, cost_per_call_usd: null } })
    expect(performanceTotals([coder!, planner!])).toMatchObject({ llm_calls: 2, llm_failed_attempts: 3, input_tokens: 3000, cost_usd: 0.1014 })
    expect(performanceTotals([planner!])).toMatchObject({ llm_calls: null, input_tokens: null, cost_usd: null })
  })

  it('costs, tiers, network and learning ratios', () => {
    const c = shapeCostGroups('model', [{ key: 'x', cost_usd: '0.25', priced: '2', llm_calls: '2', input_tokens: '1', output_tokens: '1' }], 0.5)
    expect(c.groups[0]).toMatchObject({ share: 0.5, cost_per_call_usd: 0.125 })
    expect(c.unattributed_usd).toBe(0.25)
    const t = shapeTierStats([{ tier: 'chromadb_semantic', accesses: '4', hits: '3', misses: '1', served: '3', latency_count: '4', latency_sum_ms: '400' },
      { tier: 'redis_immediate', accesses: '10', hits: '6', misses: '4', served: '6', latency_count: '10', latency_sum_ms: '10' }], [])
    expect(t.tiers.map((x) => [x.tier, x.hit_rate, x.served_share, x.latency.mean_ms])).toEqual([['redis_immediate', 0.6, 6 / 9, 1], ['chromadb_semantic', 0.75, 3 / 9, 100]])
    const n = shapeNetwork([{ from_agent: 'a', to_agent: 'b', kind: 'collaboration', count: '4', consensus_known: '4', consensus_reached: '3', resolution_count: '4', resolution_sum_ms: '40', knowledge_items_shared: '2' }], 10)
    expect(n.edges[0]).toMatchObject({ consensus_rate: 0.75, mean_resolution_ms: 10 })
    expect(n.nodes).toEqual([{ agent_id: 'a', outgoing: 4, incoming: 0, total: 4 }, { agent_id: 'b', outgoing: 0, incoming: 4, total: 4 }])
    const l = shapeLearning([{ agent_id: 'a', domain: 'sleep', status: 'formed', events: '4' }, { agent_id: 'a', domain: 'sleep', status: 'validated', events: '1' }],
      [{ agent_id: 'a', domain: 'sleep', status: 'validated', n: '1' }, { agent_id: 'a', domain: 'sleep', status: 'invalidated', n: '3' }], { fromUs: 0, toUs: 2 * 3_600e6 })
    expect(l).toMatchObject({ hypotheses_formed: 4, formed_per_hour: 2, current_status: { validated: 1, invalidated: 3, validation_rate: 0.25, total: 4 } })
    expect(l.rate_basis).toEqual({ denominator: expect.stringContaining('span holding hypothesis events'), from: '1970-01-01T00:00:00.000Z', to: '1970-01-01T02:00:00.000Z', hours: 2 })
    expect(shapeLearning([], [], null)).toMatchObject({ formed_per_hour: null, rate_basis: { hours: null } })
  })
})
