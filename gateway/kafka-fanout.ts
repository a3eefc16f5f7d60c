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
import { createKafkaDriver, type BatchConsumer } from '../processors/runtime/kafka/kafka-client.ts'
import { createSerde } from '../processors/runtime/kafka/serde.ts'
import { fromEnrichedRecord, topicNames, type AgentMetricsWindow, type Alert, type EnrichedAgentEventRecord } from '../schemas/index.ts'
import type { StreamConfig } from './config.ts'
import { alertItem, eventItem, metricsItem, type StreamItem } from './event-json.ts'
import type { StreamMetrics } from './metrics.ts'

export interface KafkaFanout {
  /** True once the consumer joined its group (partitions assigned). */
  readonly joined: boolean
  /**
   * Stops fetching and leaves the group, waiting at most `timeoutMs` (default
   * {@link STOP_TIMEOUT_MS}) on the broker: during a broker outage kafkajs' stop and disconnect
   * retry against a broker that does not answer, so after the timeout the consumer is abandoned
   * (logged) — safe, since its group has this instance as its only member and commits nothing;
   * the broker drops the member after its session timeout. Never throws: a failure to stop is
   * logged, the shutdown goes on.
   */
  stop(timeoutMs?: number): Promise<void>
}

/** Most time a shutdown waits on the broker to stop the stream consumer, ms. */
export const STOP_TIMEOUT_MS = 2_000

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
  // A failed start (broker or registry unreachable) leaves no client behind: the caller retries
  // with a new one (server.ts).
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
  }).catch(async (err: unknown) => {
    await consumer.disconnect().catch(() => undefined)
    throw err
  })
  log.info({ groupId, topics: Object.values(topics) }, 'stream consumer started')
  return {
    get joined() {
      return joined
    },
    async stop(timeoutMs = STOP_TIMEOUT_MS) {
      const t0 = Date.now()
      const stopping = (async () => {
        await consumer.stop()
        await consumer.disconnect()
      })()
      let timer: NodeJS.Timeout | undefined
      const outcome = await Promise.race([
        stopping.then(() => 'stopped' as const, (err: unknown) => ({ err })),
        new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs))),
      ])
      clearTimeout(timer)
      if (outcome === 'stopped') log.info({ ms: Date.now() - t0 }, 'stream consumer stopped')
      else if (outcome === 'timeout') {
        stopping.catch(() => undefined)
        log.warn({ timeoutMs }, 'stream consumer not stopped in time (the broker does not answer); abandoned: its group is this instance alone and nothing is committed')
      } else log.warn({ err: outcome.err }, 'stream consumer failed to stop cleanly; going on with the shutdown')
    },
  }
}
