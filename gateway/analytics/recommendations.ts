/**
 * Optimisation recommendations computed from the rollups (pure; the seed's phase 4 "Cache these
 * 5 knowledge items in Redis", "Neuroscientist + Sleep agent collaborate 80% of time"). Each
 * recommendation carries the numbers it was computed from (`evidence`) and how (`method`); none
 * is emitted without data behind it.
 *
 * Kinds:
 * - `cache_candidate`: the most accessed knowledge items, with the share of memory lookups that
 *   fall through to the slowest tier (by mean latency measured). The rollups keep knowledge
 *   accesses per item and tier figures per tier, not per item and tier, so the slow lookups of
 *   an item are estimated as its accesses × the slowest tier's share of lookups served; the
 *   time saved by caching it in the fastest tier as that × (slowest mean − fastest mean).
 * - `knowledge_gap`: items most often asked for and not found.
 * - `collaboration_pair`: agent pairs (either direction, collaborations and handoffs) with the
 *   most interactions, with each agent's share of its own interactions and the consensus rate.
 * - `model_cost_outlier`: models whose share of LLM cost ≥ factor × their share of LLM calls,
 *   with cost per call beside the overall and the cheapest model's. Calls are answered calls
 *   (rate-limit retries are not calls); models without a priced call are left out (cost unknown).
 *
 * Minimum support (`minSupport`, AUREN_GATEWAY_RECOMMENDATION_MIN_SUPPORT, stated in each
 * `method`): a recommendation stands on at least that many observations: item accesses (cache
 * candidates, knowledge gaps), timed lookups of each tier compared (cache candidates), pair
 * interactions, a model's answered calls. When a kind yields nothing, {@link unqualified} says
 * why (no data, or how many candidates fell below the minimum).
 */
import { ratio } from './figures.ts'

export interface KnowledgeItemFigures { readonly item_id: string; readonly domain: string; readonly accesses: number; readonly found: number }
export interface TierFigures { readonly tier: string; readonly accesses: number; readonly hits: number; readonly served: number; readonly latency_count: number; readonly latency_sum_ms: number }
export interface EdgeFigures { readonly from_agent: string; readonly to_agent: string; readonly kind: string; readonly count: number; readonly consensus_known: number; readonly consensus_reached: number }
export interface ModelFigures { readonly model: string; readonly calls: number; readonly cost_usd: number; readonly priced_calls: number }

export type RecommendationKind = 'cache_candidate' | 'knowledge_gap' | 'collaboration_pair' | 'model_cost_outlier'

/** One recommendation with its numbers. */
export interface Recommendation {
  readonly kind: RecommendationKind
  readonly summary: string
  readonly evidence: Readonly<Record<string, string | number | null | readonly string[]>>
  readonly method: string
}

/** Inputs of {@link recommend}: figures summed over the request's range. */
export interface RecommendationInput {
  readonly knowledge: readonly KnowledgeItemFigures[]
  readonly tiers: readonly TierFigures[]
  readonly edges: readonly EdgeFigures[]
  readonly models: readonly ModelFigures[]
}

export interface RecommendationOptions {
  /** Most recommendations per kind. */
  readonly limit: number
  /** model_cost_outlier threshold: cost share ≥ factor × call share. */
  readonly costShareFactor: number
  /** Least observations behind a recommendation (see the module doc). */
  readonly minSupport: number
}

/** Why a kind gave no recommendation. */
export interface Unqualified {
  readonly kind: RecommendationKind
  readonly reason: string
}

const KINDS: readonly RecommendationKind[] = ['cache_candidate', 'knowledge_gap', 'collaboration_pair', 'model_cost_outlier']
const support = (n: number) => `; minimum support ${n} (AUREN_GATEWAY_RECOMMENDATION_MIN_SUPPORT)`

