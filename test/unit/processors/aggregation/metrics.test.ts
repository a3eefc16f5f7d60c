import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { createAggregationMetrics, recordAppliedBatch } from '../../../../processors/aggregation/metrics.ts'
import { mergeDeltas } from '../../../../processors/aggregation/rollup-delta.ts'
import { toRollupDelta } from '../../../../processors/aggregation/transform.ts'
import { agentEvent, enriched, executionPayload, llmPayload } from '../../../helpers/aggregation-events.ts'

const T = Date.UTC(2025, 0, 1, 12, 0, 0) * 1000
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`

describe('aggregation metrics', () => {
  it('are updated from a merged delta, with contract labels only', async () => {
    const registry = new Registry()
    const m = createAggregationMetrics(registry, async () => 3)
    expect(createAggregationMetrics(registry)).toBe(m)
    const merged = mergeDeltas([
      toRollupDelta(enriched(agentEvent('llm_call_completed', llmPayload({ input_tokens: 10, output_tokens: 5, latency_ms: 1500 }), { id: id(1), timestampUs: T, agent: 'a', user: 'user-secret' }), { cost_usd: 0.25 })),
      toRollupDelta(enriched(agentEvent('llm_call_started', llmPayload({ input_tokens: 999 }), { id: id(2), timestampUs: T, agent: 'a' }))),
      toRollupDelta(enriched(agentEvent('agent_execution_completed', executionPayload({ latency_ms: 200, success: false, error_type: 'x' }), { id: id(3), timestampUs: T, agent: 'a' }))),
      toRollupDelta(enriched(agentEvent('agent_collaboration', { primary_agent: 'a', collaborating_agents: ['b', 'c'], collaboration_type: 'c', consensus_reached: false, confidence_by_agent: {}, resolution_time_ms: null, knowledge_items_shared: 0 }, { id: id(4), timestampUs: T, agent: 'a' }))),
      // a rate-limit retry: no answer, no usage, a fabricated 0 ms in performance
      toRollupDelta(enriched(agentEvent('llm_call_completed', llmPayload({ input_tokens: 0, output_tokens: 0, latency_ms: null, success: false, error_type: 'rate_limit_exceeded' }), { id: id(6), timestampUs: T, agent: 'a', performance: { latency_ms: 0, success: false, error_type: 'rate_limit_exceeded', confidence_score: null, memory_usage_mb: null, cpu_percent: null } }))),
      toRollupDelta(enriched(agentEvent('memory_tier_access', { tier_served: null, tier_latencies: [{ tier: 'redis_immediate', latency_ms: 0.5, hit: false }], items_retrieved: 0, query_hash: null }, { id: id(5), timestampUs: T, agent: 'a' }))),
    ])
    recordAppliedBatch(m, { merged, duplicates: 2, windowsEmitted: { closed: 1, late_update: 0 } })
    const text = await registry.metrics()
    expect(text).toContain('auren_llm_calls_total{agent="a",model="gpt-4o",status="success"} 1')
    expect(text).not.toContain('auren_llm_calls_total{agent="a",model="gpt-4o",status="error"}')
    expect(text).toContain('auren_llm_call_failures_total{agent="a",model="gpt-4o",error_type="rate_limit_exceeded"} 1')
    expect(text).toContain('auren_llm_call_duration_seconds_count{agent="a",model="gpt-4o"} 1') // the retry's 0 ms is no observation
    expect(text).not.toContain('auren_llm_call_duration_seconds_bucket{le="0.005",agent="a",model="gpt-4o"} 1')
    expect(text).toContain('auren_llm_tokens_total{agent="a",model="gpt-4o",direction="input"} 10') // not 1009: started calls never count
    expect(text).toContain('auren_llm_cost_usd_total{agent="a",model="gpt-4o"} 0.25')
    expect(text).toContain('auren_llm_call_duration_seconds_bucket{le="2.5",agent="a",model="gpt-4o"} 1')
    expect(text).toContain('auren_agent_executions_total{agent="a",status="failed"} 1')
    expect(text).toContain('auren_agent_execution_duration_seconds_sum{agent="a"} 0.2')
    expect(text).toContain('auren_collaborations_total{agent="a",partner="b",consensus="false"} 1')
    expect(text).toContain('auren_memory_tier_accesses_total{tier="redis_immediate"} 1')
    expect(text).not.toContain('auren_memory_tier_hits_total{')
    expect(text).toContain('auren_agents_active 3')
    expect(text).toContain('auren_aggregation_duplicate_events_total 2')
    expect(text).not.toContain('user-secret')
  })
})
