/**
 * The engines' work as committed counts (processors/alerting/engine-counters.ts, through the
 * definition's afterCommit): condition evaluations by rule reported once per committed batch,
 * the work of a batch rolled back (its state restored from the last save) never, and groups
 * dropped at the cap by reason.
 */
import { describe, expect, it } from 'vitest'
import type { EnrichedAgentEvent } from '../../../../schemas/index.ts'
import { alertingDefinition, type AlertingInput, type AlertingOutput, type AlertingState } from '../../../../processors/alerting/definition.ts'
import type { EngineWork } from '../../../../processors/alerting/engine-counters.ts'
import { validateRuleFile, type Rule } from '../../../../processors/alerting/rule-schema.ts'
import type { PartitionRef } from '../../../../processors/runtime/context.ts'
import type { AcknowledgingSink } from '../../../../processors/runtime/sinks/sink.ts'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { agentEvent, enriched, llmPayload } from '../../../helpers/aggregation-events.ts'

const T0 = Date.UTC(2026, 0, 1, 10) // ms
const REF: PartitionRef = { input: 'enrichedEvents', topic: 't.enriched', partition: 0 }

const RULES: Rule[] = (() => {
  const r = validateRuleFile({
    rules: [
      // an `event` rule: evaluated where the event is read, once per matching event
      { id: 'llm-failed', severity: 'warning', group_by: ['agent'], keep_firing_for: '5m', selector: { event_types: ['llm_call_completed'], success: false }, condition: { kind: 'event' }, annotations: { summary: 's', description: 'd' } },
    ],
  })
  if (!r.ok) throw new Error(r.errors.join('\n'))
  return r.rules
})()

let seq = 0
const failed = (agent: string): EnrichedAgentEvent =>
  enriched(agentEvent('llm_call_completed', llmPayload({ success: false, error_type: 'timeout', latency_ms: null, output_tokens: 0 }), { id: `e-${++seq}`, timestampUs: (T0 + seq) * 1000, agent, trace: 't' }), { ingest_lag_ms: 0 })

/** The definition with one enriched partition driven as the runner drives it: transform per record, stream-time punctuation at the batch's end, afterCommit on success. */
function setup(maxGroupsPerRule = 100) {
  const reports: EngineWork[] = []
  const def = alertingDefinition({} as AcknowledgingSink<AlertingOutput>, {
    rules: RULES, maxGroupsPerRule, replayLagMs: 3_600_000, idleTimeoutMs: 0, allowedLatenessMs: 0, partitions: { enriched: 1, partials: 1 },
    onCommitted: (_alerts, work) => reports.push(work),
  })
  const codec = def.state!.codec!
  let value: AlertingState = def.state!.initial()
  let saved = codec.encode(value)
  const state = { get: () => value, set: (next: AlertingState) => void (value = next) }
  const log = pino({ level: 'silent' })
  const ctx = { log, now: () => 0, source: { topic: REF.topic, partition: 0, offset: '0' }, partition: REF, state, registry: new Registry() }
  /** One batch; `fails`: its commit fails and the state is restored from the last save (the runner's rollback). */
  const batch = (events: EnrichedAgentEvent[], fails = false) => {
    for (const e of events) def.transform({ kind: 'event', value: e } as AlertingInput, ctx)
    def.punctuateStreamTime!(REF, { log, state })
    if (fails) {
      value = codec.decode(saved)
      return
    }
    saved = codec.encode(value)
    def.afterCommit!({ partition: REF, cause: 'records', results: [], punctuated: [], nowMs: 0 })
  }
  return { batch, reports }
}

describe('alerting engine counters', () => {
  it('reports each committed batch\'s evaluations once, by rule', () => {
    const { batch, reports } = setup()
    batch([failed('Programmer'), failed('Reviewer')])
    batch([failed('Programmer')])
    expect(reports.map((r) => Object.fromEntries(r.evaluations))).toEqual([{ 'llm-failed': 2 }, { 'llm-failed': 1 }])
  })

  it('never reports the work of a batch rolled back; its retry counts once', () => {
    const { batch, reports } = setup()
    batch([failed('Programmer')])
    const events = [failed('Programmer'), failed('Reviewer'), failed('Tester')]
    batch(events, true) // the commit failed: state restored, nothing reported
    batch(events) // the retry
    expect(reports.map((r) => r.evaluations.get('llm-failed'))).toEqual([1, 3])
  })

  it('reports groups dropped at the cap', () => {
    const { batch, reports } = setup(2)
    batch([failed('A'), failed('B'), failed('C'), failed('D')])
    const dropped = reports.reduce((n, r) => n + r.evictedGroups + r.refusedGroups, 0)
    expect(dropped).toBe(2)
  })
})
