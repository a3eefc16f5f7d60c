/**
 * Sinks that own the consumer offsets: the runner's exactly-once path into a database.
 *
 * A processor with a TransactionalSink does not commit offsets to Kafka as the source of truth.
 * For every batch, the runner hands the sink the batch's outputs and the next offset of the
 * partition; the sink writes both in ONE database transaction. On (re)assignment of a
 * partition the runner asks the sink for the stored offset and skips every record below it, so
 * a crash anywhere (before, during or after the transaction) neither loses nor double-applies a
 * record (ARCHITECTURE.md: "exactly-once into PostgreSQL by storing consumer offsets in the same
 * transaction as the rollup rows"). The runner still commits the same offsets to Kafka after
 * the sink's commit, only so lag tools see progress.
 */

/** The position to store: the next offset to read of one partition, for one consumer group. */
export interface SinkOffset {
  readonly groupId: string
  readonly topic: string
  readonly partition: number
  /** Next offset to read (last applied offset + 1), Kafka's decimal string. */
  readonly nextOffset: string
}

/** An output of the transform with the coordinates of the input record it came from. */
export interface SinkRecord<Out> {
  readonly value: Out
  readonly partition: number
  readonly offset: string
}

/** A sink that stores outputs and offsets atomically. Implementations live in `*-sink.ts` files. */
export interface TransactionalSink<Out> {
  /**
   * Stored next offsets of these partitions; partitions never written are absent (the runner
   * then starts where the consumer group starts).
   * @throws on database errors (the runner retries the batch)
   */
  storedOffsets(groupId: string, topic: string, partitions: readonly number[]): Promise<Map<number, string>>
  /**
   * Applies the outputs of one partition batch and stores `offset`, in one transaction.
   * Must be idempotent per input (e.g. unique by event_id) so duplicated *input* records
   * (same event at other offsets) are applied once.
   * @throws on database errors; nothing of the batch is then stored
   */
  writeBatch(records: readonly SinkRecord<Out>[], offset: SinkOffset): Promise<void>
  /** Closes connections. */
  close(): Promise<void>
}
