/**
 * The alerting processor: inputs `auren.agent-events.enriched.v1` and `auren.agent-metrics.v1`
 * (one consumer group), the stream rule engine (engine.ts) as the per-partition state, every
 * state change an `Alert` (key: fingerprint) for the sink, which writes them to the alert
 * outboxes with the rule states and the offsets in one PostgreSQL transaction (main.ts).
 *
 * Time: each input partition has its own event-time clock (the engine's). Punctuation moves an
 * idle partition's clock on by the processing time it has been idle (after
 * `idleTimeoutMs`), so absences fire and alerts resolve when traffic stops; replaying the same
 * records gives the same alerts, because event time alone drives them while records flow.
 *
 * Co-location: rules are evaluated per input partition. The enriched topic is keyed by
 * `trace_id` and the metrics topic by `agent_id`; a group's figures are exact when its events
 * share a partition (a run's agents; every window of an agent). An agent active in traces on
 * several partitions is counted per partition (see README "Alerting" for the limitation).
 */
import { fromEnrichedRecord, type Alert, type AgentMetricsWindow, type EnrichedAgentEvent, type EnrichedAgentEventRecord } from '../../schemas/index.ts'
import { defineProcessor, type ProcessorDefinition } from '../runtime/define-processor.ts'
import type { AcknowledgingSink } from '../runtime/sinks/sink.ts'
import { emit } from '../runtime/outcome.ts'
import { RuleEngine, type EngineState } from './engine.ts'
import type { Rule } from './rule-schema.ts'

/** An input of the alerting processor, tagged by topic. */
export type AlertingInput = { kind: 'event'; value: EnrichedAgentEvent } | { kind: 'window'; value: AgentMetricsWindow }

/** Per-partition state: the engine and the event-time clock at the partition's last input. */
export interface AlertingState {
  engine: RuleEngine
  clockAtLastInputMs: number | null
}

/** Settings of the definition. */
export interface AlertingDefinitionOptions {
  rules: readonly Rule[]
  maxGroupsPerRule: number
  /** Events enriched this long after their event time are replayed history (replay="true"), ms. */
  replayLagMs: number
  /** Idle time after which punctuation advances a partition's clock, ms (0: never). */
  idleTimeoutMs: number
  /** Tick interval, ms (default: the app's). */
  punctuationIntervalMs?: number
  /** Called after each committed batch or tick with its alerts (metrics). */
  onCommitted?: (alerts: readonly Alert[]) => void
}

/** The alerting processor definition (module doc). */
export function alertingDefinition(sink: AcknowledgingSink<Alert>, o: AlertingDefinitionOptions): ProcessorDefinition<AlertingInput, Alert, AlertingState> {
  const engineOptions = { maxGroupsPerRule: o.maxGroupsPerRule }
  return defineProcessor<AlertingInput, Alert, AlertingState>({
    name: 'alerting',
    inputs: [
      { topic: 'enrichedEvents', schema: 'enriched-agent-event', decode: (v) => ({ kind: 'event', value: fromEnrichedRecord(v as EnrichedAgentEventRecord) }) },
      { topic: 'agentMetrics', schema: 'agent-metrics-window', decode: (v) => ({ kind: 'window', value: v as AgentMetricsWindow }) },
    ],
    sink,
    state: {
      initial: () => ({ engine: new RuleEngine(o.rules, engineOptions), clockAtLastInputMs: null }),
      codec: {
        encode: (s) => `{"engine":${s.engine.serialize()},"clockAtLastInputMs":${JSON.stringify(s.clockAtLastInputMs)}}`,
        decode: (json) => {
          const saved = JSON.parse(json) as { engine: EngineState; clockAtLastInputMs: number | null }
          return { engine: new RuleEngine(o.rules, engineOptions, saved.engine), clockAtLastInputMs: saved.clockAtLastInputMs }
        },
      },
    },
    transform: (input, ctx) => {
      const s = ctx.state.get()
      const alerts = input.kind === 'event'
        ? s.engine.onEvent(input.value, input.value.ingest_lag_ms > o.replayLagMs)
        : s.engine.onMetricsWindow(input.value, ctx.now() - input.value.window_end / 1000 > o.replayLagMs)
      s.clockAtLastInputMs = s.engine.clock
      ctx.state.set(s)
      return emit(...alerts.map((a) => ({ key: a.fingerprint, value: a })))
    },
    punctuation: o.punctuationIntervalMs ? { intervalMs: o.punctuationIntervalMs } : {},
    punctuate: (nowMs, _partition, ctx) => {
      const s = ctx.state.get()
      if (o.idleTimeoutMs <= 0 || ctx.lastRecordAtMs === null || s.clockAtLastInputMs === null) return []
      const idleMs = nowMs - ctx.lastRecordAtMs
      if (idleMs < o.idleTimeoutMs) return []
      const target = s.clockAtLastInputMs + idleMs
      if (s.engine.clock !== null && target <= s.engine.clock) return []
      const alerts = s.engine.advanceTo(target)
      ctx.state.set(s)
      return alerts.map((a) => ({ key: a.fingerprint, value: a }))
    },
    afterCommit: (batch) => {
      if (!o.onCommitted) return
      const alerts: Alert[] = []
      for (const r of batch.results) if (r.outcome.kind === 'emit') for (const rec of r.outcome.records) alerts.push(rec.value)
      for (const rec of batch.punctuated) alerts.push(rec.value)
      if (alerts.length > 0) o.onCommitted(alerts)
    },
    observe: (input) => (input.kind === 'event' ? { eventTimeMs: input.value.event.timestamp / 1000, tier: input.value.tier } : undefined),
  })
}
