/**
 * Event time of the alerting app across partitions (processors/alerting/definition.ts with
 * idle-watermark.ts): each partition's clock moves with its own records, an idle partition
 * follows the watermark of the active ones, so the same history gives the same alerts whatever
 * the interleaving of partitions and ticks; processing time moves a clock only when every
 * partition is idle. The definition is driven as the runner drives it (transform per record,
 * punctuate per partition and tick) with one state per partition.
 */
import { describe, expect, it } from 'vitest'
import type { EnrichedAgentEvent } from '../../../../schemas/index.ts'
import { validateRuleFile, type Rule } from '../../../../processors/alerting/rule-schema.ts'
import { alertingHarness } from '../../../helpers/alerting-definition-harness.ts'
import { agentEvent, enriched, llmPayload } from '../../../helpers/aggregation-events.ts'

const S = 1000
const M = 60 * S
const T0 = Date.UTC(2023, 7, 25, 10, 0, 0) // run A (ms)
const T1 = Date.UTC(2023, 8, 18, 10, 0, 0) // run B, weeks later (ms)
const IDLE_MS = 10 * S

const RULES: Rule[] = (() => {
  const r = validateRuleFile({
    rules: [
      {
        id: 'agent-rate-limited', severity: 'warning', group_by: ['agent'], keep_firing_for: '1m',
        selector: { event_types: ['llm_call_completed'], error_types: ['rate_limit_exceeded'] },
        condition: { kind: 'count', window: '5m', threshold: 3 },
        annotations: { summary: '{{ labels.agent }} rate limited', description: 'd' },
      },
      {
        id: 'agent-silent', severity: 'warning', group_by: ['agent'],
        condition: { kind: 'absence', after: '15m' },
        annotations: { summary: '{{ labels.agent }} silent', description: 'd' },
      },
    ],
  })
  if (!r.ok) throw new Error(r.errors.join('\n'))
  return r.rules
})()

let seq = 0
function llm(atMs: number, agent: string, trace: string, rateLimited = false): EnrichedAgentEvent {
  const p = rateLimited ? llmPayload({ success: false, error_type: 'rate_limit_exceeded', latency_ms: null, output_tokens: 0 }) : llmPayload()
  return enriched(agentEvent('llm_call_completed', p, { id: `e-${++seq}`, timestampUs: atMs * 1000, agent, trace }), { ingest_lag_ms: 0 })
}

/** Run A on partition 0: Programmer hits 3 rate limits, last event at T0 + 5m. */
const RUN_A = [llm(T0, 'Programmer', 'a'), llm(T0 + M, 'Programmer', 'a', true), llm(T0 + 2 * M, 'Programmer', 'a', true), llm(T0 + 3 * M, 'Programmer', 'a', true), llm(T0 + 5 * M, 'Reviewer', 'a')]
/** Run B on partition 1: events every minute for 20 minutes, weeks later. */
const RUN_B = Array.from({ length: 21 }, (_, i) => llm(T1 + i * M, i % 2 === 0 ? 'Programmer' : 'Reviewer', 'b'))

/** The runner's side: two enriched partitions and two repartition partitions (test/helpers/alerting-definition-harness.ts). */
function harness(partitions: number) {
  const h = alertingHarness({ rules: RULES, sources: partitions, merges: 2, idleTimeoutMs: IDLE_MS })
  return {
    ...h,
    record: h.record,
    /** A tick of the enriched partitions in `order`, then the repartition records delivered. */
    tick(nowMs: number, order: number[]) {
      h.tick(nowMs, order)
      h.deliver(nowMs)
    },
  }
}

const iso = (ms: number) => new Date(ms).toISOString()

