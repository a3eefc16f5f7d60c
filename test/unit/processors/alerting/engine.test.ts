/**
 * The stream rule engine (processors/alerting/engine.ts): each condition kind fires and stays
 * silent where it should, `for` and `keep_firing_for` hold, transitions are Alert records,
 * time-driven changes happen by punctuation (advanceTo), a replay gives the same records every
 * time, state survives a snapshot and restore, and memory stays bounded.
 */
import { describe, expect, it } from 'vitest'
import type { Alert, AgentMetricsWindow, EnrichedAgentEvent } from '../../../../schemas/index.ts'
import { fingerprint, RuleEngine, type EngineState } from '../../../../processors/alerting/engine.ts'
import { validateRuleFile, type Rule } from '../../../../processors/alerting/rule-schema.ts'
import { agentEvent, enriched, executionPayload, llmPayload } from '../../../helpers/aggregation-events.ts'

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0) // ms
const S = 1000
const M = 60 * S
let seq = 0

function rules(...specs: unknown[]): Rule[] {
  const r = validateRuleFile({ rules: specs })
  if (!r.ok) throw new Error(r.errors.join('\n'))
  return r.rules
}

function llm(atMs: number, agent: string, p: Parameters<typeof llmPayload>[0] = {}, extra: Partial<EnrichedAgentEvent> = {}, user: string | null = null): EnrichedAgentEvent {
  return enriched(agentEvent('llm_call_completed', llmPayload(p), { id: `e-${++seq}`, timestampUs: atMs * 1000, agent, user }), extra)
}
const rateLimit = (atMs: number, agent: string) => llm(atMs, agent, { success: false, error_type: 'rate_limit_exceeded', latency_ms: null, output_tokens: 0 })

function run(engine: RuleEngine, events: EnrichedAgentEvent[]): Alert[] {
  return events.flatMap((e) => engine.onEvent(e))
}
const brief = (a: Alert) => `${a.rule} ${a.status} ${a.labels.agent ?? a.labels.component ?? ''} @${(a.status === 'firing' ? a.starts_at : a.ends_at!) / 1000 - T0}`.trim()

const RATE_LIMIT = {
  id: 'rate-limited', severity: 'warning', group_by: ['agent'],
  selector: { event_types: ['llm_call_completed'], error_types: ['rate_limit_exceeded'] },
  condition: { kind: 'count', window: '5m', threshold: 3 },
  keep_firing_for: '1m',
  annotations: { summary: '{{ labels.agent }}: {{ value }} rate limits in {{ window }}', description: 'at least {{ threshold }}', runbook_url: 'prometheus/runbooks.md#agent-rate-limited' },
}

describe('count over a sliding event-time window', () => {
  it('fires at the threshold for the agent that hit it, and resolves after the window and keep_firing_for', () => {
    const engine = new RuleEngine(rules(RATE_LIMIT))
    const out = run(engine, [rateLimit(T0, 'Programmer'), rateLimit(T0 + 10 * S, 'Programmer'), rateLimit(T0 + 20 * S, 'Reviewer'), rateLimit(T0 + 30 * S, 'Programmer')])
    expect(out.map(brief)).toEqual([`rate-limited firing Programmer @${30 * S}`])
    const a = out[0]!
    expect(a).toMatchObject({
      rule: 'rate-limited', severity: 'warning', status: 'firing', value: 3, threshold: 3, ends_at: null,
      labels: { alertname: 'rate-limited', severity: 'warning', agent: 'Programmer' },
      annotations: { summary: 'Programmer: 3 rate limits in 5m', description: 'at least 3', runbook: 'prometheus/runbooks.md#agent-rate-limited' },
    })
    expect(a.fingerprint).toBe(fingerprint('rate-limited', { agent: 'Programmer' }))
    expect(a.source_window!.end - a.source_window!.start).toBe(5 * M * 1000)
    // The window slides past the first event at about T0 + 5m; keep_firing_for holds it 1 more minute.
    expect(engine.advanceTo(T0 + 5 * M + 30 * S)).toEqual([])
    const resolved = engine.advanceTo(T0 + 7 * M)
    expect(resolved.map(brief)).toEqual([`rate-limited resolved Programmer @${5 * M + 30 * S - 1 + M}`])
    expect(resolved[0]!.starts_at).toBe(a.starts_at)
  })

  it('stays silent below the threshold, and for events outside the window', () => {
    const engine = new RuleEngine(rules(RATE_LIMIT))
    expect(run(engine, [rateLimit(T0, 'Programmer'), rateLimit(T0 + 1 * M, 'Programmer'), rateLimit(T0 + 7 * M, 'Programmer'), rateLimit(T0 + 8 * M, 'Reviewer')])).toEqual([])
    expect(engine.advanceTo(T0 + 60 * M)).toEqual([])
    expect(engine.groupCount()).toBe(0) // nothing left in any window: no state kept
  })

  it('does not count events that do not match the selector', () => {
    const engine = new RuleEngine(rules(RATE_LIMIT))
    expect(run(engine, [llm(T0, 'A', { success: false, error_type: 'timeout' }), llm(T0 + 1, 'A'), llm(T0 + 2, 'A', { success: false, error_type: 'timeout' })])).toEqual([])
  })
})

