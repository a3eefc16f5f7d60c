/**
 * Shared aggregations in the rule engine (processors/alerting/engine.ts, rule-index.ts
 * `aggregationId`): rules that read one window give each exactly the alerts it gives in an
 * engine of its own; the allocation-free check of an inactive rule (conditions.ts `slidingHolds`)
 * agrees with the full evaluation; a state saved by an engine with one window per rule (before
 * shared aggregations) is converted and continues.
 */
import { describe, expect, it } from 'vitest'
import type { Alert } from '../../../../schemas/index.ts'
import { evaluateWindowed, keepFromMs, slidingHolds, slidingLatency, stepMs } from '../../../../processors/alerting/conditions.ts'
import { fingerprint, RuleEngine, type LegacyEngineState } from '../../../../processors/alerting/engine.ts'
import { aggregationId, RuleIndex } from '../../../../processors/alerting/rule-index.ts'
import { validateRuleFile, type Rule } from '../../../../processors/alerting/rule-schema.ts'
import { addToBuckets, emptyTotals, pruneBuckets, type Bucket } from '../../../../processors/alerting/window-buckets.ts'
import { benchRuleFile } from '../../../bench/alerting-rules.ts'
import { agentEvent, enriched, llmPayload, randomWorkload } from '../../../helpers/aggregation-events.ts'

function rules(specs: unknown[]): Rule[] {
  const r = validateRuleFile({ rules: specs })
  if (!r.ok) throw new Error(r.errors.join('\n'))
  return r.rules
}

const T0 = Date.UTC(2026, 0, 1) // ms
const END = T0 + 2 * 24 * 3600 * 1000

function runAll(engine: RuleEngine, events: ReturnType<typeof randomWorkload>): Alert[] {
  const out: Alert[] = []
  events.forEach((e, i) => out.push(...engine.onEvent(e, i % 5 === 0)))
  out.push(...engine.advanceTo(END))
  return out
}

describe('shared aggregations', () => {
  // The shipped rules and the 50 bench rules: count, ratio, latency, budget, absence, baseline and event rules, many sharing windows.
  const all = rules(benchRuleFile().rules)
  const index = new RuleIndex(all)

  it('rules that differ only in what they compare share one aggregation; a different selector, grouping or window does not', () => {
    const base = { id: 'a', severity: 'info', group_by: ['agent'], selector: { event_types: ['llm_call_completed'] }, condition: { kind: 'count', window: '5m', threshold: 3 }, annotations: { summary: 'x' } }
    const [a, b, c, d, e, f] = rules([
      base,
      { ...base, id: 'b', severity: 'critical', for: '1m', condition: { kind: 'count', window: '5m', threshold: 30 } },
      { ...base, id: 'c', condition: { kind: 'count', window: '1h', threshold: 3 } },
      { ...base, id: 'd', group_by: ['model'] },
      { ...base, id: 'e', selector: { event_types: ['llm_call_completed'], success: false } },
      { ...base, id: 'f', condition: { kind: 'count', window: '5m', window_type: 'tumbling', threshold: 3 } },
    ])
    expect(aggregationId(b!)).toBe(aggregationId(a!))
    for (const other of [c, d, e, f]) expect(aggregationId(other!)).not.toBe(aggregationId(a!))
    // Selector key order does not matter.
    const [x, y] = rules([{ ...base, id: 'x', selector: { success: false, agents: ['A'] } }, { ...base, id: 'y', selector: { agents: ['A'], success: false } }])
    expect(aggregationId(x!)).toBe(aggregationId(y!))
    // The bench rule set shares: fewer aggregations than rules.
    expect(index.aggregationIds.length).toBeLessThan(all.length / 2)
  })

  it('gives every rule exactly the alerts it gives in an engine of its own, in the same order', () => {
    const events = randomWorkload(5, 6000, { startUs: T0 * 1000, stepMs: 600, jitterMs: 2000 })
    const together = runAll(new RuleEngine(all), events)
    let rulesThatFired = 0
    for (const rule of all) {
      const alone = runAll(new RuleEngine([rule]), events)
      expect(together.filter((a) => a.rule === rule.id), rule.id).toEqual(alone)
      if (alone.length > 0) rulesThatFired += 1
    }
    // Not vacuous: rules of shared aggregations fire and resolve in this workload.
    expect(rulesThatFired).toBeGreaterThan(20)
    expect(together.filter((a) => a.status === 'resolved').length).toBeGreaterThan(100)
  })

  it('a snapshot restored into a new engine continues exactly as the original, timer order included', () => {
    const events = randomWorkload(6, 4000, { startUs: T0 * 1000, stepMs: 600, jitterMs: 2000 })
    const whole = runAll(new RuleEngine(all), events)
    const first = new RuleEngine(all)
    const out: Alert[] = []
    events.slice(0, 2000).forEach((e, i) => out.push(...first.onEvent(e, i % 5 === 0)))
    const second = new RuleEngine(all, {}, JSON.parse(first.serialize()))
    events.slice(2000).forEach((e, i) => out.push(...second.onEvent(e, (i + 2000) % 5 === 0)))
    out.push(...second.advanceTo(END))
    expect(out).toEqual(whole)
    expect(JSON.parse(first.serialize())).toEqual(first.snapshot())
  })
})

