import { describe, expect, it } from 'vitest'
import { eventDetail, humanLine } from '../../../scripts/lib/tail-command.ts'

const ev = (event_type: string, payload: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  ({ timestamp: '2026-11-30T16:00:00.000000Z', tier: 'analytical', event_type, source_agent: { id: 'neuroscientist' }, target_agent: null, payload, ...extra })

describe('auren tail: the detail an SRE looks for', () => {
  it('system health component and status', () => {
    expect(eventDetail(ev('system_health', { component: 'redis', status: 'degraded', details: {} }))).toBe('redis degraded')
  })
  it('biometric metric, value, unit and anomaly', () => {
    expect(eventDetail(ev('biometric_analysis', { metric: 'hrv', value: 21.4, unit: 'ms', anomaly: true }))).toBe('hrv=21.4 ms ANOMALY')
    expect(eventDetail(ev('biometric_analysis', { metric: 'hrv', value: 61, unit: 'ms', anomaly: false }))).toBe('hrv=61 ms')
  })
  it('the memory tier that served a lookup, and the tiers tried', () => {
    const p = { tier_served: 'postgresql_structured', tier_latencies: [{ tier: 'redis_immediate', latency_ms: 0.4, hit: false }, { tier: 'postgresql_structured', latency_ms: 7.1, hit: true }] }
    expect(eventDetail(ev('memory_tier_access', p))).toBe('served by postgresql_structured (tried redis_immediate:miss(0.4ms)>postgresql_structured(7.1ms))')
    expect(eventDetail(ev('memory_tier_access', { tier_served: null, tier_latencies: [] }))).toMatch(/^not found in any tier/)
  })
  it('decision category and urgency', () => {
    expect(eventDetail(ev('agent_decision', { decision: 'x', category: 'recommendation', urgency: 'high' }))).toBe('category=recommendation urgency=high')
  })
  it('a failed attempt without an answer is named as such, not as a call', () => {
    const retry = ev('llm_call_completed', { model: 'gpt-4', input_tokens: 0, output_tokens: 0, reported_cost_usd: null, success: false, error_type: 'rate_limit_exceeded' }, { tier: 'critical' })
    expect(humanLine(retry)).toMatch(/llm_call_completed\s+neuroscientist gpt-4 failed attempt rate_limit_exceeded \(no answer: not a call\)$/)
    const answered = ev('llm_call_completed', { model: 'gpt-4', input_tokens: 1668, output_tokens: 0, reported_cost_usd: null, success: false, error_type: 'content_filter' }, { cost_usd: 0.05 })
    expect(eventDetail(answered)).toBe('gpt-4 in=1668 out=0 $0.050000 error content_filter')
  })
})
