/**
 * Synthetic AgentEvents for the six AUREN specialists: a deterministic (seeded) stream that covers
 * every event type of the schema with plausible payloads. Pure: no clock, no I/O.
 */
import type { AgentEvent, AgentEventType, AgentRef, PayloadByType, PerformanceMetrics } from '../../schemas/index.ts'
import { SYNTHETIC_TIME_ATTRIBUTE } from './common.ts'

/** The seed's six specialists: id, role and domain. */
export const AUREN_SPECIALISTS: readonly AgentRef[] = Object.freeze([
  { id: 'neuroscientist', role: 'Neuroscientist', domain: 'neuroscience' },
  { id: 'nutritionist', role: 'Nutritionist', domain: 'nutrition' },
  { id: 'training_coach', role: 'Training Coach', domain: 'training' },
  { id: 'sleep_specialist', role: 'Sleep Specialist', domain: 'sleep' },
  { id: 'recovery_specialist', role: 'Recovery Specialist', domain: 'recovery' },
  { id: 'mental_health', role: 'Mental Health', domain: 'mental_health' },
])

/** Per-domain content: tools, the biometric each reads (normal range, unit), and texts. */
const DOMAIN: Record<string, { tools: string[]; metric: [string, string, number, number]; topic: string; advice: string }> = {
  neuroscience: { tools: ['hrv_analyzer', 'cognitive_load_estimator'], metric: ['hrv', 'ms', 35, 95], topic: 'autonomic balance', advice: 'schedule deep work before noon' },
  nutrition: { tools: ['meal_log_parser', 'macro_calculator'], metric: ['glucose', 'mg/dL', 75, 120], topic: 'post-meal glucose', advice: 'move carbohydrates after training' },
  training: { tools: ['workout_planner', 'load_calculator'], metric: ['training_load', 'au', 200, 700], topic: 'acute training load', advice: 'reduce volume by 20% this week' },
  sleep: { tools: ['sleep_stage_classifier', 'circadian_model'], metric: ['sleep_quality', 'score', 60, 95], topic: 'sleep efficiency', advice: 'keep a fixed wake time' },
  recovery: { tools: ['readiness_scorer', 'soreness_tracker'], metric: ['resting_hr', 'bpm', 48, 68], topic: 'recovery readiness', advice: 'take an active-recovery day' },
  mental_health: { tools: ['mood_journal_analyzer', 'stress_index'], metric: ['stress_score', 'score', 10, 45], topic: 'perceived stress', advice: 'add a 10-minute breathing session' },
}
const MODELS: ReadonlyArray<[string, string]> = [['gpt-4o', 'openai'], ['gpt-4o-mini', 'openai'], ['claude-sonnet-4-5', 'anthropic'], ['claude-haiku-4-5', 'anthropic']]
/** Tiers in read order with a typical latency range in ms and a hit probability. */
const TIERS = [['redis_immediate', 0.3, 3, 0.55], ['postgresql_structured', 4, 25, 0.6], ['chromadb_semantic', 30, 140, 0.85]] as const
const COMPONENTS = ['redis', 'postgresql', 'chromadb', 'llm_gateway', 'kafka'] as const

/** Options of `createSimulator`. */
export interface SimulatorOptions {
  /** PRNG seed (32-bit integer): the same seed gives the same stream. */
  seed: number
  /** End-user ids to draw from; default `user-001` … `user-005`. */
  users?: readonly string[]
  /** Time of the first event when `next` is called without a time, epoch microseconds; default 2025-01-01T00:00:00Z. */
  startTimeUs?: number
  /** Probability that an LLM or tool call fails; default 0.04. */
  failureRate?: number
  /** Probability that a biometric reading is anomalous; default 0.08. */
  anomalyRate?: number
}

/** A stream of events; each call returns the next one. */
export interface Simulator {
  /**
   * The next event. Without `nowUs`, stamped with the simulator's own clock, which advances by
   * the scenario's realistic gaps (marked `auren.time.synthetic`). With `nowUs` (live mode): an
   * event of an open scenario that is due (its scheduled time ≤ nowUs), with that scheduled time,
   * else the first event of a new scenario starting at nowUs. Either way a completion is stamped
   * at its start + its latency, so `completed.timestamp − started.timestamp` equals the
   * reported latency (to the µs).
   */
  next(nowUs?: number): AgentEvent
}

