/**
 * Enriched events for aggregation tests: one builder per event type, and a seeded random
 * workload mixing every type (so property tests are reproducible). Timestamps are epoch µs.
 */
import type { AgentEvent, AgentEventOf, AgentEventType, EnrichedAgentEvent, PayloadByType, PerformanceMetrics } from '../../schemas/index.ts'
import { mulberry32 } from '../../scripts/sources/simulator.ts'

/** Deterministic PRNG (the simulator's mulberry32); returns floats in [0, 1). */
export const seededRandom = mulberry32

/** A v4-shaped UUID drawn from `rand`. */
export function randomUuid(rand: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(rand() * 16).toString(16)).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

/** Common fields of a test event. */
export interface EventOptions {
  id: string
  timestampUs: number
  agent?: string | null
  user?: string | null
  trace?: string
  /** `performance` of the event; default null. */
  performance?: PerformanceMetrics | null
}

/** An AgentEvent of `type` with `payload`. */
export function agentEvent<T extends AgentEventType>(type: T, payload: PayloadByType[T], o: EventOptions): AgentEventOf<T> {
  const agent = o.agent === undefined ? 'neuroscientist' : o.agent
  return {
    event_id: o.id,
    trace_id: o.trace ?? 'trace-1',
    session_id: null,
    parent_event_id: null,
    timestamp: o.timestampUs,
    event_type: type,
    source_agent: agent === null ? null : { id: agent, role: agent, domain: null },
    target_agent: null,
    user_id: o.user ?? null,
    source: 'test',
    payload,
    performance: o.performance ?? null,
    attributes: {},
  } as AgentEventOf<T>
}

/** Wraps an event as enrichment emits it. */
export function enriched(event: AgentEvent, extra: Partial<Omit<EnrichedAgentEvent, 'event'>> = {}): EnrichedAgentEvent {
  return {
    event, tier: 'operational', cost_usd: null, cost_source: null, pricing_ref: null, agent_domain: null, tool_category: null,
    input_complexity: null, ingest_lag_ms: 0, enriched_at: event.timestamp + 1_000_000, ...extra,
  }
}

export const llmPayload = (p: Partial<PayloadByType['llm_call_completed']> = {}): PayloadByType['llm_call_completed'] => ({
  model: 'gpt-4o', provider: 'openai', input_tokens: 100, output_tokens: 20, cached_input_tokens: null, reasoning_tokens: null,
  reported_cost_usd: null, latency_ms: 850, success: true, error_type: null, purpose: null, ...p,
})
export const executionPayload = (p: Partial<PayloadByType['agent_execution_completed']> = {}): PayloadByType['agent_execution_completed'] => ({
  task_id: 'task-1', execution_mode: 'sequential', tools_available: [], latency_ms: null, success: null, error_type: null, output_length: null, ...p,
})
export const toolPayload = (p: Partial<PayloadByType['tool_usage_completed']> = {}): PayloadByType['tool_usage_completed'] => ({
  tool_name: 'web_search', input_size_bytes: 120, output_size_bytes: 2048, execution_time_ms: 310, success: true, error_type: null, ...p,
})

const AGENTS = ['neuroscientist', 'nutritionist', 'training_coach', 'sleep', 'recovery', 'mental_health']
const MODELS = ['gpt-4o', 'claude-3-5-sonnet', 'gpt-4o-mini']
const USERS = ['user-a', 'user-b', null]
const TIERS = ['redis_immediate', 'postgresql_structured', 'chromadb_semantic'] as const

/** Options of {@link randomWorkload}. */
export interface WorkloadOptions {
  /** Event time of the first event, µs. */
  startUs: number
  /** Event-time step between consecutive events, ms. */
  stepMs: number
  /** Each event's time moves by up to ± this, ms (out of order within a trace). */
  jitterMs: number
  /** Share of events moved back by `lateByMs` (late beyond the allowed lateness). */
  lateShare?: number
  lateByMs?: number
  /** Share of events that repeat an earlier event_id (duplicated input). */
  duplicateShare?: number
}

/**
 * `n` enriched events of every aggregated type, reproducible from `seed`. Duplicates are exact
 * copies of an earlier event (same event_id, same content), as a producer retry would send.
 */
