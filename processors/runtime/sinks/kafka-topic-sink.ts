/**
 * The Kafka topic sink, in both delivery modes:
 * - at-least-once (`offsets: 'kafka'`): outputs and dead letters are produced with the
 *   idempotent producer (acks=all) and acknowledged once the broker acknowledged them; the runner
 *   then commits the position. A crash between the ack and the commit produces them again
 *   (consumers dedup by `event_id`);
 * - exactly-once (`offsets: 'in-transaction'`): outputs, dead letters and the position go in one
 *   Kafka transaction (kafkajs transactions, KIP-98; `sendOffsets` commits the consumer offset),
 *   so read_committed consumers see each input's outputs once, or not at all if the process dies
 *   before the commit.
 *
 * Fencing (exactly-once): one transactional producer per input partition, with the id
 * `<transactionalId>-<input topic>-<partition>` (`transactionalId` is the same for every
 * instance of the consumer group), as Kafka Streams' exactly-once did before consumer-group
 * fencing (KIP-447, which kafkajs lacks). Whichever instance takes a partition — a replaced pod,
 * the other side of a rebalance — initializes that partition's id before it reads the committed
 * offset (`settle`, called by the runner on every assignment): the broker then aborts, or
 * completes when its commit was sent, the transaction the partition's previous owner left open,
 * and refuses any later commit from it (ProducerFenced), so a paused or cut-off instance cannot
 * commit a batch its successor processes too, and readers are not held up by an abandoned
 * transaction until its timeout. A commit whose answer is lost (the broker dies during EndTxn)
 * leaves the client in doubt while the broker may have committed: before retrying such a batch
 * the runner settles again, then reads the group's committed offset and skips the records the
 * transaction covered instead of producing them twice.
 */
import type { RootSchemaName, TopicKey } from '../../../schemas/index.ts'
import type { KafkaDriver, ProduceRecord, RecordProducer } from '../kafka/kafka-client.ts'
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
  /**
   * exactly-once: the prefix of the transactional ids, one per input partition
   * (`<prefix>-<topic>-<partition>`); the same for every instance of the consumer group (the app
   * gives the group id), so the instance that takes a partition fences its previous owner.
   */
  readonly transactionalId?: string
}

/** Creates the Kafka topic sink (module doc). */
export function createKafkaTopicSink<Out>(opts: KafkaTopicSinkOptions<Out>): AcknowledgingSink<Out> {
  const exactlyOnce = opts.delivery === 'exactly-once'
  if (exactlyOnce && !opts.transactionalId) throw new Error('exactly-once delivery needs a transactionalId')
  /** at-least-once: the instance's idempotent producer. */
  let producer: RecordProducer | undefined
  /** exactly-once: the transactional producer of each input partition (`topic\u0000partition`), connected on first use. */
  const transactional = new Map<string, Promise<RecordProducer>>()
  let driver: KafkaDriver | undefined
  let serde: Serde | undefined
  let schemaId: number | undefined
  let topic: string | undefined

  const partitionKey = (t: string, partition: number) => `${t}\u0000${partition}`
  /** The transactional producer of an input partition, connected (not initialized: its first transaction or `settle` does that). */
  const producerOf = (t: string, partition: number): Promise<RecordProducer> => {
    const k = partitionKey(t, partition)
    let p = transactional.get(k)
    if (!p) {
      p = driver!.producer({ transactionalId: `${opts.transactionalId}-${t}-${partition}` })
      p.catch(() => transactional.delete(k)) // a failed connect is tried again on next use
      transactional.set(k, p)
    }
    return p
  }

  const encode = (value: Out): Buffer => serde!.encode(schemaId!, opts.schema, opts.encode(value))

  return {
    kind: 'kafka-topic',
    offsets: exactlyOnce ? 'in-transaction' : 'kafka',
    takesDeadLetters: true,
    async start(c) {
      driver = c.driver
      serde = c.serde
      topic = c.topics[opts.topic]
      schemaId = await c.serde.register(topic, opts.schema)
      if (!exactlyOnce) producer = await c.driver.producer()
    },
    prepare: ({ value }) => encode(value),
    async write(batch) {
      const out: ProduceRecord[] = [...(batch.deadLetters ?? [])]
      if (batch.state) out.push(batch.state.changelogRecord)
      for (const r of batch.records) out.push({ topic: topic!, key: r.key, value: Buffer.isBuffer(r.prepared) ? r.prepared : encode(r.value) })
      if (exactlyOnce) {
        if (out.length === 0 && batch.cause === 'punctuation') return { kind: 'acknowledged' } // position unchanged: nothing to commit
        const p = batch.position
        await (await producerOf(p.topic, p.partition)).sendAndCommit(out, { groupId: p.groupId, topic: p.topic, partition: p.partition, offset: p.nextOffset })
      } else if (out.length > 0) {
        await producer!.send(out)
      }
      const produced = new Map<string, number>()
      for (const r of out) produced.set(r.topic, (produced.get(r.topic) ?? 0) + 1)
      return { kind: 'acknowledged', produced }
    },
    async settle(ref) {
      if (!exactlyOnce) return
      // A new producer for the partition's id: its InitProducerId fences whoever held the id before
      // (another instance, or this one's own producer of an earlier assignment) and completes or
      // aborts the transaction it left open.
      const k = partitionKey(ref.topic, ref.partition)
      const old = transactional.get(k)
      transactional.delete(k)
      if (old) await old.then((p) => p.disconnect()).catch(() => undefined)
      await (await producerOf(ref.topic, ref.partition)).settle()
    },
    async close() {
      await producer?.disconnect()
      const all = [...transactional.values()]
      transactional.clear()
      await Promise.all(all.map((p) => p.then((x) => x.disconnect()).catch(() => undefined)))
    },
  }
}
