/**
 * Every rule of the shipped file prometheus/auren-stream-rules.yml, with the seed thresholds,
 * fires where it should and stays silent where it should (each rule alone in an engine, so
 * that one rule's case does not depend on another's).
 */
import { describe, expect, it } from 'vitest'
import type { Alert, AgentMetricsWindow, EnrichedAgentEvent } from '../../../../schemas/index.ts'
import { RuleEngine } from '../../../../processors/alerting/engine.ts'
import { DEFAULT_RULE_FILE, loadRuleFile } from '../../../../processors/alerting/rule-file.ts'
import { agentEvent, enriched, executionPayload, llmPayload } from '../../../helpers/aggregation-events.ts'

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0)
const S = 1000
const M = 60 * S
let seq = 0
const loaded = loadRuleFile(DEFAULT_RULE_FILE)
if (!loaded.ok) throw new Error(loaded.errors.join('\n'))
const shipped = loaded.rules

function engineFor(id: string): RuleEngine {
  const rule = shipped.find((r) => r.id === id)
  if (!rule) throw new Error(`no shipped rule ${id}`)
  return new RuleEngine([rule])
}
const llm = (t: number, agent: string, p: Parameters<typeof llmPayload>[0] = {}, extra: Partial<EnrichedAgentEvent> = {}, user: string | null = null) =>
  enriched(agentEvent('llm_call_completed', llmPayload(p), { id: `d-${++seq}`, timestampUs: t * 1000, agent, user }), extra)
const every = (n: number, stepMs: number, make: (t: number, i: number) => EnrichedAgentEvent, from = T0) => Array.from({ length: n }, (_, i) => make(from + i * stepMs, i))
function feed(engine: RuleEngine, events: EnrichedAgentEvent[], thenMs?: number): Alert[] {
  const out = events.flatMap((e) => engine.onEvent(e))
  if (thenMs !== undefined) out.push(...engine.advanceTo(thenMs))
  return out
}
const firing = (alerts: Alert[]) => alerts.filter((a) => a.status === 'firing').map((a) => a.labels.agent ?? a.labels.user ?? a.labels.component ?? a.rule)