/** mulberry32: a small seeded PRNG giving floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

type Step = { delayUs: number; type: AgentEventType; payload: unknown; source: AgentRef | null; target?: AgentRef | null; parentOf?: number; performance?: PerformanceMetrics | null }

/**
 * Creates a simulator. Each scenario is one user request to a primary specialist, in one trace:
 * execution start, memory tier read, knowledge access, biometric analysis, hypothesis formed,
 * LLM call (started → completed, parent-linked), tool call (started → completed), sometimes a
 * handoff and a collaboration with other specialists, a decision, hypothesis validated,
 * a memory write, a conversation turn, execution completed; between scenarios, sometimes a
 * system_health or performance_metric event. event_ids are UUID v4 drawn from the seeded PRNG.
 * A failed LLM call (rate limit, timeout, server error) reports no usage (0 tokens): such errors
 * return no completion and no `usage`, so nothing is billed (enrichment README, "Cost").
 */
export function createSimulator(options: SimulatorOptions): Simulator {
  const rnd = mulberry32(options.seed)
  const users = options.users && options.users.length > 0 ? options.users : ['user-001', 'user-002', 'user-003', 'user-004', 'user-005']
  const failureRate = options.failureRate ?? 0.04
  const anomalyRate = options.anomalyRate ?? 0.08
  let clock = options.startTimeUs ?? Date.UTC(2025, 0, 1) * 1000
  const range = (lo: number, hi: number): number => lo + (hi - lo) * rnd()
  const int = (lo: number, hi: number): number => Math.floor(range(lo, hi + 1))
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!
  const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d
  const hex = (n: number): string => Array.from({ length: n }, () => Math.floor(rnd() * 16).toString(16)).join('')
  const uuid = (): string => `${hex(8)}-${hex(4)}-4${hex(3)}-${pick(['8', '9', 'a', 'b'])}${hex(3)}-${hex(12)}`
  const perf = (ms: number, ok = true, err: string | null = null): PerformanceMetrics =>
    ({ latency_ms: round(ms), success: ok, error_type: err, confidence_score: null, memory_usage_mb: round(range(180, 420), 1), cpu_percent: round(range(5, 80), 1) })
  const queue: AgentEvent[] = []
  let scenario = 0

  function scenarioSteps(primary: AgentRef): Step[] {
    const d = DOMAIN[primary.domain!]!
    const steps: Step[] = []
    const tools = d.tools
    steps.push({ delayUs: 0, type: 'agent_execution_started', source: primary, payload: { task_id: `task-${hex(8)}`, execution_mode: 'sequential', tools_available: tools, latency_ms: null, success: null, error_type: null, output_length: null } })
    const lat: PayloadByType['memory_tier_access']['tier_latencies'] = []
    let served: PayloadByType['memory_tier_access']['tier_served'] = null
    for (const [tier, lo, hi, p] of TIERS) {
      const hit = rnd() < p
      lat.push({ tier, latency_ms: round(range(lo, hi), 3), hit })
      if (hit) { served = tier; break }
    }
    const memMs = lat.reduce((s, t) => s + t.latency_ms, 0)
    steps.push({ delayUs: 2_000, type: 'memory_tier_access', source: primary, payload: { tier_served: served, tier_latencies: lat, items_retrieved: served ? int(1, 12) : 0, query_hash: hex(16) }, performance: perf(memMs) })
    steps.push({ delayUs: Math.round(memMs * 1000) + 1_000, type: 'knowledge_access', source: primary, payload: { knowledge_item_id: `kb-${primary.domain}-${int(1, 400)}`, domain: primary.domain, access_type: pick(['read', 'search']), items_retrieved: int(0, 8), found: rnd() < 0.9 } })
    const [metric, unit, lo, hi] = d.metric
    const anomaly = rnd() < anomalyRate
    const value = anomaly ? (rnd() < 0.5 ? lo * range(0.5, 0.85) : hi * range(1.15, 1.6)) : range(lo, hi)
    steps.push({ delayUs: 40_000, type: 'biometric_analysis', source: primary, payload: { metric, value: round(value, 1), unit, anomaly } })
    const hypothesisId = `hyp-${hex(12)}`
    const statement = `${anomaly ? 'Anomalous' : 'Stable'} ${metric} suggests a change in ${d.topic}`
    steps.push({ delayUs: 20_000, type: 'hypothesis_formed', source: primary, payload: { hypothesis_id: hypothesisId, statement, domain: primary.domain, confidence: round(range(0.4, 0.8)), status: 'formed', evidence_count: int(1, 5) } })
    const [model, provider] = pick(MODELS)
    const input = int(400, 6000)
    const callFails = rnd() < failureRate
    const output = callFails ? 0 : int(60, 1200)
    const llmMs = callFails ? range(50, 900) : 250 + output * range(8, 25)
    const error = callFails ? pick(['rate_limit_exceeded', 'timeout', 'server_error']) : null
    const llm = (o: Partial<PayloadByType['llm_call_completed']>) => ({ model, provider, input_tokens: input, output_tokens: 0, cached_input_tokens: null, reasoning_tokens: null, reported_cost_usd: null, latency_ms: null, success: true, error_type: null, purpose: `analyze ${d.topic}`, ...o })
    steps.push({ delayUs: 5_000, type: 'llm_call_started', source: primary, payload: llm({ input_tokens: Math.round(input * range(0.95, 1.05)) }) })
    steps.push({ delayUs: Math.round(llmMs * 1000), type: 'llm_call_completed', source: primary, parentOf: steps.length - 1, payload: llm({ input_tokens: callFails ? 0 : input, output_tokens: output, cached_input_tokens: rnd() < 0.3 && !callFails ? int(0, input) : null, latency_ms: round(llmMs), success: !callFails, error_type: error }), performance: perf(llmMs, !callFails, error) })
    const tool = pick(tools)
    const toolFails = rnd() < failureRate
    const toolMs = range(15, 800)
    steps.push({ delayUs: 3_000, type: 'tool_usage_started', source: primary, payload: { tool_name: tool, input_size_bytes: int(100, 20_000), output_size_bytes: null, execution_time_ms: null, success: true, error_type: null } })
    steps.push({ delayUs: Math.round(toolMs * 1000), type: 'tool_usage_completed', source: primary, parentOf: steps.length - 1, payload: { tool_name: tool, input_size_bytes: int(100, 20_000), output_size_bytes: toolFails ? 0 : int(200, 50_000), execution_time_ms: round(toolMs), success: !toolFails, error_type: toolFails ? pick(['timeout', 'invalid_input']) : null }, performance: perf(toolMs, !toolFails, toolFails ? 'tool_error' : null) })
    if (anomaly || rnd() < 0.4) {
      const others = AUREN_SPECIALISTS.filter((a) => a.id !== primary.id)
      const peer = pick(others)
      const peers = [peer, ...(rnd() < 0.4 ? [pick(others.filter((a) => a !== peer))] : [])]
      steps.push({ delayUs: 10_000, type: 'agent_handoff', source: primary, target: peer, payload: { from_agent: primary.id, to_agent: peer.id, topic: d.topic, reason: anomaly ? 'anomalous biometric needs a second opinion' : 'cross-domain consultation' } })
      const conf: Record<string, number> = { [primary.id]: round(range(0.55, 0.95)) }
      for (const p of peers) conf[p.id] = round(range(0.45, 0.95))
      steps.push({ delayUs: int(300_000, 2_500_000), type: 'agent_collaboration', source: primary, target: peer, payload: { primary_agent: primary.id, collaborating_agents: peers.map((p) => p.id), collaboration_type: pick(['consultation', 'consensus', 'review']), consensus_reached: rnd() < 0.8, confidence_by_agent: conf, resolution_time_ms: round(range(300, 2500)), knowledge_items_shared: int(1, 6) } })
    }
    const urgency = anomaly ? pick(['high', 'critical']) : pick(['low', 'medium'])
    steps.push({ delayUs: 15_000, type: 'agent_decision', source: primary, payload: { decision: `Recommend to ${d.advice}`, category: 'recommendation', confidence: round(range(0.6, 0.97)), urgency, reasoning_steps: [`read ${metric}`, `compared with 14-day baseline`, `weighed ${d.topic}`] } })
    const validated = rnd() < 0.7
    steps.push({ delayUs: 5_000, type: 'hypothesis_validated', source: primary, payload: { hypothesis_id: hypothesisId, statement, domain: primary.domain, confidence: round(range(0.6, 0.95)), status: validated ? 'validated' : 'invalidated', evidence_count: int(2, 9) } })
    steps.push({ delayUs: 4_000, type: 'memory_operation', source: primary, payload: { operation: pick(['created', 'updated']), memory_id: `mem-${hex(10)}`, memory_type: pick(['fact', 'episode', 'preference']), confidence: round(range(0.5, 0.99)) } })
    steps.push({ delayUs: 2_000, type: 'conversation_turn', source: primary, payload: { conversation_id: `conv-${scenario}`, turn_index: int(0, 12), message_size_bytes: int(200, 4000) } })
    // completion 1 ms after the last step: its latency is the whole span from the start
    const total = (steps.reduce((s, x) => s + x.delayUs, 0) + 1_000) / 1000
    steps.push({ delayUs: 1_000, type: 'agent_execution_completed', source: primary, parentOf: 0, payload: { task_id: (steps[0]!.payload as { task_id: string }).task_id, execution_mode: 'sequential', tools_available: tools, latency_ms: round(total), success: !callFails, error_type: callFails ? 'llm_call_failed' : null, output_length: int(200, 3000) }, performance: perf(total, !callFails, callFails ? 'llm_call_failed' : null) })
    if (rnd() < 0.15) {
      const component = pick(COMPONENTS)
      const status = rnd() < 0.85 ? 'healthy' : pick(['degraded', 'unhealthy'])
      steps.push({ delayUs: 50_000, type: 'system_health', source: null, payload: { component, status, details: { p99_ms: String(int(1, 400)), region: 'local' } } })
    }
    if (rnd() < 0.15) {
      steps.push({ delayUs: 50_000, type: 'performance_metric', source: null, payload: pick([{ name: 'memory.redis.hit_ratio', value: round(range(0.4, 0.95), 3), unit: 'ratio' }, { name: 'llm.queue.wait', value: round(range(0.001, 0.4), 3), unit: 'seconds' }]) })
    }
    return steps
  }

  function refill(nowUs: number | undefined): void {
    scenario += 1
    const primary = pick(AUREN_SPECIALISTS)
    const user = pick(users)
    const traceId = `sim-${uuid()}`
    const ids: string[] = []
    let t = nowUs ?? clock + int(200_000, 5_000_000)
    const timeAttr = nowUs === undefined ? { [SYNTHETIC_TIME_ATTRIBUTE]: 'simulator clock' } : {}
    for (const s of scenarioSteps(primary)) {
      t += s.delayUs
      const id = uuid()
      ids.push(id)
      queue.push({
        event_id: id, trace_id: traceId, session_id: `session-${user}`, parent_event_id: s.parentOf === undefined ? null : ids[s.parentOf]!,
        timestamp: t, event_type: s.type, source_agent: s.source, target_agent: s.target ?? null, user_id: s.source ? user : null,
        source: 'simulator', payload: s.payload, performance: s.performance ?? null, attributes: { 'auren.sim.scenario': String(scenario), ...timeAttr },
      } as AgentEvent)
    }
    // Scenarios overlap in live mode: keep the queue in time order (stable: ties keep step order).
    queue.sort((a, b) => a.timestamp - b.timestamp)
  }

  return {
    next(nowUs?: number): AgentEvent {
      if (queue.length === 0 || (nowUs !== undefined && queue[0]!.timestamp > nowUs)) refill(nowUs)
      const out = queue.shift()!
      clock = Math.max(clock, out.timestamp)
      return out
    },
  }
}
