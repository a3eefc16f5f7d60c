/**
 * Event time of the alerting app across partitions (processors/alerting/definition.ts with
 * idle-watermark.ts): each partition's clock moves with its own records, an idle partition
 * follows the watermark of the active ones, so the same history gives the same alerts whatever
 * the interleaving of partitions and ticks; processing time moves a clock only when every
 * partition is idle. The definition is driven as the runner drives it (transform per record,
 * punctuate per partition and tick) with one state per partition.
 */
import { describe, expect, it } from 'vitest'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import type { Alert, EnrichedAgentEvent } from '../../../../schemas/index.ts'
import { alertingDefinition, type AlertingInput, type AlertingState } from '../../../../processors/alerting/definition.ts'
import { validateRuleFile, type Rule } from '../../../../processors/alerting/rule-schema.ts'
import type { PartitionRef } from '../../../../processors/runtime/context.ts'
import type { AcknowledgingSink } from '../../../../processors/runtime/sinks/sink.ts'
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

const ref = (partition: number): PartitionRef => ({ input: 'enrichedEvents', topic: 't.enriched', partition })

/** The runner's side: one definition, a state and last-record time per partition, the outputs per partition. */
function harness(partitions: number) {
  const def = alertingDefinition({} as AcknowledgingSink<Alert>, { rules: RULES, maxGroupsPerRule: 100, replayLagMs: 3_600_000, idleTimeoutMs: IDLE_MS })
  const log = pino({ level: 'silent' })
  const registry = new Registry()
  const parts = Array.from({ length: partitions }, (_, p) => {
    let value: AlertingState = def.state!.initial()
    return { ref: ref(p), state: { get: () => value, set: (next: AlertingState) => (value = next) }, lastRecordAtMs: null as number | null, out: [] as string[] }
  })
  const show = (a: Alert) => `${a.rule} ${a.labels.agent} ${a.status} starts=${new Date(a.starts_at / 1000).toISOString()} ends=${a.ends_at === null ? '-' : new Date(a.ends_at / 1000).toISOString()}`
  return {
    parts,
    record(p: number, e: EnrichedAgentEvent, nowMs: number) {
      const part = parts[p]!
      part.lastRecordAtMs = nowMs
      const input: AlertingInput = { kind: 'event', value: e }
      const outcome = def.transform(input, { log, now: () => nowMs, source: { topic: part.ref.topic, partition: p, offset: '0' }, partition: part.ref, state: part.state, registry })
      if (outcome.kind === 'emit') part.out.push(...outcome.records.map((r) => show(r.value)))
    },
    tick(nowMs: number, order: number[]) {
      for (const p of order) {
        const part = parts[p]!
        part.out.push(...def.punctuate!(nowMs, part.ref, { log, state: part.state, lastRecordAtMs: part.lastRecordAtMs }).map((r) => show(r.value)))
      }
    },
  }
}

const iso = (ms: number) => new Date(ms).toISOString()

describe('alerting event time over partitions', () => {
  it('an idle partition follows the active partitions\' event time: its absences fire and its alerts resolve at the times its history implies', () => {
    const h = harness(2)
    let now = 0
    for (const e of RUN_A) h.record(0, e, (now += S))
    for (const e of RUN_B) {
      h.record(1, e, (now += S))
      h.tick(now, [0, 1])
    }
    expect(h.parts[0]!.out).toEqual([
      `agent-rate-limited Programmer firing starts=${iso(T0 + 3 * M)} ends=-`,
      // the first rate limit leaves the 5m window (10 buckets of 30 s) at T0 + 6m30s - 1 ms, then keep_firing_for 1m
      `agent-rate-limited Programmer resolved starts=${iso(T0 + 3 * M)} ends=${iso(T0 + 6 * M + 30 * S - 1 + M)}`,
      `agent-silent Programmer firing starts=${iso(T0 + 3 * M + 15 * M)} ends=-`,
      `agent-silent Reviewer firing starts=${iso(T0 + 5 * M + 15 * M)} ends=-`,
    ])
    expect(h.parts[1]!.out).toEqual([]) // run B: nobody silent 15 minutes, no rate limit
  })

  it('gives every partition the same alerts whatever the interleaving of records and ticks', () => {
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

    expect(interleaved.parts[0]!.out).toEqual(inOrder.parts[0]!.out)
    expect(interleaved.parts[1]!.out).toEqual(inOrder.parts[1]!.out)
    expect(inOrder.parts[0]!.out.filter((l) => l.startsWith('agent-silent'))).toHaveLength(2) // the ticks did run the timers
  })

  it('moves an idle partition to the active partitions\' event time, not past it', () => {
    const h = harness(2)
    h.record(0, llm(T0, 'Programmer', 'a'), 1 * S)
    h.record(1, llm(T0 + 10 * M, 'Reviewer', 'b'), 2 * S)
    h.tick(2 * S, [0, 1]) // both active: nothing moves
    h.tick(1 * S + IDLE_MS + 1, [0, 1]) // partition 0 idle, partition 1 active at T0 + 10m
    expect(h.parts[0]!.out).toEqual([])
    expect(h.parts[0]!.state.get().engine.clock).toBe(T0 + 10 * M)
  })

  it('moves the clocks on by processing time once every partition is idle (the traffic stopped)', () => {
    const h = harness(2)
    h.record(0, llm(T0, 'Programmer', 'a'), 0)
    h.record(1, llm(T0 + M, 'Reviewer', 'b'), 0)
    h.tick(16 * M, [0, 1])
    expect(h.parts[0]!.out).toEqual([`agent-silent Programmer firing starts=${iso(T0 + 15 * M)} ends=-`])
    expect(h.parts[1]!.out).toEqual([`agent-silent Reviewer firing starts=${iso(T0 + 16 * M)} ends=-`])
  })
})