describe('the allocation-free check of an inactive rule', () => {
  it('agrees with the full evaluation for sliding count, ratio, latency, budget, window_sum and baseline conditions', () => {
    const conds = rules([
      { kind: 'count', window: '5m', threshold: 7 },
      { kind: 'ratio', window: '5m', numerator: { success: false }, threshold: 0.3, min_sample: 5 },
      { kind: 'latency', window: '5m', statistic: 'p95', threshold_ms: 2500, min_sample: 5 },
      { kind: 'latency', window: '5m', statistic: 'p50', threshold_ms: 1500, min_sample: 1 },
      { kind: 'latency', window: '5m', statistic: 'mean', threshold_ms: 2000, min_sample: 3 },
      { kind: 'budget', window: '5m', measure: 'usd', budget: 2, warn_at: 0.8 },
      { kind: 'window_sum', window: '5m', field: 'errors', threshold: 9 },
      { kind: 'baseline', window: '1m', baseline_window: '5m', drop: 0.5, min_baseline_events: 10 },
    ].map((condition, i) => ({ id: `c${i}`, severity: 'info', group_by: condition.kind === 'window_sum' ? ['agent'] : [], condition, annotations: { summary: 'x' } }))).map((r) => r.condition)
    let seed = 3
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
    let holding = 0
    let checks = 0
    for (const c of conds) {
      for (let round = 0; round < 400; round += 1) {
        const buckets: Bucket[] = []
        const totals = emptyTotals()
        let now = T0
        const n = Math.floor(rand() * 30)
        for (let j = 0; j < n; j += 1) {
          now += Math.floor(rand() * 20_000)
          const latencyMs = rand() * 5000
          addToBuckets(buckets, stepMs(c), now, { n: 1, k: rand() < 0.4 ? 1 : 0, sum: c.kind === 'latency' ? latencyMs : rand(), latencyMs: c.kind === 'latency' ? latencyMs : undefined }, totals)
        }
        now += Math.floor(rand() * 200_000)
        pruneBuckets(buckets, stepMs(c), keepFromMs(c, now), totals)
        const quick = slidingHolds(c, buckets, totals, now, (s) => slidingLatency(totals, s))
        expect(quick, `${c.kind} round ${round}`).toBe(evaluateWindowed(c, buckets, totals, now).active)
        checks += 1
        if (quick) holding += 1
      }
    }
    // Both outcomes were met.
    expect(holding).toBeGreaterThan(checks / 10)
    expect(holding).toBeLessThan(checks - checks / 10)
  })

  it('leaves tumbling windows, event and absence rules to the full evaluation', () => {
    const [t, e, a] = rules([
      { id: 't', severity: 'info', condition: { kind: 'count', window: '5m', window_type: 'tumbling', threshold: 1 }, annotations: { summary: 'x' } },
      { id: 'e', severity: 'info', condition: { kind: 'event' }, keep_firing_for: '1m', annotations: { summary: 'x' } },
      { id: 'a', severity: 'info', condition: { kind: 'absence', after: '5m' }, annotations: { summary: 'x' } },
    ])
    for (const r of [t, e, a]) expect(slidingHolds(r!.condition, [], emptyTotals(), T0, () => null)).toBeUndefined()
  })
})

