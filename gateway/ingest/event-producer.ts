/**
 * Writes accepted events to `auren.agent-events.v1` (CONTRACTS.md section 1) with the runtime's
 * idempotent producer (acks=all, kafka-client.ts) in Schema Registry wire format (serde.ts),
 * keyed by `trace_id` like every other producer of the topic. Connects on first use and again
 * after a failure, so the gateway starts and answers 503 while the broker is down.
 */
import type { Logger } from 'pino'
import { createKafkaDriver, type RecordProducer } from '../../processors/runtime/kafka/kafka-client.ts'
import { createSerde } from '../../processors/runtime/kafka/serde.ts'
import { topicNames, type AgentEventRecord } from '../../schemas/index.ts'
import type { StreamConfig } from '../config.ts'

/** The ingest API's way into Kafka. */
export interface EventProducer {
  /**
   * Produces the records and resolves once the broker acknowledged every one (acks=all).
   * @throws Error when the broker or the registry cannot be reached (kafkajs gives up after its retries)
   */
  publish(records: readonly AgentEventRecord[]): Promise<void>
  close(): Promise<void>
}

/** A producer for the topics of `config.topicPrefix`. */
export function createEventProducer(config: StreamConfig, log: Logger): EventProducer {
  const topic = topicNames(config.topicPrefix).agentEvents
  const driver = createKafkaDriver({ brokers: config.kafkaBrokers, clientId: 'auren-gateway-ingest', log: log.child({ part: 'kafka' }) })
  const serde = createSerde(config.schemaRegistryUrl)
  let connecting: Promise<{ producer: RecordProducer; schemaId: number }> | null = null
  const connect = () => {
    connecting ??= (async () => {
      const schemaId = await serde.register(topic, 'agent-event')
      const producer = await driver.producer()
      return { producer, schemaId }
    })()
    connecting.catch(() => (connecting = null))
    return connecting
  }
  return {
    async publish(records) {
      const { producer, schemaId } = await connect()
      await producer.send(records.map((r) => ({ topic, key: r.trace_id, value: serde.encode(schemaId, 'agent-event', r) })))
    },
    async close() {
      const c = connecting
      connecting = null
      if (c) await c.then((x) => x.producer.disconnect(), () => undefined)
    },
  }
}
