/**
 * The Kafka topic sink, in both delivery modes:
 * - at-least-once (`offsets: 'kafka'`): outputs and dead letters are produced with the
 *   idempotent producer (acks=all) and acknowledged once the broker acknowledged them; the runner
 *   then commits the position. A crash between the ack and the commit produces them again
 *   (consumers dedup by `event_id`);
 * - exactly-once (`offsets: 'in-transaction'`): outputs, dead letters and the position go in one
 *   Kafka transaction (kafkajs transactions, KIP-98; `sendOffsets` commits the consumer offset),
 *   so read_committed consumers see each input's outputs once, or not at all if the process dies
 *   before the commit. A restarted instance with the same transactional id fences its
 *   predecessor. kafkajs has no consumer-group-aware fencing (KIP-447): during a rebalance two
 *   instances may briefly both process a partition; consumers stay idempotent by `event_id`.
 *   A commit whose answer is lost (the broker dies during EndTxn) leaves the client in doubt
 *   while the broker may have committed: before retrying such a batch the runner calls
 *   `settle` (the transactional id is initialized again, and InitProducerId completes the open
 *   transaction first), then reads the group's committed offset and skips the records the
 *   transaction covered instead of producing them twice.
 */
import type { RootSchemaName, TopicKey } from '../../../schemas/index.ts'
import type { ProduceRecord, RecordProducer } from '../kafka/kafka-client.ts'
import type { Serde } from '../kafka/serde.ts'
import type { AcknowledgingSink } from './sink.ts'

/** Options of {@link createKafkaTopicSink}. */
export interface KafkaTopicSinkOptions<Out> {
  /** Contract topic of the outputs. */
  readonly topic: TopicKey
  /** Schema family of the topic's values. */
  readonly schema: RootSchemaName
  /** Maps Out to the value avsc encodes. */
  readonly encode: (value: Out) => unknown
  /** `at-least-once` (default) or `exactly-once`. */
  readonly delivery?: 'at-least-once' | 'exactly-once'
  /** exactly-once: transactional id of this instance, unique per instance and stable across its restarts. */
  readonly transactionalId?: string
}

/** Creates the Kafka topic sink (module doc). */
export function createKafkaTopicSink<Out>(opts: KafkaTopicSinkOptions<Out>): AcknowledgingSink<Out> {
  const exactlyOnce = opts.delivery === 'exactly-once'
  if (exactlyOnce && !opts.transactionalId) throw new Error('exactly-once delivery needs a transactionalId')
  let producer: RecordProducer | undefined
  let serde: Serde | undefined
  let schemaId: number | undefined
  let topic: string | undefined

  const encode = (value: Out): Buffer => serde!.encode(schemaId!, opts.schema, opts.encode(value))

  return {
    kind: 'kafka-topic',
    offsets: exactlyOnce ? 'in-transaction' : 'kafka',
    takesDeadLetters: true,
    async start(c) {
      serde = c.serde
      topic = c.topics[opts.topic]
      schemaId = await c.serde.register(topic, opts.schema)
      producer = await c.driver.producer(exactlyOnce ? { transactionalId: opts.transactionalId } : undefined)
    },
    prepare: ({ value }) => encode(value),
    async write(batch) {
      const out: ProduceRecord[] = [...(batch.deadLetters ?? [])]
      if (batch.state) out.push(batch.state.changelogRecord)
      for (const r of batch.records) out.push({ topic: topic!, key: r.key, value: Buffer.isBuffer(r.prepared) ? r.prepared : encode(r.value) })
      if (exactlyOnce) {
        if (out.length === 0 && batch.cause === 'punctuation') return { kind: 'acknowledged' } // position unchanged: nothing to commit
        const p = batch.position
        await producer!.sendAndCommit(out, { groupId: p.groupId, topic: p.topic, partition: p.partition, offset: p.nextOffset })
      } else if (out.length > 0) {
        await producer!.send(out)
      }
      const produced = new Map<string, number>()
      for (const r of out) produced.set(r.topic, (produced.get(r.topic) ?? 0) + 1)
      return { kind: 'acknowledged', produced }
    },
    settle: () => producer!.settle(),
    async close() {
      await producer?.disconnect()
    },
  }
}
