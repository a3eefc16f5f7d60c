/**
 * The stream's Kafka reader: one consumer per gateway instance, in a consumer group of its own
 * (a random id, so every instance reads every partition), starting at the latest offsets (a new
 * group with `fromBeginning: false`), on the enriched events, metrics windows and alerts topics.
 * Each record is decoded (Schema Registry wire format, serde.ts) and handed to `publish` (the
 * stream server, which keeps it for replays). Nothing is committed that matters: a restarted
 * instance starts at the latest offsets again, so delivery to clients is at most once; clients
 * recover the gap with `since` only from what this instance has kept (history.ts).
 *
 * A record that does not decode is logged and counted (auren_gateway_dropped_messages_total
 * {reason="decode"}); the reader goes on.
 */
import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import { createKafkaDriver, type BatchConsumer } from '../processors/runtime/kafka-client.ts'
import { createSerde } from '../processors/runtime/serde.ts'
import { fromEnrichedRecord, topicNames, type AgentMetricsWindow, type Alert, type EnrichedAgentEventRecord } from '../schemas/index.ts'
import type { StreamConfig } from './config.ts'
import { alertItem, eventItem, metricsItem, type StreamItem } from './event-json.ts'
import type { StreamMetrics } from './metrics.ts'

export interface KafkaFanout {
  /** True once the consumer joined its group (partitions assigned). */
  readonly joined: boolean
  stop(): Promise<void>
}

/** Starts reading; resolves once the consumer runs (joining goes on in the background). */
export async function startKafkaFanout(deps: { config: StreamConfig; log: Logger; metrics: StreamMetrics; publish: (item: StreamItem) => void }): Promise<KafkaFanout> {
  const { config, log, metrics, publish } = deps
  const topics = topicNames(config.topicPrefix)
  const driver = createKafkaDriver({ brokers: config.kafkaBrokers, clientId: 'auren-gateway', log: log.child({ part: 'kafka' }) })
  const serde = createSerde(config.schemaRegistryUrl)
  const groupId = `${config.topicPrefix}auren.gateway.${randomUUID()}`
  const consumer: BatchConsumer = driver.consumer({ groupId })
  let joined = false
  consumer.onGroupEvent((e) => {
    if (e.type === 'joined') joined = true
    if (e.type === 'crashed') log.error({ err: e.error, restarting: e.restarting }, 'stream consumer crashed')
  })
  await consumer.run({
    topics: [topics.enrichedEvents, topics.agentMetrics, topics.alerts],
    fromBeginning: false,
    autoResolve: true,
    onBatch: async (batch) => {
      for (const r of batch.records) {
        try {
          if (batch.topic === topics.enrichedEvents) publish(eventItem(fromEnrichedRecord((await serde.decode(r.value, 'enriched-agent-event')) as EnrichedAgentEventRecord), r.timestampMs))
          else if (batch.topic === topics.agentMetrics) publish(metricsItem((await serde.decode(r.value, 'agent-metrics-window')) as AgentMetricsWindow))
          else publish(alertItem((await serde.decode(r.value, 'alert')) as Alert))
        } catch (err) {
          metrics.dropped.inc({ reason: 'decode' })
          log.warn({ topic: batch.topic, partition: batch.partition, offset: r.offset, err }, 'stream record not decoded; skipped')
        }
      }
    },
  })
  log.info({ groupId, topics: Object.values(topics) }, 'stream consumer started')
  return {
    get joined() {
      return joined
    },
    async stop() {
      await consumer.stop()
      await consumer.disconnect()
    },
  }
}
