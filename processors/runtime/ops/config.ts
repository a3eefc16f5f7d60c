import { z } from 'zod'
import { defineEnvConfig, type ConfigRow, type EnvValues } from './env-config.ts'
import { httpFields, kafkaFields, logLevelField, msField } from './config-fragments.ts'

/**
 * Base configuration every processor app shares (STYLE.md principle 4): the Kafka and HTTP
 * fragments plus the runner's settings, read from `AUREN_*` variables once at start
 * ({@link defineEnvConfig}). Durations are milliseconds. Each app adds its own configuration;
 * `runProcessorApp` reports the problems of both at once. README.md "Configuration (every
 * processor)" lists these variables.
 */
const fields = {
  ...kafkaFields(),
  AUREN_GROUP_ID_PREFIX: z.string().default('auren.').meta({ unit: 'text', description: "Consumer group is '<prefix><processor>'." }),
  AUREN_CLIENT_ID: z.string().default('auren').meta({ unit: 'text', description: 'Kafka client id.' }),
  ...httpFields('AUREN_', 9464, '/metrics, /healthz, /readyz'),
  AUREN_LOG_LEVEL: logLevelField().meta({ unit: 'level', description: 'pino level; logs are JSON lines.' }),
  AUREN_SHUTDOWN_GRACE_MS: msField(10_000, 1).meta({ unit: 'ms', description: 'Time to drain in-flight batches on SIGTERM.' }),
  AUREN_SHUTDOWN_FORCE_MS: msField(20_000, 1).meta({ unit: 'ms', description: 'exit(1) if shutdown takes longer than this.' }),
  AUREN_MAX_BATCH_BYTES: z.coerce.number().int().positive().default(1_048_576).meta({ unit: 'bytes', description: 'Most bytes fetched per partition per request.' }),
  AUREN_DELIVERY: z.enum(['at-least-once', 'exactly-once']).default('at-least-once').meta({
    unit: 'mode', description: 'at-least-once (idempotent producer, commit after ack) or exactly-once (Kafka transactions).',
  }),
  AUREN_TRANSACTIONAL_ID: z.string().min(1).optional().meta({
    unit: 'text', description: "Exactly-once only: prefix of the transactional ids, one per input partition ('<prefix>-<topic>-<partition>'); the same on every instance of the group (default: the group id).",
  }),
  AUREN_PUNCTUATION_INTERVAL_MS: z.coerce.number().int().min(10).max(3_600_000).default(1_000).meta({ unit: 'ms', description: 'Processing-time tick of processors that punctuate.' }),
  AUREN_LAG_INTERVAL_MS: msField(5_000, 100).meta({ unit: 'ms', description: 'Period of the auren_consumer_lag_records update of every assigned partition.' }),
  AUREN_GIVE_UP_MS: msField(0).meta({ unit: 'ms', description: 'Exit 1 once the broker has been unreachable this long; 0 = never (ride out any outage).' }),
  AUREN_FROM_BEGINNING: z.enum(['true', 'false']).default('true').meta({ unit: 'boolean', description: 'Where a new consumer group starts (true: earliest offset).' }),
}

/** Parsed, frozen base configuration. */
export interface BaseConfig {
  readonly kafkaBrokers: readonly string[]
  readonly topicPrefix: string
  readonly schemaRegistryUrl: string
  readonly groupIdPrefix: string
  readonly clientId: string
  readonly httpHost: string
  /** 0 = any free port. */
  readonly httpPort: number
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
  readonly shutdownGraceMs: number
  readonly shutdownForceMs: number
  readonly maxBatchBytes: number
  readonly delivery: 'at-least-once' | 'exactly-once'
  readonly transactionalId?: string
  readonly punctuationIntervalMs: number
  readonly lagIntervalMs: number
  /** 0 = never give up. */
  readonly giveUpMs: number
  readonly fromBeginning: boolean
}

function compile(c: EnvValues<typeof fields>): BaseConfig {
  return {
    kafkaBrokers: c.AUREN_KAFKA_BROKERS,
    topicPrefix: c.AUREN_TOPIC_PREFIX,
    schemaRegistryUrl: c.AUREN_SCHEMA_REGISTRY_URL,
    groupIdPrefix: c.AUREN_GROUP_ID_PREFIX,
    clientId: c.AUREN_CLIENT_ID,
    httpHost: c.AUREN_HTTP_HOST,
    httpPort: c.AUREN_HTTP_PORT,
    logLevel: c.AUREN_LOG_LEVEL,
    shutdownGraceMs: c.AUREN_SHUTDOWN_GRACE_MS,
    shutdownForceMs: c.AUREN_SHUTDOWN_FORCE_MS,
    maxBatchBytes: c.AUREN_MAX_BATCH_BYTES,
    delivery: c.AUREN_DELIVERY,
    ...(c.AUREN_TRANSACTIONAL_ID !== undefined ? { transactionalId: c.AUREN_TRANSACTIONAL_ID } : {}),
    punctuationIntervalMs: c.AUREN_PUNCTUATION_INTERVAL_MS,
    lagIntervalMs: c.AUREN_LAG_INTERVAL_MS,
    giveUpMs: c.AUREN_GIVE_UP_MS,
    fromBeginning: c.AUREN_FROM_BEGINNING === 'true',
  }
}

/** The base configuration of every processor (no own prefix: `AUREN_` is everyone's). */
export const BASE_CONFIG = defineEnvConfig({ name: 'processor base', fields, compile })

/** Parses the base configuration. @throws AurenError AUREN_ERR_CONFIG listing every problem. */
export function parseBaseConfig(env: Record<string, string | undefined> = process.env): BaseConfig {
  return BASE_CONFIG.parse(env)
}

/** One row per base variable, for README.md "Configuration (every processor)". */
export function describeBaseConfig(): ConfigRow[] {
  return BASE_CONFIG.describe()
}
