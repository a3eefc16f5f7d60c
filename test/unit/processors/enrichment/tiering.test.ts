import { describe, expect, it } from 'vitest'
import { AGENT_EVENT_TYPES, type AgentEvent } from '../../../../schemas/index.ts'
import { CRITICAL_RULES } from '../../../../processors/enrichment/config.ts'
import { DEFAULT_TIERS, decideTier } from '../../../../processors/enrichment/tiering.ts'

const all = { overrides: {}, criticalRules: [...CRITICAL_RULES] }

function event(eventType: AgentEvent['event_type'], payload: unknown, performance: AgentEvent['performance'] = null): AgentEvent {
  return {
    event_id: '0b7f1c52-2d7e-4c55-8f8e-2b6a0f6d9a11', trace_id: 't', session_id: null, parent_event_id: null, timestamp: 1,
    event_type: eventType, source_agent: null, target_agent: null, user_id: null, source: 'test', payload, performance, attributes: {},
  } as AgentEvent
}
const perf = (success: boolean, errorType: string | null = null) => ({ latency_ms: 1, success, error_type: errorType, confidence_score: null, memory_usage_mb: null, cpu_percent: null })
const exec = (success: boolean | null, errorType: string | null = null) => event('agent_execution_completed', { task_id: null, execution_mode: null, tools_available: [], latency_ms: 1, success, error_type: errorType, output_length: null })
const health = (status: string) => event('system_health', { component: 'redis', status, details: {} })
const bio = (anomaly: boolean) => event('biometric_analysis', { metric: 'hrv', value: 40, unit: 'ms', anomaly })

describe('decideTier', () => {
  it('has the contract defaults for every event type', () => {
    expect(Object.keys(DEFAULT_TIERS).sort()).toEqual([...AGENT_EVENT_TYPES].sort())
    const byTier = (tier: string) => AGENT_EVENT_TYPES.filter((t) => DEFAULT_TIERS[t] === tier).sort()
    expect(byTier('critical')).toEqual([])
    expect(byTier('operational')).toEqual([
      'agent_collaboration', 'agent_decision', 'agent_execution_completed', 'agent_execution_started', 'agent_handoff',
      'llm_call_completed', 'llm_call_started', 'tool_usage_completed', 'tool_usage_started',
    ])
  })

  it.each([
    ['payload failure', exec(false, 'boom'), 'failure'],
    ['payload failure without class', exec(false), 'failure'],
    ['success', exec(true, null), null],
    ['error_type on payload', exec(null, 'timeout'), 'error'],
    ['degraded', health('degraded'), 'unhealthy'],
    ['unhealthy', health('unhealthy'), 'unhealthy'],
    ['anomaly', bio(true), 'anomaly'],
  ] as const)('%s', (_, e, rule) => {
    const d = decideTier(e, all)
    if (rule === null) expect(d).toEqual({ tier: 'operational', reason: 'default' })
    else expect(d).toEqual({ tier: 'critical', reason: rule })
  })

  it('reads success and error_type from the performance block', () => {
    expect(decideTier(event('agent_handoff', { from_agent: 'a', to_agent: 'b', topic: null, reason: null }, perf(false)), all)).toEqual({ tier: 'critical', reason: 'failure' })
    expect(decideTier(event('memory_operation', { operation: 'created', memory_id: 'm', memory_type: 'fact', confidence: null }, perf(true, 'slow')), all)).toEqual({ tier: 'critical', reason: 'error' })
  })

  it('keeps healthy, normal and blank-error events at their default tier', () => {
    expect(decideTier(health('healthy'), all).tier).toBe('analytical')
    expect(decideTier(bio(false), all).tier).toBe('analytical')
    expect(decideTier(exec(true, '  '), all).tier).toBe('operational')
  })

  it('applies per-type overrides, and rules still escalate an overridden type', () => {
    const opts = { overrides: { system_health: 'operational', llm_call_completed: 'analytical' } as const, criticalRules: [...CRITICAL_RULES] }
    expect(decideTier(health('healthy'), opts)).toEqual({ tier: 'operational', reason: 'override' })
    expect(decideTier(health('unhealthy'), opts)).toEqual({ tier: 'critical', reason: 'unhealthy' })
  })

  it('lets configuration switch critical rules off', () => {
    expect(decideTier(bio(true), { overrides: {}, criticalRules: ['failure', 'error', 'unhealthy'] }).tier).toBe('analytical')
    expect(decideTier(exec(false, 'boom'), { overrides: {}, criticalRules: ['error'] })).toEqual({ tier: 'critical', reason: 'error' })
    expect(decideTier(exec(false, 'boom'), { overrides: {}, criticalRules: [] }).tier).toBe('operational')
  })
})