const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`)
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d
const duration = (ms: number) => (ms >= 1000 ? `${round(ms / 1000, 1)} s` : `${round(ms, 1)} ms`)

/** Every kind, each sorted by its strength, at most `limit` each. */
export function recommend(input: RecommendationInput, o: RecommendationOptions): Recommendation[] {
  return [
    ...cacheCandidates(input, o.limit, o.minSupport), ...knowledgeGaps(input.knowledge, o.limit, o.minSupport),
    ...collaborationPairs(input.edges, o.limit, o.minSupport), ...modelCostOutliers(input.models, o.costShareFactor, o.limit, o.minSupport),
  ]
}

/** For each kind without a recommendation: why nothing qualified. */
export function unqualified(input: RecommendationInput, recs: readonly Recommendation[], o: RecommendationOptions): Unqualified[] {
  const out: Unqualified[] = []
  const below = (n: number, what: string) => `${n} ${what} below the minimum support of ${o.minSupport}`
  for (const kind of KINDS) {
    if (recs.some((r) => r.kind === kind)) continue
    let reason: string
    if (kind === 'cache_candidate' || kind === 'knowledge_gap') {
      const items = input.knowledge.filter((k) => k.accesses > 0 && (kind === 'cache_candidate' || k.accesses > k.found))
      const timed = input.tiers.filter((t) => t.latency_count >= o.minSupport).length
      reason = items.length === 0 ? (kind === 'cache_candidate' ? 'no knowledge access in the range' : 'every knowledge access found its item')
        : kind === 'cache_candidate' && timed < 2 ? `fewer than 2 memory tiers with at least ${o.minSupport} timed lookups (${timed}), or no slower tier serving lookups`
          : items.every((k) => k.accesses < o.minSupport) ? below(items.length, 'candidate items are all') : 'no slower tier serving lookups'
    } else if (kind === 'collaboration_pair') {
      const pairs = new Set(input.edges.filter((e) => e.from_agent !== e.to_agent && e.count > 0).map((e) => [e.from_agent, e.to_agent].sort().join('|')))
      reason = pairs.size === 0 ? 'no collaboration or handoff in the range' : below(pairs.size, 'agent pairs have interactions')
    } else {
      const priced = input.models.filter((m) => m.calls > 0 && m.priced_calls > 0)
      reason = priced.length === 0 ? 'no priced answered LLM call in the range'
        : priced.every((m) => m.calls < o.minSupport) ? below(priced.length, 'models have answered calls')
          : `no model with at least ${o.minSupport} answered calls has a cost share ≥ ${o.costShareFactor} × its call share`
    }
    out.push({ kind, reason })
  }
  return out
}

export function cacheCandidates(input: RecommendationInput, limit: number, minSupport = 1): Recommendation[] {
  const timed = input.tiers.filter((t) => t.latency_count >= minSupport).map((t) => ({ ...t, mean: t.latency_sum_ms / t.latency_count }))
  if (timed.length < 2) return []
  const slowest = timed.reduce((a, b) => (b.mean > a.mean ? b : a))
  const fastest = timed.reduce((a, b) => (b.mean < a.mean ? b : a))
  const servedTotal = input.tiers.reduce((a, t) => a + t.served, 0)
  const share = ratio(slowest.served, servedTotal)
  if (share === null || share === 0 || slowest.mean <= fastest.mean) return []
  const items = [...input.knowledge].filter((k) => k.accesses >= minSupport && k.accesses > 0).sort((a, b) => b.accesses - a.accesses || a.item_id.localeCompare(b.item_id)).slice(0, limit)
  return items.map((k) => {
    const slowLookups = k.accesses * share
    const saved = slowLookups * (slowest.mean - fastest.mean)
    return {
      kind: 'cache_candidate' as const,
      summary: `Cache knowledge item '${k.item_id}' in ${fastest.tier}: ${k.accesses} accesses, and ${pct(share)} of memory lookups are served by ${slowest.tier} (mean ${round(slowest.mean)} ms vs ${round(fastest.mean)} ms), about ${duration(saved)} saved over the range`,
      evidence: {
        item_id: k.item_id, domain: k.domain, accesses: k.accesses, not_found: k.accesses - k.found,
        slowest_tier: slowest.tier, slowest_tier_mean_ms: slowest.mean, slowest_tier_served: slowest.served, lookups_served: servedTotal,
        slowest_tier_served_share: share, fastest_tier: fastest.tier, fastest_tier_mean_ms: fastest.mean,
        estimated_slow_lookups: slowLookups, estimated_ms_saved: saved,
      },
      method: `estimated slow lookups = item accesses × slowest tier served ÷ all lookups served; ms saved = that × (slowest − fastest mean latency); tiers ranked by measured mean latency; item accesses and timed lookups per tier ≥ ${minSupport}${support(minSupport)}`,
    }
  })
}

export function knowledgeGaps(knowledge: readonly KnowledgeItemFigures[], limit: number, minSupport = 1): Recommendation[] {
  return knowledge
    .map((k) => ({ ...k, notFound: k.accesses - k.found }))
    .filter((k) => k.notFound > 0 && k.accesses >= minSupport)
    .sort((a, b) => b.notFound - a.notFound || a.item_id.localeCompare(b.item_id))
    .slice(0, limit)
    .map((k) => ({
      kind: 'knowledge_gap' as const,
      summary: `Knowledge item '${k.item_id}' was not found in ${k.notFound} of ${k.accesses} accesses (${pct(ratio(k.notFound, k.accesses))}): add or re-index it`,
      evidence: { item_id: k.item_id, domain: k.domain, accesses: k.accesses, found: k.found, not_found: k.notFound, not_found_rate: ratio(k.notFound, k.accesses) },
      method: `not found = accesses − accesses that found the item (knowledge_access events); item accesses ≥ ${minSupport}${support(minSupport)}`,
    }))
}

export function collaborationPairs(edges: readonly EdgeFigures[], limit: number, minSupport = 1): Recommendation[] {
  const perAgent = new Map<string, number>()
  const pairs = new Map<string, { a: string; b: string; count: number; known: number; reached: number; kinds: Set<string> }>()
  for (const e of edges) {
    if (e.from_agent === e.to_agent || e.count === 0) continue
    const [a, b] = [e.from_agent, e.to_agent].sort() as [string, string]
    perAgent.set(a, (perAgent.get(a) ?? 0) + e.count)
    perAgent.set(b, (perAgent.get(b) ?? 0) + e.count)
    const key = JSON.stringify([a, b])
    const p = pairs.get(key) ?? { a, b, count: 0, known: 0, reached: 0, kinds: new Set<string>() }
    p.count += e.count
    p.known += e.consensus_known
    p.reached += e.consensus_reached
    p.kinds.add(e.kind)
    pairs.set(key, p)
  }
  return [...pairs.values()]
    .filter((p) => p.count >= minSupport)
    .sort((x, y) => y.count - x.count || x.a.localeCompare(y.a) || x.b.localeCompare(y.b))
    .slice(0, limit)
    .map((p) => {
      const shareA = ratio(p.count, perAgent.get(p.a) ?? 0)
      const shareB = ratio(p.count, perAgent.get(p.b) ?? 0)
      return {
        kind: 'collaboration_pair' as const,
        summary: `${p.a} + ${p.b} interact most: ${p.count} times, ${pct(shareA)} of ${p.a}'s and ${pct(shareB)} of ${p.b}'s interactions; consensus ${pct(ratio(p.reached, p.known))}`,
        evidence: {
          agent_a: p.a, agent_b: p.b, interactions: p.count, agent_a_interactions: perAgent.get(p.a) ?? 0, agent_b_interactions: perAgent.get(p.b) ?? 0,
          share_of_agent_a: shareA, share_of_agent_b: shareB, consensus_known: p.known, consensus_reached: p.reached,
          consensus_rate: ratio(p.reached, p.known), kinds: [...p.kinds].sort(),
        },
        method: `interactions = collaboration edges (primary → each partner) + handoffs, both directions; share = pair interactions ÷ all interactions of the agent; pair interactions ≥ ${minSupport}${support(minSupport)}`,
      }
    })
}

export function modelCostOutliers(all: readonly ModelFigures[], factor: number, limit: number, minSupport = 1): Recommendation[] {
  const models = all.filter((m) => m.priced_calls > 0) // cost unknown otherwise
  const calls = models.reduce((a, m) => a + m.calls, 0)
  const cost = models.reduce((a, m) => a + m.cost_usd, 0)
  if (calls === 0 || cost <= 0) return []
  const priced = models.filter((m) => m.calls >= minSupport && m.calls > 0)
  const cheapest = priced.reduce<ModelFigures | null>((a, m) => (a === null || m.cost_usd / m.calls < a.cost_usd / a.calls ? m : a), null)
  return priced
    .map((m) => ({ m, costShare: m.cost_usd / cost, callShare: m.calls / calls }))
    .map((x) => ({ ...x, ratioShare: x.costShare / x.callShare }))
    .filter((x) => x.ratioShare >= factor)
    .sort((a, b) => b.ratioShare - a.ratioShare || a.m.model.localeCompare(b.m.model))
    .slice(0, limit)
    .map(({ m, costShare, callShare, ratioShare }) => ({
      kind: 'model_cost_outlier' as const,
      summary: `Model ${m.model} takes ${pct(costShare)} of LLM cost for ${pct(callShare)} of calls (${round(ratioShare)}× its share, threshold ${factor}×): $${(m.cost_usd / m.calls).toFixed(6)} per call vs $${(cost / calls).toFixed(6)} overall${cheapest && cheapest.model !== m.model ? `; ${cheapest.model} costs $${(cheapest.cost_usd / cheapest.calls).toFixed(6)} per call` : ''}`,
      evidence: {
        model: m.model, calls: m.calls, cost_usd: m.cost_usd, cost_share: costShare, call_share: callShare, share_ratio: ratioShare, factor,
        cost_per_call_usd: m.cost_usd / m.calls, overall_cost_per_call_usd: cost / calls, total_calls: calls, total_cost_usd: cost,
        cheapest_model: cheapest?.model ?? null, cheapest_cost_per_call_usd: cheapest ? cheapest.cost_usd / cheapest.calls : null,
      },
      method: `cost share = model LLM cost ÷ all LLM cost; call share = model answered calls ÷ all answered calls (failed attempts without an answer are not calls; models without a priced call left out); flagged when cost share ≥ factor × call share; model answered calls ≥ ${minSupport}${support(minSupport)}`,
    }))
}
