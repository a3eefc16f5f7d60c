/**
 * Delivery tier of an event (CONTRACTS.md section 3). The gateway's latency budget follows it:
 * critical is sent at once, operational is batched up to 100 ms, analytical up to 500 ms.
 *
 * Decision order:
 * 1. critical rules (each can be switched off by configuration), first match wins:
 *    - `failure`: `success === false` in the payload (execution, LLM, tool) or in `performance`;
 *    - `error`: a non-empty `error_type` in the payload or in `performance`;
 *    - `unhealthy`: `system_health` with status other than `healthy`;
 *    - `anomaly`: `biometric_analysis` with `anomaly: true`;
 * 2. the event type's default tier: the per-type override from configuration when given, else
 *    {@link DEFAULT_TIERS}.
 * An override only replaces the default: a rule still escalates an overridden type to critical.
 */
import type { AgentEvent, AgentEventType, Tier } from '../../schemas/index.ts'
import type { CriticalRule } from './config.ts'

/**
 * Built-in default tier per event type, from CONTRACTS.md section 3. `system_health` is not in
 * the contract's lists (only "not healthy → critical"); a healthy heartbeat is analytical here:
 * it is periodic and nobody waits on it.
 */
export const DEFAULT_TIERS: { readonly [T in AgentEventType]: Tier } = Object.freeze({
  agent_execution_started: 'operational',
  agent_execution_completed: 'operational',
  llm_call_started: 'operational',
  llm_call_completed: 'operational',
  tool_usage_started: 'operational',
  tool_usage_completed: 'operational',
  agent_collaboration: 'operational',
  agent_handoff: 'operational',
  agent_decision: 'operational',
  hypothesis_formed: 'analytical',
  hypothesis_validated: 'analytical',
  knowledge_access: 'analytical',
  memory_tier_access: 'analytical',
  memory_operation: 'analytical',
  biometric_analysis: 'analytical',
  conversation_turn: 'analytical',
  performance_metric: 'analytical',
  system_health: 'analytical',
})

/** Tier configuration (config.ts: AUREN_ENRICHMENT_TIER_OVERRIDES, _CRITICAL_RULES). */
export interface TierOptions {
  readonly overrides: Readonly<Partial<Record<AgentEventType, Tier>>>
  readonly criticalRules: readonly CriticalRule[]
}

/** A tier and why: the critical rule that fired, `override`, or `default`. */
export interface TierDecision {
  readonly tier: Tier
  readonly reason: CriticalRule | 'override' | 'default'
}

function payloadOutcome(event: AgentEvent): { success: boolean | null; errorType: string | null } {
  switch (event.event_type) {
    case 'agent_execution_started':
    case 'agent_execution_completed':
    case 'llm_call_started':
    case 'llm_call_completed':
    case 'tool_usage_started':
    case 'tool_usage_completed':
      return { success: event.payload.success, errorType: event.payload.error_type }
    default:
      return { success: null, errorType: null }
  }
}

function hasText(s: string | null | undefined): boolean {
  return typeof s === 'string' && s.trim() !== ''
}

/**
 * Whether `rule` matches the event. A switch rather than an object of closures per event: tsx
 * (esbuild keepNames) wraps each named closure in a `__name` call when it is created.
 */
function ruleMatches(rule: CriticalRule, event: AgentEvent, fromPayload: { success: boolean | null; errorType: string | null }): boolean {
  const perf = event.performance
  switch (rule) {
    case 'failure':
      return fromPayload.success === false || perf?.success === false
    case 'error':
      return hasText(fromPayload.errorType) || hasText(perf?.error_type)
    case 'unhealthy':
      return event.event_type === 'system_health' && event.payload.status !== 'healthy'
    case 'anomaly':
      return event.event_type === 'biometric_analysis' && event.payload.anomaly
  }
}

const RULE_ORDER = ['failure', 'error', 'unhealthy', 'anomaly'] as const

/** @returns the critical rule that matches, or null. Rules are tried in CRITICAL_RULES order. */
export function criticalRule(event: AgentEvent, enabled: readonly CriticalRule[]): CriticalRule | null {
  const fromPayload = payloadOutcome(event)
  for (const rule of RULE_ORDER) {
    if (enabled.includes(rule) && ruleMatches(rule, event, fromPayload)) return rule
  }
  return null
}

/** Tier of one event, with the reason (see the module documentation). */
export function decideTier(event: AgentEvent, opts: TierOptions): TierDecision {
  const rule = criticalRule(event, opts.criticalRules)
  if (rule !== null) return { tier: 'critical', reason: rule }
  const override = opts.overrides[event.event_type]
  if (override !== undefined) return { tier: override, reason: 'override' }
  return { tier: DEFAULT_TIERS[event.event_type], reason: 'default' }
}
