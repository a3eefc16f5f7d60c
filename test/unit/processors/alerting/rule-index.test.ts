/**
 * The rule engine's index (processors/alerting/rule-index.ts) and the in-place percentile of a
 * histogram record (window-buckets.ts): an event reaches exactly the rules whose selector
 * matches it (as event-facts.ts `matches` decides), in rule order; rules grouping by the same
 * labels share one key; the percentile equals schemas/latency-histogram.ts `percentile`.
 */
import { describe, expect, it } from 'vitest'
import { OVERFLOW_BUCKET, percentile } from '../../../../schemas/index.ts'
import { eventFacts, matches } from '../../../../processors/alerting/event-facts.ts'
import { RuleIndex } from '../../../../processors/alerting/rule-index.ts'
import { validateRuleFile, type Rule } from '../../../../processors/alerting/rule-schema.ts'
import { percentileOfRecord } from '../../../../processors/alerting/window-buckets.ts'
import { benchRuleFile } from '../../../bench/alerting-rules.ts'
import { randomWorkload } from '../../../helpers/aggregation-events.ts'

function rules(specs: unknown[]): Rule[] {
  const r = validateRuleFile({ rules: specs })
  if (!r.ok) throw new Error(r.errors.join('\n'))
  return r.rules
}

const count = { kind: 'count', window: '5m', threshold: 3 }
/** Every selector field, alone and combined, beside the shipped rules and the 50 bench rules. */
const SELECTOR_RULES = [
  { selector: { agents: ['sleep', 'recovery'] }, group_by: ['agent'] },
  { selector: { models: ['gpt-4o'] }, group_by: ['model', 'agent'] },
  { selector: { users: ['user-b'] }, group_by: ['user'] },
  { selector: { tiers: ['operational'], models: ['claude-3-5-sonnet'] }, group_by: ['agent'] },
  { selector: { sources: ['test'], success: false }, group_by: ['agent', 'model'] },
  { selector: { error_types: ['rate_limit_exceeded'], event_types: ['llm_call_completed', 'tool_usage_completed'] }, group_by: ['agent'] },
  { selector: { health_status: ['unhealthy', 'degraded'] }, group_by: ['component'] },
  { selector: { anomaly: true, event_types: ['biometric_analysis'] }, group_by: ['metric'] },
  { selector: { success: true, tiers: ['operational', 'analytical'], event_types: ['agent_execution_completed'] }, group_by: [] },
].map((r, i) => ({ id: `sel-${i}`, severity: 'info', condition: count, annotations: { summary: 'x' }, ...r }))
const WINDOW_SUM = { id: 'sum', severity: 'info', group_by: ['agent'], condition: { kind: 'window_sum', window: '1h', field: 'errors', threshold: 5 }, annotations: { summary: 'x' } }

describe('rule index', () => {
  const all = rules([...benchRuleFile().rules, ...SELECTOR_RULES, WINDOW_SUM])
  const index = new RuleIndex(all)
  const events = randomWorkload(7, 3000, { startUs: Date.UTC(2026, 0, 1) * 1000, stepMs: 20, jitterMs: 200 })

  it('gives an event exactly the rules whose selector matches it, in rule order, never a window_sum rule', () => {
    let reached = 0
    const hits = all.map(() => 0)
    for (const e of events) {
      const f = eventFacts(e)
      const viaIndex = index.rulesFor(e.event.event_type).filter((i) => index.selectors[i]!(f))
      const expected = all.flatMap((r, i) => (r.condition.kind !== 'window_sum' && matches(r.selector, f) ? [i] : []))
      expect(viaIndex).toEqual(expected)
      reached += viaIndex.length
      for (const i of viaIndex) hits[i]! += 1
    }
    // Each label selector of SELECTOR_RULES is met by some events of the workload (not vacuous).
    for (const id of ['sel-0', 'sel-1', 'sel-2', 'sel-3', 'sel-4', 'sel-5']) expect(hits[all.findIndex((r) => r.id === id)], id).toBeGreaterThan(0)
    // The workload must exercise the index: most rules match some events, some match none.
    expect(reached).toBeGreaterThan(events.length)
    expect(reached).toBeLessThan(events.length * all.length)
  })

  it('builds the same group key as the labels of each rule, once per distinct group_by list', () => {
    expect(index.keyLabels.length).toBeLessThan(all.length)
    for (const e of events.slice(0, 500)) {
      const f = eventFacts(e)
      all.forEach((r, i) => {
        let key = ''
        for (const l of r.group_by) if (f.labels[l] !== null) key += `${l}\u0001${f.labels[l]}\u0002`
        expect(RuleIndex.groupKey(index.keyLabels[index.keySlot[i]!]!, f)).toBe(key)
      })
    }
  })

  it('reaches no rule for an event type no selector names when every rule names types', () => {
    const only = rules([{ id: 'llm', severity: 'info', selector: { event_types: ['llm_call_completed'] }, condition: count, annotations: { summary: 'x' } }])
    expect(new RuleIndex(only).rulesFor('system_health')).toEqual([])
    expect(new RuleIndex(only).rulesFor('llm_call_completed')).toEqual([0])
  })
})

describe('percentile of a histogram record', () => {
  it('equals the percentile of the same counts as a Map, at p50, p95 and p99', () => {
    let seed = 11
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
    for (let round = 0; round < 300; round += 1) {
      const hist: Record<number, number> = {}
      const size = 1 + Math.floor(rand() * 20)
      for (let j = 0; j < size; j += 1) {
        const idx = Math.floor(rand() * (OVERFLOW_BUCKET + 1))
        hist[idx] = (hist[idx] ?? 0) + 1 + Math.floor(rand() * 50)
      }
      const asMap = new Map(Object.entries(hist).map(([k, v]) => [Number(k), v]))
      const total = Object.values(hist).reduce((a, b) => a + b, 0)
      for (const q of [0, 0.01, 0.5, 0.95, 0.99, 1]) {
        expect(percentileOfRecord(hist, q)).toBe(percentile(asMap, q))
        expect(percentileOfRecord(hist, q, total)).toBe(percentile(asMap, q))
      }
    }
    expect(percentileOfRecord({}, 0.95)).toBeNull()
    expect(percentileOfRecord(undefined, 0.95)).toBeNull()
  })
})