describe('alerting event time over partitions', () => {
  it('an idle partition follows the active partitions\' event time: absences fire and alerts resolve at the times the history implies', () => {
    const h = harness(2)
    let now = 0
    for (const e of RUN_A) h.record(0, e, (now += S))
    for (const e of RUN_B) {
      h.record(1, e, (now += S))
      h.tick(now, [0, 1])
    }
    // The rule groups by agent, so each agent's events meet on one repartition partition, from
    // both enriched partitions; times fall on bucket ends (30 s for the 5m count, 90 s for the
    // 15m absence).
    expect([...h.mergedAlerts()].sort()).toEqual([
      // the third rate limit (T0 + 3m) counts when its bucket closes, at T0 + 3m30s
      `agent-rate-limited Programmer firing starts=${iso(T0 + 3 * M + 30 * S)} ends=-`,
      // the first rate limit's bucket leaves the 5m window at T0 + 6m30s, then keep_firing_for 1m
      `agent-rate-limited Programmer resolved starts=${iso(T0 + 3 * M + 30 * S)} ends=${iso(T0 + 7 * M + 30 * S)}`,
      // Programmer's last event of run A at T0 + 3m, Reviewer's at T0 + 5m: 15 minutes later, on a 90 s bucket end
      `agent-silent Programmer firing starts=${iso(T0 + 18 * M)} ends=-`,
      // both agents are back in run B (T1, T1 + 1m): the absences resolve when that bucket closes
      `agent-silent Programmer resolved starts=${iso(T0 + 18 * M)} ends=${iso(T1 + 90 * S)}`,
      `agent-silent Reviewer firing starts=${iso(T0 + 21 * M)} ends=-`,
      `agent-silent Reviewer resolved starts=${iso(T0 + 21 * M)} ends=${iso(T1 + 90 * S)}`,
    ].sort())
    expect(h.sources.flatMap((p) => p.alerts)).toEqual([]) // no event rule: the enriched partitions raise nothing themselves
  })

  it('gives the same alerts whatever the interleaving of records and ticks', () => {
    const inOrder = harness(2)
    let now = 0
    for (const e of RUN_A) inOrder.record(0, e, (now += S))
    for (const e of RUN_B) {
      inOrder.record(1, e, (now += S))
      inOrder.tick(now, [0, 1])
    }
    inOrder.tick(now + 5 * S, [0, 1])

    const interleaved = harness(2)
    now = 0
    const b = [...RUN_B]
    for (const e of RUN_A) {
      interleaved.record(1, b.shift()!, (now += 3 * S))
      interleaved.tick(now, [1, 0])
      interleaved.record(0, e, (now += 2 * S))
    }
    for (const e of b) {
      interleaved.record(1, e, (now += 2 * S))
      interleaved.tick(now, [1, 0])
    }
    interleaved.tick(now + 5 * S, [1, 0])

    expect(interleaved.merges.map((m) => m.alerts)).toEqual(inOrder.merges.map((m) => m.alerts))
    expect(inOrder.mergedAlerts().filter((l) => l.startsWith('agent-silent') && l.includes('firing'))).toHaveLength(2) // the ticks did run the timers
  })

  it('moves an idle partition to the active partitions\' event time, not past it', () => {
    const h = harness(2)
    h.record(0, llm(T0, 'Programmer', 'a'), 1 * S)
    h.record(1, llm(T0 + 10 * M, 'Reviewer', 'b'), 2 * S)
    h.tick(2 * S, [0, 1]) // both active: nothing moves
    h.tick(1 * S + IDLE_MS + 1, [0, 1]) // partition 0 idle, partition 1 active at T0 + 10m
    expect(h.mergedAlerts()).toEqual([])
    expect(h.sources[0]!.state.get().engine.clock).toBe(T0 + 10 * M)
    expect(h.sources[0]!.state.get().partials!.clock).toBe(T0 + 10 * M)
  })

  it('moves the clocks on by processing time once every partition is idle (the traffic stopped)', () => {
    const h = harness(2)
    h.record(0, llm(T0, 'Programmer', 'a'), 0)
    h.record(1, llm(T0 + M, 'Reviewer', 'b'), 0)
    // Partition 0 moves to T0 + 16m, partition 1 to T0 + 17m. Both are idle and have sent every
    // bucket they held, so the merge's watermark is the highest of theirs, T0 + 17m.
    h.tick(16 * M, [0, 1])
    expect([...h.mergedAlerts()].sort()).toEqual([
      `agent-silent Programmer firing starts=${iso(T0 + 15 * M)} ends=-`,
      // Reviewer's silence reaches 15 minutes at T0 + 16m, due on the next 90 s bucket end
      `agent-silent Reviewer firing starts=${iso(T0 + 16 * M + 30 * S)} ends=-`,
    ])
  })
})
