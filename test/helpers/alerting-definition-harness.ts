/**
 * The alerting definition (processors/alerting/definition.ts) driven as the runner drives it,
 * without Kafka: one state per partition, transform per record, punctuate per partition and
 * tick; the records for the repartition topic go into the partition each names, and `deliver` feeds
 * each repartition partition its records in order, as its consumer would. For unit tests of the
 * two-stage evaluation; the real topic, outbox and runner are in the integration tests.
 */
import { pino } from 'pino'
import { Registry } from 'prom-client'
import type { Alert, AlertPartial, EnrichedAgentEvent } from '../../schemas/index.ts'
import { alertingDefinition, type AlertingOutput, type AlertingState } from '../../processors/alerting/definition.ts'
import type { Rule } from '../../processors/alerting/rule-schema.ts'
import type { PartitionRef } from '../../processors/runtime/context.ts'
import type { AcknowledgingSink } from '../../processors/runtime/sinks/sink.ts'

/** One partition of the harness: its ref, its state holder, the last record's processing time, its lag, its alerts as text. */
export interface HarnessPartition {
  ref: PartitionRef
  state: { get: () => AlertingState; set: (next: AlertingState) => void }
  lastRecordAtMs: number | null
  /** Records left to read, as the runner hands punctuate (0: caught up, the default; null: not measured). */
  lagRecords: number | null
  alerts: string[]
  /** Repartition partitions: records not yet delivered. */
  log: AlertPartial[]
}

/** An alert as one line: rule, agent, status, starts and ends. */
export function showAlert(a: Alert): string {
  const iso = (us: number) => new Date(us / 1000).toISOString()
  return `${a.rule} ${a.labels.agent ?? a.labels.user ?? '*'} ${a.status} starts=${iso(a.starts_at)} ends=${a.ends_at === null ? '-' : iso(a.ends_at)}`
}

/** A harness of `sources` enriched partitions and `merges` repartition partitions; `streamTime: false` leaves out the stream-time punctuation after each record (buckets then go at ticks only). */
export function alertingHarness(o: { rules: readonly Rule[]; sources: number; merges: number; idleTimeoutMs: number; allowedLatenessMs?: number; maxGroupsPerRule?: number; replayLagMs?: number; streamTime?: boolean }) {
  const def = alertingDefinition({} as AcknowledgingSink<AlertingOutput>, {
    rules: o.rules, maxGroupsPerRule: o.maxGroupsPerRule ?? 100, replayLagMs: o.replayLagMs ?? 3_600_000, idleTimeoutMs: o.idleTimeoutMs, allowedLatenessMs: o.allowedLatenessMs ?? 0,
    partitions: { enriched: o.sources, partials: o.merges },
  })
  const log = pino({ level: 'silent' })
  const registry = new Registry()
  const partition = (ref: PartitionRef): HarnessPartition => {
    let value: AlertingState = def.state!.initial()
    return { ref, state: { get: () => value, set: (next) => (value = next) }, lastRecordAtMs: null, lagRecords: 0, alerts: [], log: [] }
  }
  const sources = Array.from({ length: o.sources }, (_, p) => partition({ input: 'enrichedEvents', topic: 't.enriched', partition: p }))
  const merges = Array.from({ length: o.merges }, (_, p) => partition({ input: 'alertPartials', topic: 't.partials', partition: p }))
  /** Every alert of every partition in the order they were made. */
  const all: Alert[] = []
  /** Records sent to the repartition topic, in order. */
  const sent: AlertPartial[] = []
  const route = (from: HarnessPartition, outputs: readonly { key: string; value: AlertingOutput }[]) => {
    for (const r of outputs) {
      if (r.value.kind === 'alert') {
        from.alerts.push(showAlert(r.value.alert))
        all.push(r.value.alert)
      } else {
        const rec = r.value.record
        sent.push(rec.value)
        merges[rec.partition]!.log.push(rec.value)
      }
    }
  }
  const ctx = (part: HarnessPartition, nowMs: number) => ({ log, now: () => nowMs, source: { topic: part.ref.topic, partition: part.ref.partition, offset: '0' }, partition: part.ref, state: part.state, registry })
  return {
    sources,
    merges,
    all,
    sent,
    /** One enriched event read by source partition `p` at processing time `nowMs`, as a batch of one (the stream-time punctuation after it). */
    record(p: number, e: EnrichedAgentEvent, nowMs: number) {
      const part = sources[p]!
      part.lastRecordAtMs = nowMs
      const outcome = def.transform({ kind: 'event', value: e }, ctx(part, nowMs))
      if (outcome.kind === 'emit') route(part, outcome.records)
      if (o.streamTime !== false) route(part, def.punctuateStreamTime!(part.ref, { log, state: part.state }))
    },
    /** A punctuation tick of the source partitions, in `order`. */
    tick(nowMs: number, order: readonly number[] = sources.map((_, i) => i)) {
      for (const p of order) {
        const part = sources[p]!
        route(part, def.punctuate!(nowMs, part.ref, { log, state: part.state, lastRecordAtMs: part.lastRecordAtMs, lagRecords: part.lagRecords }))
      }
    },
    /**
     * Delivers the queued repartition records to their partitions, in `order` (each
     * partition's records in the order they were sent); `duplicate` sends every record twice
     * (the outbox's at-least-once publication).
     */
    deliver(nowMs: number, order: readonly number[] = merges.map((_, i) => i), duplicate = false) {
      for (const m of order) {
        const part = merges[m]!
        const records = part.log.splice(0)
        for (const value of duplicate ? records.flatMap((r) => [r, r]) : records) {
          const outcome = def.transform({ kind: 'partial', value }, ctx(part, nowMs))
          if (outcome.kind === 'emit') route(part, outcome.records)
        }
      }
    },
    /** Every partition's state through the state codec and back, as a restarted instance reads it. */
    restart() {
      const codec = def.state!.codec!
      for (const part of [...sources, ...merges]) part.state.set(codec.decode(codec.encode(part.state.get())))
    },
    /** The alerts of the repartition partitions, as lines. */
    mergedAlerts(): string[] {
      return merges.flatMap((m) => m.alerts)
    },
  }
}
