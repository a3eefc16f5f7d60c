/**
 * The alerting processor: inputs `auren.agent-events.enriched.v1` and `auren.agent-metrics.v1`
 * (one consumer group), the stream rule engine (engine.ts) as the per-partition state, every
 * state change an `Alert` (key: fingerprint) for the sink, which writes them to the alert
 * outboxes with the rule states and the offsets in one PostgreSQL transaction (main.ts).
 *
 * Time: each input partition has its own event-time clock (the engine's), moved by its own
 * records alone, so a partition's alerts do not depend on how partitions interleave in fetch
 * batches. A partition idle (caught up, and no record for `idleTimeoutMs` of processing time;
 * idle-watermark.ts) follows, on each punctuation tick, the watermark of this instance's active
 * partitions of the same input (the lowest of their clocks), so its absences fire and its alerts
 * resolve at the event times the history implies; when every partition is idle (traffic stopped)
 * its clock goes on by the processing time it has been idle. A partition with records left to
 * read is never idle.
 *
 * Co-location (README "Co-location and scaling"): the enriched topic is keyed by trace, so the
 * rules whose figures gather a group's events from every trace (every kind but `event` and
 * `window_sum`, partial-buckets.ts `needsColocation`) are evaluated in two stages, as a
 * repartition: each enriched-event partition sends its closed buckets per aggregation and group
 * (keyed by both) and its event-time watermark (to every partition) to the internal topic
 * `auren.alert-partials.v1` through an outbox written in the transaction of the batch whose events
 * closed them (stream-time punctuation) or of a tick (time closed them); the partitions
 * of that topic, a third input of the same consumer group, add every source's buckets up and
 * evaluate those rules once the lowest source watermark passed them (partial-merge.ts). The
 * `event` rules fire at once on the enriched partition that read the event; the `window_sum`
 * rules read the metrics windows, keyed by agent like the rules' groups.
 */
import { fromEnrichedRecord, type Alert, type AgentMetricsWindow, type AlertPartial, type EnrichedAgentEventRecord } from '../../schemas/index.ts'
import type { PartitionRef } from '../runtime/context.ts'
import { defineProcessor, type ProcessorDefinition } from '../runtime/define-processor.ts'
import type { OutboxSignal } from '../runtime/sinks/outbox.ts'
import type { AcknowledgingSink } from '../runtime/sinks/sink.ts'
import { emit } from '../runtime/outcome.ts'
import { RuleEngine, type EngineState } from './engine.ts'
import { eventFacts, FACTS_FIELDS, type EnrichedEventView } from './event-facts.ts'
import { EngineCounters, type EngineWork } from './engine-counters.ts'
import { IdleWatermark } from './idle-watermark.ts'
import { needsColocation, PartialBuckets, type PartialBucketsState, type PartialRecord, type PartialSource } from './partial-buckets.ts'
import { PartialMerge, type PartialMergeState } from './partial-merge.ts'
import type { Rule } from './rule-schema.ts'

/** An input of the alerting processor, tagged by topic. */
export type AlertingInput = { kind: 'event'; value: EnrichedEventView } | { kind: 'window'; value: AgentMetricsWindow } | { kind: 'partial'; value: AlertPartial }

/** An output: a state change of an alert, or a record for the repartition topic. */
export type AlertingOutput = { kind: 'alert'; alert: Alert } | { kind: 'partial'; record: PartialRecord }

/**
 * Per-partition state. Enriched-event partitions: the engine of the rules read where the event
 * is (`event` rules), the partial buckets of the others (stage 1) and the clock at the last
 * input. Metrics partitions: the engine (`window_sum` rules). Repartition partitions: the merge
 * (stage 2). The parts a partition does not use stay empty.
 */
export interface AlertingState {
  engine: RuleEngine
  clockAtLastInputMs: number | null
  partials: PartialBuckets | null
  merge: PartialMerge | null
}