describe('shipped stream rules (seed thresholds)', () => {
  it('agent-rate-limited: 3 rate-limit failures of an agent in 5 minutes fire; 2 do not', () => {
    const rl = (t: number, agent: string) => llm(t, agent, { success: false, error_type: 'rate_limit_exceeded', latency_ms: null })
    expect(firing(feed(engineFor('agent-rate-limited'), [rl(T0, 'CEO'), rl(T0 + M, 'CEO'), rl(T0 + 2 * M, 'CEO'), rl(T0, 'CTO'), rl(T0 + 4 * M, 'CTO')]))).toEqual(['CEO'])
  })

  it('llm-error-rate-high (seed 000: 0.05): 10 % failed for 2 minutes fires; 1 in 40 does not', () => {
    const tenPercent = every(60, 4 * S, (t, i) => llm(t, 'A', i % 10 === 0 ? { success: false, error_type: 'server_error' } : {}))
    expect(firing(feed(engineFor('llm-error-rate-high'), tenPercent))).toEqual(['A'])
    const low = every(80, 4 * S, (t, i) => llm(t, 'A', i % 40 === 0 ? { success: false } : {}))
    expect(feed(engineFor('llm-error-rate-high'), low, T0 + 30 * M)).toEqual([])
  })

  it('llm-latency-p95-high (seed 000: 5,000 ms): p95 of 8 s for 2 minutes fires; 1 s does not', () => {
    expect(firing(feed(engineFor('llm-latency-p95-high'), every(60, 4 * S, (t) => llm(t, 'A', { latency_ms: 8000 }))))).toEqual(['A'])
    expect(feed(engineFor('llm-latency-p95-high'), every(60, 4 * S, (t) => llm(t, 'A', { latency_ms: 1000 })), T0 + 30 * M)).toEqual([])
  })

  it('agent-latency-average-high (seed 000: average 5,000 ms): mean 6 s fires; mean 4 s does not', () => {
    const exec = (t: number, ms: number) => enriched(agentEvent('agent_execution_completed', executionPayload({ latency_ms: ms, success: true }), { id: `d-${++seq}`, timestampUs: t * 1000, agent: 'A' }))
    expect(firing(feed(engineFor('agent-latency-average-high'), every(5, M, (t) => exec(t, 6000))))).toEqual(['A'])
    expect(feed(engineFor('agent-latency-average-high'), every(5, M, (t) => exec(t, 4000)), T0 + 60 * M)).toEqual([])
  })

  it('agent-errors-per-hour (seed 002: 10 errors per hour): 10 in an hour of windows fires; 9 do not', () => {
    const win = (i: number, errors: number): AgentMetricsWindow => ({
      agent_id: 'A', window_start: (T0 + i * 10 * M) * 1000, window_end: (T0 + (i + 1) * 10 * M) * 1000,
      executions: { started: 0, succeeded: 0, failed: 0 }, llm_calls: { succeeded: 0, failed: 0 }, input_tokens: 0, output_tokens: 0, cost_usd: 0, tool_calls: 0, errors,
      execution_latency: { count: 0, sum_ms: 0, p50_ms: null, p95_ms: null, p99_ms: null }, llm_latency: { count: 0, sum_ms: 0, p50_ms: null, p95_ms: null, p99_ms: null }, collaborations: 0, late_events: 0,
    })
    const e = engineFor('agent-errors-per-hour')
    expect(firing([2, 2, 2, 2, 2].flatMap((n, i) => e.onMetricsWindow(win(i, n))))).toEqual(['A'])
    const quiet = engineFor('agent-errors-per-hour')
    expect([2, 2, 2, 2, 1].flatMap((n, i) => quiet.onMetricsWindow(win(i, n)))).toEqual([])
  })

  it('events-rate-drop (seed 000: drop 0.5): a fall to 20 % of the hour\'s rate for 5 minutes fires; to 60 % does not', () => {
    const hour = every(3600, S, (t) => llm(t, 'A'))
    expect(firing(feed(engineFor('events-rate-drop'), [...hour, ...every(180, 5 * S, (t) => llm(t, 'A'), T0 + 60 * M)]))).toEqual(['events-rate-drop'])
    expect(feed(engineFor('events-rate-drop'), [...hour, ...every(900, 1667, (t) => llm(t, 'A'), T0 + 60 * M)])).toEqual([])
  })

  it('user-llm-budget-hourly (seed 001: warn at 80 % of 5 USD an hour): 4 USD fires; 3.9 USD does not', () => {
    expect(firing(feed(engineFor('user-llm-budget-hourly'), every(4, 10 * M, (t) => llm(t, 'A', {}, { cost_usd: 1 }, 'u1'))))).toEqual(['u1'])
    expect(feed(engineFor('user-llm-budget-hourly'), every(3, 10 * M, (t, i) => llm(t, 'A', {}, { cost_usd: i === 0 ? 1.9 : 1 }, 'u2')), T0 + 3 * 60 * M)).toEqual([])
  })

  it('agent-token-budget-hourly (seed 001: warn at 80 % of 2,000,000 tokens an hour): 1.6 M fires; 1.5 M does not', () => {
    expect(firing(feed(engineFor('agent-token-budget-hourly'), every(4, 10 * M, (t) => llm(t, 'A', { input_tokens: 300_000, output_tokens: 100_000 }))))).toEqual(['A'])
    expect(feed(engineFor('agent-token-budget-hourly'), every(3, 10 * M, (t) => llm(t, 'A', { input_tokens: 400_000, output_tokens: 100_000 })), T0 + 3 * 60 * M)).toEqual([])
  })

  it('system-unhealthy: an unhealthy report fires at once; a degraded one does not', () => {
    const h = (status: 'degraded' | 'unhealthy') => enriched(agentEvent('system_health', { component: 'chromadb', status, details: {} }, { id: `d-${++seq}`, timestampUs: T0 * 1000 }))
    const out = feed(engineFor('system-unhealthy'), [h('unhealthy')], T0 + 10 * M)
    expect(out.map((a) => [a.status, a.labels.component, a.severity])).toEqual([['firing', 'chromadb', 'critical'], ['resolved', 'chromadb', 'critical']])
    expect(feed(engineFor('system-unhealthy'), [h('degraded')], T0 + 10 * M)).toEqual([])
  })

  it('biometric-anomaly: a flagged analysis fires for the user and metric; an unflagged one does not', () => {
    const b = (anomaly: boolean) => enriched(agentEvent('biometric_analysis', { metric: 'hrv', value: 12, unit: 'ms', anomaly }, { id: `d-${++seq}`, timestampUs: T0 * 1000, user: 'u1' }))
    const out = feed(engineFor('biometric-anomaly'), [b(true)])
    expect(out.map((a) => a.labels)).toEqual([expect.objectContaining({ user: 'u1', metric: 'hrv' })])
    expect(feed(engineFor('biometric-anomaly'), [b(false)], T0 + 60 * M)).toEqual([])
  })

  it('agent-silent: an active agent silent for 15 minutes fires; one sending every 10 minutes does not', () => {
    const e = engineFor('agent-silent')
    expect(firing(feed(e, [llm(T0, 'A'), ...every(4, 10 * M, (t) => llm(t, 'B'))], T0 + 40 * M))).toEqual(['A'])
  })

  it('stream-silent: no event for 5 minutes fires, and the next event resolves it; a steady stream does not', () => {
    const e = engineFor('stream-silent')
    const out = feed(e, [llm(T0, 'A')], T0 + 6 * M)
    out.push(...e.onEvent(llm(T0 + 7 * M, 'A')))
    expect(out.map((a) => a.status)).toEqual(['firing', 'resolved'])
    expect(feed(engineFor('stream-silent'), every(20, 4 * M, (t) => llm(t, 'A')))).toEqual([])
  })
})