describe('tumbling windows', () => {
  it('evaluates each closed window once, at its end', () => {
    const engine = new RuleEngine(rules({ ...RATE_LIMIT, keep_firing_for: '0s', condition: { kind: 'count', window: '5m', window_type: 'tumbling', threshold: 3 } }))
    // 3 in [T0, T0+5m) but split 2 / 1 across a tumbling boundary in the second pair of windows.
    const out = run(engine, [rateLimit(T0 + 1 * M, 'A'), rateLimit(T0 + 2 * M, 'A'), rateLimit(T0 + 3 * M, 'A'), rateLimit(T0 + 9 * M, 'A'), rateLimit(T0 + 9 * M + 30 * S, 'A'), rateLimit(T0 + 10 * M + 10 * S, 'A')])
    expect(out.map(brief)).toEqual([`rate-limited firing A @${5 * M}`, `rate-limited resolved A @${10 * M}`])
    expect(engine.advanceTo(T0 + 20 * M)).toEqual([]) // [10m, 15m) held 1
  })
})

describe('ratio with a minimum sample', () => {
  const RATIO = {
    id: 'err', severity: 'warning', group_by: ['agent'], selector: { event_types: ['llm_call_completed'] },
    condition: { kind: 'ratio', window: '5m', numerator: { success: false }, threshold: 0.05, min_sample: 20 },
    annotations: { summary: '{{ value }}' },
  }
  it('fires above 5 % once there are 20 calls, with the ratio as value', () => {
    const engine = new RuleEngine(rules(RATIO))
    const events = Array.from({ length: 20 }, (_, i) => llm(T0 + i * S, 'A', i < 2 ? { success: false, error_type: 'x' } : {}))
    const out = run(engine, events)
    expect(out.map(brief)).toEqual([`err firing A @${19 * S}`])
    expect(out[0]!.value).toBeCloseTo(0.1)
  })
  it('stays silent under the minimum sample even at 100 % errors, and at exactly 5 %', () => {
    const engine = new RuleEngine(rules(RATIO))
    expect(run(engine, Array.from({ length: 19 }, (_, i) => llm(T0 + i * S, 'A', { success: false }))).length).toBe(0)
    const e2 = new RuleEngine(rules(RATIO))
    expect(run(e2, Array.from({ length: 40 }, (_, i) => llm(T0 + i * S, 'B', i % 20 === 19 ? { success: false } : {})))).toEqual([])
  })
})