/** Settings of the definition. */
export interface AlertingDefinitionOptions {
  rules: readonly Rule[]
  maxGroupsPerRule: number
  /** Events enriched this long after their event time are replayed history (replay="true"), ms. */
  replayLagMs: number
  /**
   * Processing time without records after which a caught-up partition (lag 0) is idle, ms (0:
   * never): punctuation then moves its clock to the watermark of the active partitions
   * (idle-watermark.ts), or on by the idle time when every partition of its input is idle.
   */
  idleTimeoutMs: number
  /** Tick interval, ms (default: the app's). */
  punctuationIntervalMs?: number
  /** Called after each committed batch or tick with its alerts and its engines' work (metrics; engine-counters.ts). */
  onCommitted?: (alerts: readonly Alert[], work: EngineWork) => void
  /** Rung after a committed batch or tick that wrote alert state changes, or repartition records, to their outbox (wakes its publisher). */
  committed?: { alerts?: OutboxSignal; partials?: OutboxSignal }
  /**
   * How far out of order (event time, ms) an event may arrive in its enriched partition and still
   * count in its bucket as if in order (partial-buckets.ts): the repartitioned rules' alerts come
   * that much later in event time.
   */
  allowedLatenessMs: number
  /** Partitions of the enriched topic and of the repartition topic (read from the cluster at start). */
  partitions: { enriched: number; partials: number }
}

