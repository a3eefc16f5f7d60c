/**
 * The acknowledging sink contract: where a processor's outputs go, and when they are durable.
 *
 * For every partition batch (and every punctuation) the runner hands the sink the outputs and
 * the batch's position (the next offset to read of that input partition). The sink makes them
 * durable, then acknowledges that position; the runner commits (or, for a sink that stores its
 * own offsets, trusts) only acknowledged positions. A failure before the acknowledgement means
 * the batch is delivered again from the last acknowledged position, so nothing is lost.
 *
 * Three ways a position becomes durable ({@link AcknowledgingSink.offsets}):
 * - `'kafka'`: the runner commits the acknowledged position to the consumer group (at-least-once
 *   Kafka topic sink, buffered sink);
 * - `'in-transaction'`: the sink commits the position itself, atomically with the outputs (the
 *   exactly-once Kafka topic sink: `sendOffsets` in the producer's transaction, KIP-98);
 * - `'sink'`: the sink stores the position with the outputs in one transaction of its own store
 *   (transactional PostgreSQL) and answers {@link AcknowledgingSink.storedOffsets}; on each
 *   (re)assignment the runner reads it, seeks back if Kafka's position is ahead of it, skips
 *   records below it, and accepts a read_committed gap above it (transaction markers and aborted
 *   records are never handed out). The runner still commits the position to Kafka afterwards,
 *   best effort, only so lag tools see progress.
 *
 * Implementations: `kafka-topic-sink.ts` (both delivery modes), `postgres-sink.ts`
 * (transactional PostgreSQL), `buffered-sink.ts` (by count, bytes and age), plus the
 * transactional outbox (`outbox.ts`) a PostgreSQL sink can write to.
 */
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import type { TopicNames } from '../../../schemas/index.ts'
import type { KafkaDriver, ProduceRecord } from '../kafka/kafka-client.ts'
import type { Serde } from '../kafka/serde.ts'

/** The position of one input partition for one consumer group: the next offset to read. */
export interface PartitionPosition {
  readonly groupId: string
  /** Full topic name (with the topic prefix). */
  readonly topic: string
  readonly partition: number
  /** Next offset to read (last applied offset + 1), Kafka's decimal string. */
  readonly nextOffset: string
}

/** @deprecated name kept for the PostgreSQL sinks written before the seam: {@link PartitionPosition}. */
export type SinkOffset = PartitionPosition

/** One output of a transform or a punctuation, with the coordinates of the input it came from. */
export interface SinkRecord<Out> {
  /** Kafka key for topic sinks (CONTRACTS.md section 1); ignored by sinks without keys. */
  readonly key: string
  readonly value: Out
  readonly partition: number
  /** Offset of the input record; for a punctuation, the partition's position minus one (or '-1'). */
  readonly offset: string
  /** What the sink's `prepare` returned for this value (e.g. the encoded bytes), when it has one. */
  readonly prepared?: unknown
}

/**
 * A partition's state to save with a write (see `../partition-state.ts`): the JSON text of the
 * definition's state after this batch. Absent when the definition has no state or it did not
 * change. A sink with `offsets: 'sink'` must store it in the same transaction as the position;
 * other sinks leave it to the runner's changelog topic.
 */
export interface StateSnapshot {
  /** JSON text of the state (the definition's `state.codec` output). */
  readonly json: string
  /**
   * The same state as a record of the compacted changelog topic (key `<topic>:<partition>`),
   * for sinks without `storesState`: a sink with `takesDeadLetters` produces it with the outputs
   * (in the same transaction in exactly-once mode); for other sinks the runner produces it before
   * handing the batch over.
   */
  readonly changelogRecord: ProduceRecord
}

/** What the runner hands a sink: one partition's outputs, what caused them and the position after them. */
export interface SinkBatch<Out> {
  /** Outputs in input offset order (several per input allowed); may be empty. */
  readonly records: readonly SinkRecord<Out>[]
  /** Position to acknowledge once `records` (and `state`) are durable. */
  readonly position: PartitionPosition
  /** `records`: a batch of input records; `punctuation`: a timer tick (position unchanged). */
  readonly cause: 'records' | 'punctuation'
  /** Processing time of the batch or tick, epoch ms (the runner's clock). */
  readonly nowMs: number
  /**
   * `records` batches: the partition's log end offset when the batch was fetched (decimal
   * string); the batch reached it when `position.nextOffset` equals it (no backlog).
   */
  readonly highWatermark?: string
  /** The partition's state after the batch, when it changed and the sink stores state. */
  readonly state?: StateSnapshot
  /**
   * Dead-letter records of the batch, already encoded, for sinks with `takesDeadLetters` (they
   * produce them with the outputs, in the same transaction in exactly-once mode). For the other
   * sinks the runner produces them (acks=all) before handing the batch over, so they are durable
   * before the position is.
   */
  readonly deadLetters?: readonly ProduceRecord[]
}

