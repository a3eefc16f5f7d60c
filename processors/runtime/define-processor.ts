import { loadSchema, type RootSchemaName, type TopicKey } from '../../schemas/index.ts'
import { projectSchema, type FieldProjection } from '../../schemas/projection.ts'
import type { Outcome, OutputRecord } from './outcome.ts'
import type { ProcessorContext, PartitionRef, PunctuationContext, StreamTimeContext } from './context.ts'
import type { AcknowledgingSink } from './sinks/sink.ts'
import type { StateSpec } from './partition-state.ts'

/**
 * Names of the processor apps: consumer group suffix, metric label, logger name. `test-*` names
 * belong to the runtime's own test processors (test/fixtures/apps/).
 */
export type ProcessorName = 'enrichment' | 'aggregation' | 'alerting' | 'archival' | 'event-store' | `test-${string}`

/**
 * One input topic of a processor: its contract topic, the schema family of its values and how
 * an avsc-decoded value becomes `In`. Every input of a definition is read by the same consumer
 * group; records of different inputs never share a batch.
 */
export interface InputSpec<In> {
  /** Contract topic (schemas/topics.ts); the runner adds the topic prefix. */
  readonly topic: TopicKey
  /** Reader schema family of the topic's values (schemas/generated). */
  readonly schema: RootSchemaName
  /**
   * Read only these fields of `schema` (a reader-schema projection, schemas/projection.ts): the
   * writer's other fields are skipped without being decoded, and `decode` receives a value that
   * holds these alone. Omitted: every field. Checked by `defineProcessor`.
   */
  readonly fields?: FieldProjection
  /**
   * Maps the avsc-decoded value to In (tag it when inputs differ, e.g. `{ kind: 'event', … }`).
   * Throwing here dead-letters the record as VALIDATION_FAILED with the error's message.
   */
  readonly decode: (value: unknown) => In
}

/**
 * The output topic of a processor whose sink is a Kafka topic. When a definition gives `output`
 * and no `sink`, the app builds the Kafka topic sink in the configured delivery mode
 * (`AUREN_DELIVERY`; sinks/kafka-topic-sink.ts).
 */
export interface OutputSpec<Out> {
  readonly topic: TopicKey
  readonly schema: RootSchemaName
  /** Maps Out to the value avsc encodes (e.g. wraps the payload union). */
  readonly encode: (value: Out) => unknown
}

/** Processing-time timer of a definition (see {@link ProcessorDefinition.punctuate}). */
export interface PunctuationSpec {
  /**
   * Tick interval, ms: `punctuate` runs for every assigned partition at most this often (a tick
   * waits while a batch of that partition is in progress). Default: the app's
   * `AUREN_PUNCTUATION_INTERVAL_MS` (1000).
   */
  readonly intervalMs?: number
}

/** What the `afterCommit` hook sees: one committed batch or tick of one partition. */
export interface CommittedBatch<In, Out> {
  readonly partition: PartitionRef
  readonly cause: 'records' | 'punctuation'
  /** Inputs of the batch that reached the transform, with their outcomes, in offset order. */
  readonly results: readonly { readonly input: In; readonly outcome: Outcome<Out> }[]
  /** Records a punctuation emitted: the tick's (cause `punctuation`), or the stream-time punctuation's at the batch's end (cause `records`). */
  readonly punctuated: readonly OutputRecord<Out>[]
  /** Processing time of the batch or tick, epoch ms. */
  readonly nowMs: number
}

/**
 * Observation for auren_event_lag_seconds: event time (epoch ms) and tier label of a processed
 * input; `fromRecordTime`: the event time is replayed history or synthetic (schemas/replay.ts),
 * so the lag is measured from the Kafka record's timestamp instead (the pipeline's time, not the
 * data's age).
 */
export type LagObservation = { eventTimeMs: number; tier: string; fromRecordTime?: boolean }

/**
 * What a processor app supplies; the runner does the rest (consume, decode, transform, hand to
 * the sink, commit acknowledged positions, dead-letter, timers, state, metrics, shutdown).
 * `In` is the decoded value of any input, `Out` the value of an output, `S` the per-partition
 * state (`undefined` without `state`).
 */