describe('latency from the mergeable histograms', () => {
  const P95 = {
    id: 'p95', severity: 'warning', group_by: ['agent'], selector: { event_types: ['llm_call_completed'], success: true },
    condition: { kind: 'latency', window: '5m', statistic: 'p95', threshold_ms: 5000, min_sample: 20 },
    annotations: { summary: '{{ value }} ms' },
  }
  it('fires when p95 > 5,000 ms, its value within one bucket (9.05 %) of the true p95', () => {
    const engine = new RuleEngine(rules(P95))
    const out = run(engine, Array.from({ length: 20 }, (_, i) => llm(T0 + i * S, 'A', { latency_ms: i < 18 ? 1000 : 8000 })))
    expect(out.map(brief)).toEqual([`p95 firing A @${19 * S}`])
    expect(Math.abs(out[0]!.value - 8000) / 8000).toBeLessThan(0.0905)
  })
  it('stays silent when only 1 call in 20 is slow (p95 is fast), and under the minimum sample', () => {
    const engine = new RuleEngine(rules(P95))
    expect(run(engine, Array.from({ length: 20 }, (_, i) => llm(T0 + i * S, 'A', { latency_ms: i === 0 ? 9000 : 1000 })))).toEqual([])
    expect(run(new RuleEngine(rules(P95)), Array.from({ length: 19 }, (_, i) => llm(T0 + i * S, 'B', { latency_ms: 9000 })))).toEqual([])
  })
  it('mean latency: fires above the threshold, not at it', () => {
    const MEAN = { ...P95, id: 'mean', selector: { event_types: ['agent_execution_completed'] }, condition: { kind: 'latency', window: '15m', statistic: 'mean', threshold_ms: 5000, min_sample: 5 } }
    const exec = (t: number, ms: number) => enriched(agentEvent('agent_execution_completed', executionPayload({ latency_ms: ms, success: true }), { id: `x-${++seq}`, timestampUs: t * 1000, agent: 'A' }))
    const slow = run(new RuleEngine(rules(MEAN)), [4000, 5000, 6000, 7000, 6000].map((ms, i) => exec(T0 + i * M, ms)))
    expect(slow.map((a) => a.value)).toEqual([5600])
    expect(run(new RuleEngine(rules(MEAN)), [4000, 5000, 6000, 5000, 5000].map((ms, i) => exec(T0 + i * M, ms)))).toEqual([])
  })
})

describe('budget', () => {
  const BUDGET = {
    id: 'budget', severity: 'warning', group_by: ['user'], selector: { event_types: ['llm_call_completed'] },
    condition: { kind: 'budget', measure: 'usd', window: '1h', budget: 5, warn_at: 0.8 },
    annotations: { summary: '{{ labels.user }} {{ value }} of {{ threshold }}' },
  }
  it('warns at 80 % of the hourly USD budget per user', () => {
    const engine = new RuleEngine(rules(BUDGET))
    const out = run(engine, [1.5, 1.5, 0.9, 0.2].map((usd, i) => llm(T0 + i * 10 * M, 'A', {}, { cost_usd: usd }, 'u1')))
    expect(out.map((a) => [a.labels.user, a.value, a.threshold])).toEqual([['u1', 4.1, 4]])
  })
  it('stays silent when the spend is spread over more than an hour, or unpriced', () => {
    const engine = new RuleEngine(rules(BUDGET))
    expect(run(engine, [1.5, 1.5, 1.5, 1.5].map((usd, i) => llm(T0 + i * 35 * M, 'A', {}, { cost_usd: usd }, 'u1')))).toEqual([])
    expect(run(engine, Array.from({ length: 10 }, (_, i) => llm(T0 + 200 * M + i, 'A', {}, { cost_usd: null }, 'u2')))).toEqual([])
  })
})

describe('window_sum over AgentMetricsWindow records', () => {
  const ERRORS = { id: 'errors-hour', severity: 'warning', group_by: ['agent'], condition: { kind: 'window_sum', field: 'errors', window: '1h', threshold: 10 }, annotations: { summary: '{{ value }}' } }
  const win = (agent: string, startMs: number, errors: number): AgentMetricsWindow => ({
    agent_id: agent, window_start: startMs * 1000, window_end: (startMs + M) * 1000,
    executions: { started: 0, succeeded: 0, failed: 0 }, llm_calls: { succeeded: 0, failed: errors }, input_tokens: 0, output_tokens: 0,
    cost_usd: 0, tool_calls: 0, errors,
    execution_latency: { count: 0, sum_ms: 0, p50_ms: null, p95_ms: null, p99_ms: null },
    llm_latency: { count: 0, sum_ms: 0, p50_ms: null, p95_ms: null, p99_ms: null }, collaborations: 0, late_events: 0,
  })
  it('fires at 10 errors within an hour of windows (seed 002)', () => {
    const engine = new RuleEngine(rules(ERRORS))
    const out = [4, 3, 3].flatMap((n, i) => engine.onMetricsWindow(win('A', T0 + i * 20 * M, n)))
    expect(out.map((a) => [a.labels.agent, a.value])).toEqual([['A', 10]])
  })
  it('stays silent at 9, and when 10 errors are spread over more than an hour', () => {
    const engine = new RuleEngine(rules(ERRORS))
    expect([4, 3, 2].flatMap((n, i) => engine.onMetricsWindow(win('A', T0 + i * 20 * M, n)))).toEqual([])
    const e2 = new RuleEngine(rules(ERRORS))
    expect([5, 5].flatMap((n, i) => e2.onMetricsWindow(win('B', T0 + i * 70 * M, n)))).toEqual([])
  })
})