export function randomWorkload(seed: number, n: number, o: WorkloadOptions): EnrichedAgentEvent[] {
  const rand = seededRandom(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!
  const out: EnrichedAgentEvent[] = []
  for (let i = 0; i < n; i++) {
    if (out.length > 0 && rand() < (o.duplicateShare ?? 0)) {
      out.push(out[Math.floor(rand() * out.length)]!)
      continue
    }
    let t = o.startUs + i * o.stepMs * 1000 + Math.round((rand() * 2 - 1) * o.jitterMs * 1000)
    if (rand() < (o.lateShare ?? 0)) t -= (o.lateByMs ?? 0) * 1000
    const ev: EventOptions = { id: randomUuid(rand), timestampUs: t, agent: pick(AGENTS), user: pick(USERS), trace: `trace-${i % 12}` }
    const ms = () => Math.round(rand() * 5000 * 1000) / 1000
    const kind = Math.floor(rand() * 11)
    switch (kind) {
      case 0:
      case 1: {
        const ok = rand() > 0.1
        const input = Math.floor(rand() * 4000)
        out.push(enriched(agentEvent('llm_call_completed', llmPayload({ model: pick(MODELS), input_tokens: input, output_tokens: Math.floor(rand() * 800), latency_ms: ms(), success: ok, error_type: ok ? null : 'rate_limit_exceeded' }), ev), { cost_usd: rand() * 0.05, cost_source: 'computed' }))
        break
      }
      case 2:
        out.push(enriched(agentEvent('llm_call_started', llmPayload({ output_tokens: 0, latency_ms: null, input_tokens: 999 }), ev)))
        break
      case 3:
        out.push(enriched(agentEvent('agent_execution_started', executionPayload(), ev)))
        break
      case 4: {
        const ok = rand() > 0.2
        out.push(enriched(agentEvent('agent_execution_completed', executionPayload({ latency_ms: ms() * 10, success: ok, error_type: ok ? null : 'timeout' }), ev)))
        break
      }
      case 5:
        out.push(enriched(agentEvent('tool_usage_completed', toolPayload({ tool_name: pick(['web_search', 'calculator', 'sql']), execution_time_ms: ms(), success: rand() > 0.15 }), ev), rand() < 0.3 ? { cost_usd: 0.002, cost_source: 'computed' } : {}))
        break
      case 6: {
        const primary = ev.agent!
        out.push(enriched(agentEvent('agent_collaboration', {
          primary_agent: primary, collaborating_agents: [pick(AGENTS), pick(AGENTS)], collaboration_type: 'consultation',
          consensus_reached: pick([true, false, null]), confidence_by_agent: {}, resolution_time_ms: ms(), knowledge_items_shared: Math.floor(rand() * 5),
        }, ev)))
        break
      }
      case 7:
        out.push(enriched(agentEvent('agent_handoff', { from_agent: ev.agent!, to_agent: pick(AGENTS), topic: 'triage', reason: null }, ev)))
        break
      case 8: {
        const formed = rand() < 0.5
        out.push(enriched(agentEvent(formed ? 'hypothesis_formed' : 'hypothesis_validated', {
          hypothesis_id: `h-${Math.floor(rand() * 20)}`, statement: 's', domain: pick(['sleep', 'nutrition', null]), confidence: 0.7,
          status: formed ? 'formed' : pick(['validated', 'invalidated', 'pending'] as const), evidence_count: 2,
        }, ev), { agent_domain: 'neuroscience' }))
        break
      }
      case 9:
        out.push(enriched(agentEvent('knowledge_access', { knowledge_item_id: `k-${Math.floor(rand() * 8)}`, domain: 'sleep', access_type: 'read', items_retrieved: Math.floor(rand() * 4), found: rand() > 0.3 }, ev)))
        break
      default: {
        const hitAt = Math.floor(rand() * 4)
        const tried = TIERS.slice(0, Math.min(hitAt + 1, 3)).map((tier, k) => ({ tier, latency_ms: ms() / 100, hit: k === hitAt }))
        out.push(enriched(agentEvent('memory_tier_access', { tier_served: hitAt < 3 ? TIERS[hitAt]! : null, tier_latencies: tried, items_retrieved: hitAt < 3 ? 1 : 0, query_hash: null }, ev)))
      }
    }
  }
  return out
}