/** What a sink hands back for a batch (see {@link AcknowledgingSink.write}). */
export type WriteResult =
  /**
   * Durable now: the runner acts on `batch.position` at once. `produced`: records the sink had
   * acknowledged on Kafka topics, per full topic name (for auren_records_produced_total).
   */
  | { readonly kind: 'acknowledged'; readonly produced?: ReadonlyMap<string, number> }
  /**
   * Taken, not yet durable (buffered sinks): the runner advances its fetch position past the
   * batch but commits nothing; the sink calls `ctx.acknowledge(position)` after its flush.
   */
  | { readonly kind: 'pending' }

/** What the runner gives a sink when it starts. */
export interface SinkContext {
  /** Full topic names under the app's prefix. */
  readonly topics: TopicNames
  readonly driver: KafkaDriver
  readonly serde: Serde
  readonly log: Logger
  /** The app's registry, for the sink's own metrics (label `processor`). */
  readonly registry: Registry
  readonly processor: string
  /** Consumer group of the processor. */
  readonly groupId: string
  /** Clock, epoch ms. */
  readonly now: () => number
  /**
   * For sinks that answer `pending`: reports that everything of this partition below
   * `position.nextOffset` is durable. Positions of one partition must be acknowledged in order;
   * an older position after a newer one is ignored. The runner commits it to the consumer group
   * unless the partition was revoked since (the new owner then re-reads from the last commit).
   */
  readonly acknowledge: (position: PartitionPosition) => void
  /** For sinks that fail in the background (a flush): the runner logs it, goes not-ready and re-reads from the last commit. */
  readonly fail: (err: Error, partition?: { topic: string; partition: number }) => void
}

/** The one sink contract every processor's outputs go through. */
export interface AcknowledgingSink<Out> {
  /** Short name for logs and the `sink` label (e.g. `kafka-topic`, `postgres`, `buffered`). */
  readonly kind: string
  /** Who makes the position durable; see the module doc. */
  readonly offsets: 'kafka' | 'in-transaction' | 'sink'
  /** True when the sink saves {@link SinkBatch.state} in its own transaction (`offsets: 'sink'` only). */
  readonly storesState?: boolean
  /** True when the sink produces {@link SinkBatch.deadLetters} itself (Kafka topic sinks). */
  readonly takesDeadLetters?: boolean
  /**
   * Optional: called by the runner for each output right after the transform, before the batch
   * is handed over; its result travels as {@link SinkRecord.prepared}. A throw dead-letters the
   * input record as PROCESSING_FAILED with the message (e.g. an output that does not fit the
   * topic's schema), so one bad output never blocks the partition.
   */
  prepare?(record: { readonly key: string; readonly value: Out }): unknown
  /**
   * Connects, registers schemas, creates producers. Called once by `runner.start()` before the
   * consumer joins its group.
   * @throws when the sink's store cannot be reached (the app retries or exits per its lifecycle)
   */
  start(ctx: SinkContext): Promise<void>
  /**
   * Makes `batch.records` (and `batch.state`, when {@link storesState}) durable, then
   * acknowledges. Called by the runner one batch at a time per partition, in offset order.
   * Must be idempotent per input where the store allows it (a batch can be handed over again
   * after a crash before the acknowledgement).
   * @throws AurenError with `retriable: true` for a transient fault (nothing of the batch is then
   *   durable; the runner delivers the batch again); any other error is fatal for the batch too
   */
  write(batch: SinkBatch<Out>): Promise<WriteResult>
  /**
   * `offsets: 'sink'` only: stored next offsets of these partitions of `topic`; partitions never
   * written are absent (the runner then starts where the consumer group starts).
   * @throws on store errors (the runner retries)
   */
  storedOffsets?(groupId: string, topic: string, partitions: readonly number[]): Promise<Map<number, string>>
  /**
   * `storesState` only: stored state JSON of one partition, or undefined when none was saved.
   * @throws on store errors (the runner retries the assignment)
   */
  loadState?(groupId: string, topic: string, partition: number): Promise<string | undefined>
  /**
   * `offsets: 'in-transaction'`: settles the transactions of one input partition, on each
   * assignment of it and before a failed batch is retried: resolves once the broker completed or
   * aborted any transaction left open for it (by a previous owner, or a commit whose answer was
   * lost) and fenced the producer that left it, so the group's committed offset, which the runner
   * reads next, says where processing resumes.
   * @throws when the broker cannot be reached (the runner retries)
   */
  settle?(partition: { topic: string; partition: number }): Promise<void>
  /**
   * The runner lost these partitions (rebalance) or stops: a buffering sink drops what it holds
   * for them without acknowledging (the next owner re-reads it from the last commit).
   */
  revoke?(partitions: readonly { topic: string; partition: number }[]): Promise<void>
  /** Flushes what can be flushed (buffered sinks, on a clean stop), then closes connections. */
  close(): Promise<void>
}
