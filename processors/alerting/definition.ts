/**
 * The alerting processor: inputs `auren.agent-events.enriched.v1` and `auren.agent-metrics.v1`
 * (one consumer group), the stream rule engine (engine.ts) as the per-partition state, every
 * state change an `Alert` (key: fingerprint) for the sink, which writes them to the alert
 * outboxes with the rule states and the offsets in one PostgreSQL transaction (main.ts).
 *
 * Time: each input partition has its own event-time clock (the engine's), moved by its own
 * records alone, so a partition's alerts do not depend on how partitions interleave in fetch
 * batches. A partition idle for `idleTimeoutMs` (processing time) follows, on each punctuation
 * tick, the watermark of this instance's active partitions of the same input (the lowest of
 * their clocks; idle-watermark.ts), so its absences fire and its alerts resolve at the event
 * times the history implies; when every partition is idle (traffic stopped) its clock goes on by
 * the processing time it has been idle.
 *
 * Co-location: rules are evaluated per input partition. The enriched topic is keyed by
 * `trace_id` and the metrics topic by `agent_id`; a group's figures are exact when its events
 * share a partition (a run's agents; every window of an agent). An agent active in traces on
 * several partitions is evaluated per partition under one fingerprint: each partition's engine
 * sends its own state changes of that fingerprint, and the order in which they reach the alerts
 * topic depends on the interleaving of the partitions (see README "Alerting" for the limitation).
 */
import { fromEnrichedRecord, type Alert, type AgentMetricsWindow, type EnrichedAgentEvent, type EnrichedAgentEventRecord } from '../../schemas/index.ts'
import { defineProcessor, type ProcessorDefinition } from '../runtime/define-processor.ts'
import type { AcknowledgingSink } from '../runtime/sinks/sink.ts'
import { emit } from '../runtime/outcome.ts'
import { RuleEngine, type EngineState } from './engine.ts'
import { IdleWatermark } from './idle-watermark.ts'
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
  /**
   * Processing time without records after which a partition is idle, ms (0: never): punctuation
   * then moves its clock to the watermark of the active partitions (idle-watermark.ts), or on by
   * the idle time when every partition of its input is idle.
   */
  idleTimeoutMs: number
  /** Tick interval, ms (default: the app's). */
  punctuationIntervalMs?: number
  /** Called after each committed batch or tick with its alerts (metrics). */
  onCommitted?: (alerts: readonly Alert[]) => void
}

/** The alerting processor definition (module doc). */
export function alertingDefinition(sink: AcknowledgingSink<Alert>, o: AlertingDefinitionOptions): ProcessorDefinition<AlertingInput, Alert, AlertingState> {
  const engineOptions = { maxGroupsPerRule: o.maxGroupsPerRule }
  const watermark = o.idleTimeoutMs > 0 ? new IdleWatermark(o.idleTimeoutMs) : null
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
    punctuate: (nowMs, partition, ctx) => {
      const s = ctx.state.get()
      if (!watermark) return []
      watermark.observe(partition, s.engine.clock, ctx.lastRecordAtMs)
      if (ctx.lastRecordAtMs === null || s.clockAtLastInputMs === null || !watermark.isIdle(ctx.lastRecordAtMs, nowMs)) return []
      // Idle: follow the event time of the partitions still receiving records; by processing time only when all are idle.
      const target = watermark.activeWatermark(partition.input, nowMs) ?? s.clockAtLastInputMs + (nowMs - ctx.lastRecordAtMs)
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
