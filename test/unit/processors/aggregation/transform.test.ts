import { describe, expect, it } from 'vitest'
import { addDecimal } from '../../../../processors/aggregation/decimal.ts'
import { markLate, mergeDeltas, type MergedDelta } from '../../../../processors/aggregation/rollup-delta.ts'
import { createAggregationTransform, toRollupDelta } from '../../../../processors/aggregation/transform.ts'
import { agentEvent, enriched, llmPayload, randomWorkload, seededRandom } from '../../../helpers/aggregation-events.ts'
import { fixtureNames, readFixture, runFixture } from './fixture-harness.ts'

const names = fixtureNames()
const T0 = Date.UTC(2025, 0, 1, 12, 0, 0) * 1000

describe('aggregation transform: golden fixtures', () => {
  it('has the fixture cases', () => {
    expect(names.length).toBeGreaterThanOrEqual(15)
  })

  it.each(names)('%s', (name) => {
    const { input, expected } = readFixture(name)
    expect(runFixture(input)).toEqual(expected)
  })
})

/** Sum of a counter over rows. */
function total(rows: readonly Record<string, unknown>[] | undefined, column: string): number {
  return (rows ?? []).reduce((n, r) => n + Number(r[column] ?? 0), 0)
}

describe('counting rules over a random workload', () => {
  const events = randomWorkload(11, 2000, { startUs: T0, stepMs: 150, jitterMs: 20_000 })
  const merged = mergeDeltas(events.map((e) => toRollupDelta(e)))

  it('tokens come from llm_call_completed only, per agent, exactly', () => {
    const expected = new Map<string, number>()
    for (const { event: e } of events) {
      if (e.event_type === 'llm_call_completed') expected.set(e.source_agent!.id, (expected.get(e.source_agent!.id) ?? 0) + e.payload.input_tokens)
    }
    const got = new Map<string, number>()
    for (const r of merged.rows.agent ?? []) if (r.input_tokens) got.set(r.agent_id, (got.get(r.agent_id) ?? 0) + r.input_tokens)
    expect(got).toEqual(expected)
    expect(events.some((e) => e.event.event_type === 'llm_call_started')).toBe(true)
    expect(total(merged.rows.llm, 'input_tokens')).toBe(total(merged.rows.agent, 'input_tokens'))
  })

  it('cost is every enriched cost_usd summed exactly (agent rows), LLM + tool rows add up to it', () => {
    const costs = events.flatMap((e) => (e.cost_usd ? [e.cost_usd] : []))
    const agentCost = addDecimal(...(merged.rows.agent ?? []).map((r) => r.cost_usd ?? '0'))
    expect(agentCost).toBe(addDecimal(...costs))
    expect(Math.abs(Number(agentCost) - costs.reduce((a, b) => a + b, 0))).toBeLessThan(1e-9)
    const parts = addDecimal(...[...(merged.rows.llm ?? []), ...(merged.rows.tool ?? [])].map((r) => r.cost_usd ?? '0'))
    expect(parts).toBe(agentCost)
  })

  it('every row of a delta lies in the event\'s window', () => {
    for (const e of events.slice(0, 200)) {
      const d = toRollupDelta(e)
      for (const rows of Object.values(d.rows)) for (const r of rows ?? []) expect((r as { window_start_us: number }).window_start_us).toBe(d.window_start_us)
    }
  })
})

describe('mergeDeltas', () => {
  const deltas = randomWorkload(5, 600, { startUs: T0, stepMs: 500, jitterMs: 5_000 }).map((e) => toRollupDelta(e))
  const withoutObservations = (m: MergedDelta) => ({ ...m, observations: [...m.observations].sort((a, b) => a.ms - b.ms) })

  it('is order-free: any permutation or grouping gives the same merged delta', () => {
    const whole = mergeDeltas(deltas)
    const rand = seededRandom(8)
    const shuffled = [...deltas].sort(() => rand() - 0.5)
    expect(withoutObservations(mergeDeltas(shuffled))).toEqual(withoutObservations(whole))
    // merging merged halves through their rows gives the same rows
    expect(mergeDeltas(shuffled.slice(0, 300)).events + mergeDeltas(shuffled.slice(300)).events).toBe(whole.events)
  })

  it('sorts rows by key (the lock order of the upserts)', () => {
    const agents = (mergeDeltas(deltas).rows.agent ?? []).map((r) => JSON.stringify([r.window_start_us, r.agent_id]))
    expect(agents).toEqual([...agents].sort())
  })

  it('keeps the latest activity and hypothesis state by (event time, event_id)', () => {
    const a = toRollupDelta(enriched(agentEvent('llm_call_started', llmPayload(), { id: '00000000-0000-4000-8000-000000000002', timestampUs: T0 + 5, agent: 'x' })))
    const b = toRollupDelta(enriched(agentEvent('llm_call_completed', llmPayload(), { id: '00000000-0000-4000-8000-000000000001', timestampUs: T0 + 5, agent: 'x' })))
    const c = toRollupDelta(enriched(agentEvent('agent_decision', { decision: 'd', category: null, confidence: null, urgency: null, reasoning_steps: [] }, { id: '00000000-0000-4000-8000-000000000003', timestampUs: T0 + 1, agent: 'x' })))
    for (const order of [[a, b, c], [c, b, a], [b, c, a]]) {
      const [act] = mergeDeltas(order).activity
      expect(act).toMatchObject({ first_seen_us: T0 + 1, last_seen_us: T0 + 5, last_event_type: 'llm_call_started', events: 3, llm_calls_in_flight: 0 })
    }
  })
})

describe('markLate', () => {
  it('adds one late event to each agent row of the delta, once', () => {
    const collab = toRollupDelta(enriched(agentEvent('agent_handoff', { from_agent: 'a', to_agent: 'b', topic: null, reason: null }, { id: '00000000-0000-4000-8000-00000000000a', timestampUs: T0, agent: 'a' })))
    const late = markLate(collab)
    expect(late.late).toBe(true)
    expect(late.rows.agent?.map((r) => [r.agent_id, r.late_events])).toEqual([['a', 1], ['b', 1]])
    expect(markLate(late)).toBe(late)
    expect(mergeDeltas([late, collab]).late_events).toBe(1)
  })
})

describe('createAggregationTransform', () => {
  const transform = createAggregationTransform(60_000)

  it('emits the delta of a valid event', () => {
    const e = enriched(agentEvent('llm_call_completed', llmPayload(), { id: '0b7f1c52-2d7e-4c55-8f8e-2b6a0f6d9a11', timestampUs: T0 }))
    const out = transform(e)
    expect(out.kind).toBe('emit')
    if (out.kind === 'emit') expect(out.records[0]!.value).toEqual(toRollupDelta(e))
  })

  it('dead-letters an event_id that is not a UUID (the sink stores ids as uuid)', () => {
    const out = transform(enriched(agentEvent('llm_call_completed', llmPayload(), { id: 'not-a-uuid', timestampUs: T0 })))
    expect(out).toEqual({ kind: 'dead-letter', reason: 'VALIDATION_FAILED', message: "event_id must be a UUID, got 'not-a-uuid'" })
  })
})