describe('a state saved with one window per rule', () => {
  const RATE_LIMIT = {
    id: 'rate-limited', severity: 'warning', group_by: ['agent'], selector: { event_types: ['llm_call_completed'], error_types: ['rate_limit_exceeded'] },
    condition: { kind: 'count', window: '5m', threshold: 3 }, keep_firing_for: '1m', annotations: { summary: '{{ labels.agent }}: {{ value }}' },
  }
  const rateLimit = (atMs: number, agent: string, id: string) =>
    enriched(agentEvent('llm_call_completed', llmPayload({ success: false, error_type: 'rate_limit_exceeded', latency_ms: null, output_tokens: 0 }), { id, timestampUs: atMs * 1000, agent }))

  it('is converted: a firing alert keeps its fingerprint and start, shared rules read the one window, and it resolves when the window empties', () => {
    const fp = fingerprint('rate-limited', { agent: 'Programmer' })
    const fpStricter = fingerprint('rate-limited-5', { agent: 'Programmer' })
    const bucketStep = 30_000
    const legacyGroup = (phase: 'inactive' | 'firing', f: string) => ({
      labels: { agent: 'Programmer' }, buckets: [{ start: T0, n: 3, k: 0, sum: 0 }], totals: { n: 3, k: 0, sum: 0 }, lastSeenMs: null, phase,
      activeSinceMs: phase === 'firing' ? T0 + 20_000 : null, firingSinceMs: phase === 'firing' ? T0 + 20_000 : null, clearedAtMs: null,
      value: 3, threshold: 3, window: { start: T0 + 20_001 - 300_000, end: T0 + 20_001 }, replay: false, dueMs: T0 + bucketStep + 300_000 - 1, touchedAt: 3, insertedAt: 1, f,
    })
    const saved = {
      clockMs: T0 + 20_000,
      groups: {
        'rate-limited': { [fp]: legacyGroup('firing', fp) },
        'rate-limited-5': { [fpStricter]: legacyGroup('inactive', fpStricter) },
        'a-rule-no-longer-there': { ffff: legacyGroup('firing', 'ffff') },
      },
    } as unknown as LegacyEngineState
    const ruleSet = rules([RATE_LIMIT, { ...RATE_LIMIT, id: 'rate-limited-5', condition: { kind: 'count', window: '5m', threshold: 5 } }])
    const engine = new RuleEngine(ruleSet, {}, saved)
    const snap = engine.snapshot()
    expect(snap.version).toBe(2)
    const groups = Object.values(snap.aggregations)
    expect(groups).toHaveLength(1) // both rules read one window
    const g = Object.values(groups[0]!)[0]!
    expect(g.buckets).toEqual([{ start: T0, n: 3, k: 0, sum: 0 }])
    expect(Object.keys(g.alerts ?? {})).toEqual(['rate-limited'])
    expect(engine.firingByRule().get('rate-limited')!.firing).toBe(1)
    // Two more rate limits: the stricter rule reaches 5 on the converted window.
    const more = [...engine.onEvent(rateLimit(T0 + 40_000, 'Programmer', 'm1')), ...engine.onEvent(rateLimit(T0 + 50_000, 'Programmer', 'm2'))]
    expect(more.map((a) => `${a.rule} ${a.status} ${a.fingerprint}`)).toEqual([`rate-limited-5 firing ${fpStricter}`])
    const resolved = engine.advanceTo(T0 + 60 * 60_000)
    const first = resolved.find((a) => a.rule === 'rate-limited')!
    expect(first).toMatchObject({ status: 'resolved', fingerprint: fp, starts_at: (T0 + 20_000) * 1000 })
    expect(resolved.map((a) => a.rule).sort()).toEqual(['rate-limited', 'rate-limited-5'])
    expect(engine.groupCount()).toBe(0)
  })
})
