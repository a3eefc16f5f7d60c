import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import type { TopicKey } from '../../schemas/index.ts'
import type { PartitionState } from './partition-state.ts'

/** Where an input record came from. `offset` is Kafka's decimal string. */
export interface RecordCoordinates {
  topic: string
  partition: number
  offset: string
}

/** One assigned input partition: the contract topic key, the full topic name and the partition. */
export interface PartitionRef {
  readonly input: TopicKey
  /** Full topic name (with the topic prefix). */
  readonly topic: string
  readonly partition: number
}

/**
 * What the runner hands a transform with each record (STYLE.md principle 5: dependencies are
 * injected). Transforms must not perform I/O; `now()` is the clock (tests pass a fixed one).
 */
export interface ProcessorContext<S = undefined> {
  /** Child logger bound to processor, topic and partition. */
  readonly log: Logger
  /** Clock: epoch milliseconds. */
  readonly now: () => number
  /** Source coordinates of the record being transformed. */
  readonly source: RecordCoordinates
  /** The input partition of the record. */
  readonly partition: PartitionRef
  /** The partition's state (partition-state.ts); a no-op holder of `undefined` without `state`. */
  readonly state: PartitionState<S>
  /** Registry where the processor's domain metrics live (count them in `afterCommit`). */
  readonly registry: Registry
}

/** What the runner hands `punctuateStreamTime` at the end of each batch of one partition. */
export interface StreamTimeContext<S = undefined> {
  readonly log: Logger
  readonly state: PartitionState<S>
}

/** What the runner hands `punctuate` with each tick of one partition. */
export interface PunctuationContext<S = undefined> {
  readonly log: Logger
  readonly state: PartitionState<S>
  /** Processing time (runner clock, epoch ms) of the last input record this instance handled on the partition; null before any since assignment. */
  readonly lastRecordAtMs: number | null
  /**
   * Records left to read on the partition, as last measured on this instance: the log end offset
   * of its last fetched batch minus the next offset after that batch, or the lag monitor's reading
   * (lag-monitor.ts, every `lagIntervalMs`), whichever came later. 0: caught up; null: not measured
   * since assignment. A source that is behind is not idle (Kafka Streams `max.task.idle.ms`: a
   * task waits for a partition with data to fetch), however long since its last record.
   */
  readonly lagRecords: number | null
}