describe('absence, resolved by punctuation', () => {
  const SILENT = { id: 'silent', severity: 'warning', group_by: ['agent'], condition: { kind: 'absence', after: '10m' }, annotations: { summary: '{{ labels.agent }} silent for {{ window }}' } }
  it('fires for an agent that was active and then sent nothing, and resolves when it is back', () => {
    const engine = new RuleEngine(rules(SILENT))
    expect(run(engine, [llm(T0, 'A'), llm(T0 + 1 * M, 'B')])).toEqual([])
    expect(engine.advanceTo(T0 + 10 * M + 30 * S).map(brief)).toEqual([`silent firing A @${10 * M}`])
    const back = run(engine, [llm(T0 + 12 * M, 'A')])
    expect(back.map(brief)).toEqual([`silent firing B @${11 * M}`, `silent resolved A @${12 * M}`])
    expect(back[0]!.annotations.summary).toBe('B silent for 10m')
  })
  it('stays silent for an agent that keeps sending and for one never seen', () => {
    const engine = new RuleEngine(rules(SILENT))
    expect(run(engine, Array.from({ length: 12 }, (_, i) => llm(T0 + i * 5 * M, 'A')))).toEqual([])
  })
})

describe('change against a baseline', () => {
  const DROP = { id: 'drop', severity: 'critical', condition: { kind: 'baseline', window: '5m', baseline_window: '1h', drop: 0.5, min_baseline_events: 600 }, annotations: { summary: '{{ value }} < {{ threshold }}' } }
  const steady = (fromMs: number, toMs: number, everyMs: number) => Array.from({ length: Math.floor((toMs - fromMs) / everyMs) }, (_, i) => llm(fromMs + i * everyMs, 'A'))
  it('fires when events per second fall below half the previous hour\'s rate (seed 000)', () => {
    const engine = new RuleEngine(rules(DROP))
    expect(run(engine, steady(T0, T0 + 60 * M, S))).toEqual([]) // 1 event/s for an hour
    const out = run(engine, steady(T0 + 60 * M, T0 + 70 * M, 4 * S)) // then 0.25 event/s
    expect(out.map((a) => a.rule)).toEqual(['drop'])
    expect(out[0]!.threshold).toBeCloseTo(0.5, 1)
    expect(out[0]!.value).toBeLessThan(0.5)
  })
  it('stays silent at a 40 % drop, and without enough baseline', () => {
    const engine = new RuleEngine(rules(DROP))
    expect(run(engine, [...steady(T0, T0 + 60 * M, S), ...steady(T0 + 60 * M, T0 + 75 * M, 1667)])).toEqual([])
    expect(run(new RuleEngine(rules(DROP)), [...steady(T0, T0 + 60 * M, 10 * S), ...steady(T0 + 60 * M, T0 + 75 * M, 60 * S)])).toEqual([])
  })
})

