/**
 * One input record through the processor: decode (schema registry wire format, then the
 * input's `decode`), transform, and the outcome — outputs prepared for the sink, a skip, or the
 * dead-letter queue.
 *
 * The DLQ path: a record that cannot be decoded (DESERIALIZATION_FAILED, SCHEMA_UNKNOWN), that
 * the input's `decode` rejects (VALIDATION_FAILED), that makes the transform throw or whose
 * output the sink's `prepare` rejects (PROCESSING_FAILED), or that the transform dead-letters
 * itself, becomes a dead letter with the reason in its headers (dead-letter.ts); the batch goes
 * on. Only retriable errors (registry or sink unreachable) escape, so the batch is retried.
 * Dead letters are counted in auren_dlq_records_total after the batch commits (batch-loop.ts).
 */
import type { DlqReason } from '../../schemas/index.ts'
import type { LagObservation } from './define-processor.ts'
import type { ProcessorContext } from './context.ts'
import type { ConsumedRecord, ProduceRecord } from './kafka/kafka-client.ts'
import { deadLetterRecord } from './kafka/dead-letter.ts'
import type { Outcome } from './outcome.ts'
import type { SinkRecord } from './sinks/sink.ts'
import type { PartitionSlot } from './partition-slot.ts'
import { hasCode, isAurenError } from './ops/errors.ts'
import type { RunnerContext } from './runner-context.ts'

/** Everything a batch produced before it goes to the sink. */
export interface BatchWork<In, Out> {
  readonly records: SinkRecord<Out>[]
  readonly deadLetters: ProduceRecord[]
  readonly dlqReasons: DlqReason[]
  readonly lags: LagObservation[]
  readonly results: { input: In; outcome: Outcome<Out> }[]
}

/** An empty {@link BatchWork}. */
export function emptyWork<In, Out>(): BatchWork<In, Out> {
  return { records: [], deadLetters: [], dlqReasons: [], lags: [], results: [] }
}

/**
 * Handles one record into `work` (module doc).
 * @throws only retriable errors (AurenError with `retriable`), after which the batch is retried
 */
export type RecordHandler<In, Out, S> = (record: ConsumedRecord, slot: PartitionSlot<S>, work: BatchWork<In, Out>) => Promise<void>

/**
 * Creates the record handler of a runner.
 * @param observe event time and tier of a processed input, for auren_event_lag_seconds (else none)
 */
export function createRecordHandler<In, Out, S>(
  ctx: RunnerContext<In, Out, S>,
  observe: ((input: In, outputs: readonly Out[]) => LagObservation | undefined) | undefined,
): RecordHandler<In, Out, S> {
  const { def, deps, sink, processor, now, m } = ctx

  function toDlq(record: ConsumedRecord, reason: DlqReason, message: string, work: BatchWork<In, Out>): void {
    work.deadLetters.push(deadLetterRecord(ctx.topics.deadLetter, record, reason, message, processor, now()))
    work.dlqReasons.push(reason)
    ctx.partitionLog(record.topic, record.partition).warn({ offset: record.offset, reason, dlqMessage: message }, 'record dead-lettered')
  }

  return async (record, slot, work) => {
    const spec = ctx.inputs.get(record.topic)!
    let decoded: unknown
    try {
      decoded = await deps.serde.decode(record.value, spec.schema, spec.fields)
    } catch (err) {
      if (isAurenError(err) && err.retriable) throw err
      toDlq(record, hasCode(err, 'AUREN_ERR_SCHEMA_UNKNOWN') ? 'SCHEMA_UNKNOWN' : 'DESERIALIZATION_FAILED', (err as Error).message, work)
      return
    }
    let input: In
    try {
      input = spec.decode(decoded)
    } catch (err) {
      toDlq(record, 'VALIDATION_FAILED', (err as Error).message, work)
      return
    }
    const context: ProcessorContext<S> = {
      log: ctx.partitionLog(record.topic, record.partition),
      now,
      registry: deps.registry,
      source: { topic: record.topic, partition: record.partition, offset: record.offset },
      partition: slot.ref,
      state: slot.state,
    }
    let outcome: Outcome<Out>
    try {
      outcome = def.transform(input, context)
    } catch (err) {
      if (isAurenError(err) && err.retriable) throw err
      toDlq(record, 'PROCESSING_FAILED', `transform threw: ${(err as Error).message}`, work)
      return
    }
    if (outcome.kind === 'skip') {
      m.skipped.inc({ processor, reason: outcome.reason })
    } else if (outcome.kind === 'dead-letter') {
      toDlq(record, outcome.reason, outcome.message, work)
    } else if (outcome.records.length > 0) {
      const prepared: SinkRecord<Out>[] = []
      try {
        for (const r of outcome.records) prepared.push({ key: r.key, value: r.value, partition: record.partition, offset: record.offset, prepared: sink.prepare?.(r) })
      } catch (err) {
        toDlq(record, 'PROCESSING_FAILED', `output rejected by the ${sink.kind} sink: ${(err as Error).message}`, work)
        return
      }
      work.records.push(...prepared)
    }
    work.results.push({ input, outcome })
    const lag = observe?.(input, outcome.kind === 'emit' ? outcome.records.map((r) => r.value) : [])
    if (lag) work.lags.push(lag.fromRecordTime ? { ...lag, eventTimeMs: record.timestampMs } : lag)
  }
}