export interface ProcessorDefinition<In, Out, S = undefined> {
  /** Stable id of the app: consumer group `<prefix><name>`, metric label `processor`. */
  readonly name: ProcessorName
  /** Input topics, one consumer group over all of them (at least one). */
  readonly inputs: readonly InputSpec<In>[]
  /** Output topic for the default Kafka topic sink; omitted when `sink` is given. */
  readonly output?: OutputSpec<Out>
  /**
   * Where outputs go (sinks/sink.ts): a PostgreSQL sink, a buffered sink, a Kafka topic sink
   * built by hand. Omitted: the Kafka topic sink of `output`.
   */
  readonly sink?: AcknowledgingSink<Out>
  /** Per-partition state handed to transform and punctuate (partition-state.ts). */
  readonly state?: StateSpec<S>
  /**
   * Pure: must not perform I/O. Invalid input is a `dead-letter` outcome, not an exception.
   * Throw only an AurenError with retriable=true for a transient fault; any other throw
   * dead-letters the record as PROCESSING_FAILED. Domain metrics are NOT counted here (a retried
   * batch runs the transform again): count them in `afterCommit`.
   */
  readonly transform: (input: In, ctx: ProcessorContext<S>) => Outcome<Out>
  /**
   * Processing-time timer: called with the runner's clock (`nowMs`, epoch ms) every
   * `punctuation.intervalMs` for every partition assigned to this instance, between batches of
   * that partition. Its records and state change go to the sink as one `punctuation` batch at the
   * partition's current position, under the same acknowledgement rule as records; the sink gets
   * every tick even when this returns nothing (a sink may act on time itself, e.g. close windows
   * of idle partitions). Pure like transform; a throw is logged and the tick skipped. With the
   * exactly-once Kafka topic sink a partition ticks only once its position is known (a batch was
   * processed since the assignment), since the tick's transaction commits that position.
   */
  readonly punctuate?: (nowMs: number, partition: PartitionRef, ctx: PunctuationContext<S>) => readonly OutputRecord<Out>[]
  /** Tick configuration; present (or `punctuate` present) turns punctuation on. */
  readonly punctuation?: PunctuationSpec
  /**
   * Stream-time punctuation (Kafka Streams `PunctuationType.STREAM_TIME`: driven by the records'
   * event time, not the clock): called once at the end of each batch of a partition, after the
   * transform of its last record, with the state the batch left. Its records go to the sink with
   * the batch's own (same transaction and position, the batch's last offset) and are counted in
   * `afterCommit` as `punctuated`. For work the batch's records make due, e.g. closing the
   * windows the batch's event time passed, without waiting for the next tick. Pure like
   * transform. A throw fails the batch: its state is rolled back and it is read again (as any
   * processing error outside a record), so nothing taken out of the state is lost.
   */
  readonly punctuateStreamTime?: (partition: PartitionRef, ctx: StreamTimeContext<S>) => readonly OutputRecord<Out>[]
  /**
   * Called once per batch or tick after its position was acknowledged (committed or stored):
   * the place for domain metrics, so a retried batch counts once. Must not throw (a throw is
   * logged and ignored); must not perform slow I/O.
   */
  readonly afterCommit?: (batch: CommittedBatch<In, Out>) => void
  /** Event time and tier of a processed input, for auren_event_lag_seconds (optional). */
  readonly observe?: (input: In, outputs: readonly Out[]) => LagObservation | undefined
}

/**
 * Identity helper that fixes the type parameters of a definition and freezes it.
 * @throws Error when there is no input, neither sink nor output, or an input's `fields` is not a
 *   projection of its schema (projectSchema's errors), so a mistake stops the app at start
 *   instead of dead-lettering its records.
 */
export function defineProcessor<In, Out, S = undefined>(definition: ProcessorDefinition<In, Out, S>): ProcessorDefinition<In, Out, S> {
  if (definition.inputs.length === 0) throw new Error(`processor ${definition.name} needs at least one input`)
  if (!definition.sink && !definition.output) throw new Error(`processor ${definition.name} needs a sink or an output topic`)
  for (const input of definition.inputs) if (input.fields) projectSchema(loadSchema(input.schema), input.fields)
  return Object.freeze(definition)
}