describe('event rules and for / keep_firing_for', () => {
  const UNHEALTHY = {
    id: 'unhealthy', severity: 'critical', group_by: ['component'], selector: { event_types: ['system_health'], health_status: ['unhealthy'] },
    condition: { kind: 'event' }, keep_firing_for: '5m', annotations: { summary: '{{ labels.component }}' },
  }
  const health = (t: number, component: string, status: 'healthy' | 'unhealthy') =>
    enriched(agentEvent('system_health', { component, status, details: {} }, { id: `h-${++seq}`, timestampUs: t * 1000 }), { tier: 'critical' })
  it('fires at once on a matching event, keeps firing while they repeat, resolves keep_firing_for after the last', () => {
    const engine = new RuleEngine(rules(UNHEALTHY))
    const out = run(engine, [health(T0, 'redis', 'unhealthy'), health(T0 + 3 * M, 'redis', 'unhealthy'), health(T0 + 4 * M, 'redis', 'healthy')])
    expect(out.map(brief)).toEqual(['unhealthy firing redis @0'])
    expect(engine.advanceTo(T0 + 7 * M)).toEqual([])
    expect(engine.advanceTo(T0 + 9 * M).map(brief)).toEqual([`unhealthy resolved redis @${8 * M}`])
  })
  it('stays silent on healthy and degraded reports', () => {
    expect(run(new RuleEngine(rules(UNHEALTHY)), [health(T0, 'redis', 'healthy')])).toEqual([])
  })
  it('holds a condition pending for `for` before firing, and never fires when it clears first', () => {
    const PENDING = { ...RATE_LIMIT, id: 'pending', for: '2m', keep_firing_for: '0s' }
    const engine = new RuleEngine(rules(PENDING))
    const burst = [0, 1, 2, 3, 4, 5].map((i) => rateLimit(T0 + i * 30 * S, 'A'))
    const out = [...run(engine, burst), ...engine.advanceTo(T0 + 4 * M)]
    expect(out.map(brief)).toEqual([`pending firing A @${60 * S + 120 * S}`])
    // With a 1-minute window the burst leaves the window after 1 minute, before `for` (2m) ran out.
    const e2 = new RuleEngine(rules({ ...PENDING, condition: { kind: 'count', window: '1m', threshold: 3 } }))
    expect([...run(e2, [0, 1, 2].map((i) => rateLimit(T0 + i * S, 'B'))), ...e2.advanceTo(T0 + 10 * M)]).toEqual([])
    expect(e2.groupCount()).toBe(0)
  })
})

describe('determinism, replay label, state', () => {
  const history = () => {
    seq = 0
    return [...Array.from({ length: 30 }, (_, i) => rateLimit(T0 + i * 20 * S, i % 3 === 0 ? 'A' : 'B')), llm(T0 + 30 * M, 'C')]
  }
  it('a replay of the same history gives the same records every time', () => {
    const a = run(new RuleEngine(rules(RATE_LIMIT)), history())
    const b = run(new RuleEngine(rules(RATE_LIMIT)), history())
    expect(a.map((x) => x.status)).toEqual(['firing', 'firing', 'resolved', 'resolved'])
    expect(b).toEqual(a)
  })
  it('labels alerts from replayed history with replay="true"', () => {
    const engine = new RuleEngine(rules(RATE_LIMIT))
    const out = history().flatMap((e) => engine.onEvent(e, true))
    expect(out.every((a) => a.labels.replay === 'true')).toBe(true)
  })
  it('a snapshot restored into a new engine continues exactly as the original', () => {
    const events = history()
    const whole = run(new RuleEngine(rules(RATE_LIMIT)), events)
    const first = new RuleEngine(rules(RATE_LIMIT))
    const part1 = run(first, events.slice(0, 12))
    const saved: EngineState = JSON.parse(JSON.stringify(first.snapshot()))
    const second = new RuleEngine(rules(RATE_LIMIT), {}, saved)
    expect([...part1, ...run(second, events.slice(12))]).toEqual(whole)
  })
  it('keeps memory bounded: at most maxGroupsPerRule groups, dropping inactive ones first', () => {
    const engine = new RuleEngine(rules({ ...RATE_LIMIT, condition: { kind: 'count', window: '1h', threshold: 2 } }), { maxGroupsPerRule: 1000 })
    for (let i = 0; i < 5000; i += 1) engine.onEvent(rateLimit(T0 + i, `agent-${i}`))
    expect(engine.groupCount()).toBe(1000)
    expect(engine.stats().evictedGroups).toBe(4000)
  })
})