/** The alerting processor definition (module doc). */
export function alertingDefinition(sink: AcknowledgingSink<AlertingOutput>, o: AlertingDefinitionOptions): ProcessorDefinition<AlertingInput, AlertingOutput, AlertingState> {
  const engineOptions = { maxGroupsPerRule: o.maxGroupsPerRule }
  const watermark = o.idleTimeoutMs > 0 ? new IdleWatermark(o.idleTimeoutMs) : null
  const counters = new EngineCounters()
  const engines = (s: AlertingState) => [s.engine, s.merge?.engine]
  const localRules = o.rules.filter((r) => !needsColocation(r))
  const mergedRules = o.rules.filter(needsColocation)
  const sourceOf = (p: PartitionRef): PartialSource => ({ id: `${p.topic}:${p.partition}`, sourcePartitions: o.partitions.enriched, mergePartitions: o.partitions.partials })
  const alertOut = (alerts: readonly Alert[]) => alerts.map((a) => ({ key: a.fingerprint, value: { kind: 'alert', alert: a } as AlertingOutput }))
  const partialOut = (records: readonly PartialRecord[]) => records.map((r) => ({ key: r.key, value: { kind: 'partial', record: r } as AlertingOutput }))
  return defineProcessor<AlertingInput, AlertingOutput, AlertingState>({
    name: 'alerting',
    inputs: [
      // Decoded with the projection of the fields the rules read (event-facts.ts): the payload
      // unwrapped as for a full record, the value holds those fields alone (EnrichedEventView).
      { topic: 'enrichedEvents', schema: 'enriched-agent-event', fields: FACTS_FIELDS, decode: (v): AlertingInput => ({ kind: 'event', value: fromEnrichedRecord(v as EnrichedAgentEventRecord) }) },
      { topic: 'agentMetrics', schema: 'agent-metrics-window', decode: (v) => ({ kind: 'window', value: v as AgentMetricsWindow }) },
      { topic: 'alertPartials', schema: 'alert-partial', decode: (v) => ({ kind: 'partial', value: v as AlertPartial }) },
    ],
    sink,
    state: {
      initial: () => ({ engine: new RuleEngine(localRules, engineOptions), clockAtLastInputMs: null, partials: null, merge: null }),
      codec: {
        encode: (s) => `{"engine":${s.engine.serialize()},"clockAtLastInputMs":${JSON.stringify(s.clockAtLastInputMs)},"partials":${s.partials ? s.partials.serialize() : 'null'},"merge":${s.merge ? s.merge.serialize() : 'null'}}`,
        decode: (json) => {
          const saved = JSON.parse(json) as { engine: EngineState; clockAtLastInputMs: number | null; partials?: PartialBucketsState | null; merge?: PartialMergeState | null }
          return {
            engine: new RuleEngine(localRules, engineOptions, saved.engine),
            clockAtLastInputMs: saved.clockAtLastInputMs,
            partials: saved.partials ? new PartialBuckets(mergedRules, o.allowedLatenessMs, saved.partials) : null,
            merge: saved.merge ? new PartialMerge(mergedRules, engineOptions, o.idleTimeoutMs, saved.merge) : null,
          }
        },
      },
    },
    transform: (input, ctx) => {
      const s = ctx.state.get()
      if (input.kind === 'partial') {
        const alerts = (s.merge ??= new PartialMerge(mergedRules, engineOptions, o.idleTimeoutMs)).onRecord(input.value, ctx.now())
        ctx.state.set(s)
        return emit(...alertOut(alerts))
      }
      if (input.kind === 'window') {
        const alerts = s.engine.onMetricsWindow(input.value, ctx.now() - input.value.window_end / 1000 > o.replayLagMs)
        s.clockAtLastInputMs = s.engine.clock
        ctx.state.set(s)
        return emit(...alertOut(alerts))
      }
      const ev = input.value
      const replay = ev.ingest_lag_ms > o.replayLagMs
      const f = eventFacts(ev)
      const alerts = s.engine.onFacts(f, ev.event.event_type, replay)
      if (mergedRules.length > 0) (s.partials ??= new PartialBuckets(mergedRules, o.allowedLatenessMs)).add(f, ev.event.event_type, replay)
      s.clockAtLastInputMs = s.engine.clock
      ctx.state.set(s)
      return emit(...alertOut(alerts))
    },
    punctuation: o.punctuationIntervalMs ? { intervalMs: o.punctuationIntervalMs } : {},
    punctuate: (nowMs, partition, ctx) => {
      const s = ctx.state.get()
      counters.seen(partition, engines(s))
      if (partition.input === 'alertPartials') return []
      const out: { key: string; value: AlertingOutput }[] = []
      let changed = false
      let idle = false
      if (watermark) {
        idle = watermark.observe(partition, s.engine.clock, ctx, nowMs)
        if (idle && ctx.lastRecordAtMs !== null && s.clockAtLastInputMs !== null) {
          // Idle: follow the event time of the partitions still receiving records; by processing time only when all are idle.
          const target = watermark.activeWatermark(partition.input, nowMs) ?? s.clockAtLastInputMs + (nowMs - ctx.lastRecordAtMs)
          if (s.engine.clock === null || target > s.engine.clock) {
            out.push(...alertOut(s.engine.advanceTo(target)))
            s.partials?.advanceTo(target)
            changed = true
          }
        }
      }
      if (partition.input === 'enrichedEvents' && mergedRules.length > 0) {
        // The buckets the watermark passed (every bucket when idle) and the watermark, one record
        // per partition of the repartition topic (partial-buckets.ts).
        const records = (s.partials ??= new PartialBuckets(mergedRules, o.allowedLatenessMs)).flush(sourceOf(partition), idle)
        if (records.length > 0) {
          out.push(...partialOut(records))
          changed = true
        }
      }
      if (changed) ctx.state.set(s)
      return out
    },
    // Stream time: the buckets a batch's events closed go with the batch (same transaction), not
    // at the next tick, so the merge evaluates them up to a tick sooner.
    punctuateStreamTime: (partition, ctx) => {
      const s = ctx.state.get()
      counters.seen(partition, engines(s))
      if (partition.input !== 'enrichedEvents' || mergedRules.length === 0) return []
      if (!s.partials?.dueWhileActive()) return []
      const records = s.partials.flush(sourceOf(partition), false)
      ctx.state.set(s)
      return partialOut(records)
    },
    afterCommit: (batch) => {
      const alerts: Alert[] = []
      let partials = false
      for (const r of batch.results) if (r.outcome.kind === 'emit') for (const rec of r.outcome.records) if (rec.value.kind === 'alert') alerts.push(rec.value.alert)
      for (const rec of batch.punctuated) {
        if (rec.value.kind === 'alert') alerts.push(rec.value.alert)
        else partials = true
      }
      if (partials) o.committed?.partials?.ring()
      if (alerts.length > 0) o.committed?.alerts?.ring()
      o.onCommitted?.(alerts, counters.committed(batch.partition))
    },
    observe: (input) => (input.kind === 'event' ? { eventTimeMs: input.value.event.timestamp / 1000, tier: input.value.tier } : undefined),
  })
}
