/** Kafka and registry clients of one CLI invocation. */
import { createKafkaDriver, type KafkaDriver, type RecordProducer, type TopicAdmin } from '../../processors/runtime/kafka/kafka-client.ts'
import { createSerde, type Serde } from '../../processors/runtime/kafka/serde.ts'
import { createLogger } from '../../processors/runtime/ops/logger.ts'
import { ROOT_SCHEMAS, topicNames, type RootSchemaName, type TopicKey, type TopicNames } from '../../schemas/index.ts'
import { stackEnv, type StackEnv } from './stack-env.ts'

/** Clients bound to the configured cluster and registry. */
export interface CliContext {
  readonly env: StackEnv
  readonly topics: TopicNames
  readonly prefix: string
  readonly driver: KafkaDriver
  readonly admin: TopicAdmin
  readonly producer: RecordProducer
  readonly serde: Serde
  close(): Promise<void>
}

/** Schema family of each topic's values (CONTRACTS.md section 1); the DLQ keeps original bytes. */
export const TOPIC_SCHEMAS: Partial<Record<TopicKey, RootSchemaName>> = {
  agentEvents: 'agent-event',
  enrichedEvents: 'enriched-agent-event',
  agentMetrics: 'agent-metrics-window',
  alerts: 'alert',
  alertPartials: 'alert-partial',
}

/** Connects an admin and a producer. @throws when the broker is unreachable (kafkajs retries first). */
export async function createCliContext(prefix: string): Promise<CliContext> {
  const env = stackEnv()
  const driver = createKafkaDriver({ brokers: env.kafkaBrokers, clientId: 'auren-cli', log: createLogger('auren-cli', process.env.AUREN_LOG_LEVEL ?? 'error', 2) })
  const admin = await driver.admin()
  const producer = await driver.producer()
  return {
    env,
    prefix,
    topics: topicNames(prefix),
    driver,
    admin,
    producer,
    serde: createSerde(env.schemaRegistryUrl),
    async close() {
      await producer.disconnect()
      await admin.disconnect()
    },
  }
}

/** Creates missing contract topics and registers every value schema (idempotent). */
export async function ensureTopicsAndSchemas(ctx: CliContext, partitions: number): Promise<void> {
  await ctx.admin.ensureTopics(Object.values(ctx.topics).map((topic) => ({ topic, partitions })))
  for (const [key, schema] of Object.entries(TOPIC_SCHEMAS)) {
    if (schema && ROOT_SCHEMAS[schema]) await ctx.serde.register(ctx.topics[key as TopicKey], schema)
  }
}
