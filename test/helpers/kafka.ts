/**
 * Kafka and Schema Registry helpers for integration tests: unique topic prefixes, producing
 * AgentEvents in wire format, producing raw bytes, and consuming until a condition holds.
 */
import { randomUUID } from 'node:crypto'
import { createKafkaDriver, type ConsumedRecord, type KafkaDriver, type RecordProducer, type TopicAdmin } from '../../processors/runtime/kafka/kafka-client.ts'
import { createSerde, type Serde } from '../../processors/runtime/kafka/serde.ts'
import { createLogger } from '../../processors/runtime/ops/logger.ts'
import { DEFAULT_PARTITIONS, topicNames, toAgentEventRecord, type AgentEvent, type TopicNames } from '../../schemas/index.ts'
import { stackEnv } from './stack.ts'
import { waitUntil } from './wait-until.ts'

/** A per-test Kafka context: unique topics, a producer, an admin and a serde. */
export interface TestKafka {
  readonly prefix: string
  readonly topics: TopicNames
  readonly driver: KafkaDriver
  readonly admin: TopicAdmin
  readonly producer: RecordProducer
  readonly serde: Serde
  /** Produces events to the input topic in Schema Registry wire format, keyed by trace_id. */
  produceEvents(events: readonly AgentEvent[]): Promise<void>
  /** Reads a topic from the beginning until `done(records)` or the timeout (ms); returns what was read. */
  consumeUntil(topic: string, done: (records: readonly ConsumedRecord[]) => boolean, timeoutMs?: number): Promise<ConsumedRecord[]>
  /** Deletes the topics and disconnects. */
  close(): Promise<void>
}

/** A unique topic prefix, e.g. `t-1a2b3c4d-`. */
export function uniquePrefix(): string {
  return `t-${randomUUID().slice(0, 8)}-`
}

/**
 * Creates the contract topics under a unique prefix (6 partitions each) and connects.
 * @param partitions partitions of every topic
 */
export async function createTestKafka(partitions = DEFAULT_PARTITIONS): Promise<TestKafka> {
  const env = stackEnv()
  const prefix = uniquePrefix()
  const topics = topicNames(prefix)
  const driver = createKafkaDriver({ brokers: env.kafkaBrokers, clientId: 'auren-test', log: createLogger('test', 'error') })
  const admin = await driver.admin()
  // Right after a broker restart (the fault cases), KRaft may answer a new topic's metadata with
  // UNKNOWN_TOPIC_OR_PARTITION for a moment, which kafkajs' createTopics does not retry; creating
  // again skips the topics that exist.
  await waitUntil('the test topics created', async () => {
    await admin.ensureTopics(Object.values(topics).map((topic) => ({ topic, partitions })))
    return true
  }, { timeoutMs: 30_000, everyMs: 500, stopOn: (err) => !/does not host this topic-partition|leader/i.test((err as Error).message) })
  const producer = await driver.producer()
  const serde = createSerde(env.schemaRegistryUrl)
  let eventSchemaId: number | undefined

  return {
    prefix,
    topics,
    driver,
    admin,
    producer,
    serde,
    async produceEvents(events) {
      eventSchemaId ??= await serde.register(topics.agentEvents, 'agent-event')
      const id = eventSchemaId
      await producer.send(events.map((e) => ({ topic: topics.agentEvents, key: e.trace_id, value: serde.encode(id, 'agent-event', toAgentEventRecord(e)) })))
    },
    async consumeUntil(topic, done, timeoutMs = 60_000) {
      const consumer = driver.consumer({ groupId: `test-reader-${randomUUID()}` })
      const records: ConsumedRecord[] = []
      let finished = false
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          finished = true
          resolve()
        }, timeoutMs)
        consumer
          .run({
            topics: [topic],
            fromBeginning: true,
            autoResolve: true,
            onBatch: async (batch) => {
              if (finished) return
              records.push(...batch.records)
              if (done(records)) {
                finished = true
                clearTimeout(timer)
                resolve()
              }
            },
          })
          .catch(reject)
      })
      await consumer.disconnect()
      return records
    },
    async close() {
      await producer.disconnect()
      await admin.deleteTopics(Object.values(topics)).catch(() => undefined)
      await admin.disconnect()
    },
  }
}
