import { z } from 'zod'
import { AurenError } from './errors.ts'

/**
 * Base configuration every processor app shares (STYLE.md principle 4), read from environment
 * variables once at start. Durations are milliseconds. App configs extend this schema.
 */
export const baseConfigSchema = z.object({
  kafkaBrokers: z
    .string()
    .min(1)
    .transform((s) => s.split(',').map((b) => b.trim()).filter(Boolean))
    .describe('AUREN_KAFKA_BROKERS: comma-separated host:port list of bootstrap brokers'),
  topicPrefix: z.string().default('').describe('AUREN_TOPIC_PREFIX: prefix before the contract topic names (CONTRACTS.md section 1)'),
  schemaRegistryUrl: z.string().url().describe('AUREN_SCHEMA_REGISTRY_URL: base URL of the Confluent-compatible Schema Registry API'),
  groupIdPrefix: z.string().default('auren.').describe("AUREN_GROUP_ID_PREFIX: consumer group is '<prefix><processor>'"),
  clientId: z.string().default('auren').describe('AUREN_CLIENT_ID: Kafka client id'),
  httpHost: z.string().default('127.0.0.1').describe('AUREN_HTTP_HOST: address of /metrics, /healthz, /readyz'),
  httpPort: z.coerce.number().int().min(0).max(65535).default(9464).describe('AUREN_HTTP_PORT: port of /metrics, /healthz, /readyz (0 = any free port)'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('AUREN_LOG_LEVEL: pino level'),
  shutdownGraceMs: z.coerce.number().int().positive().default(10_000).describe('AUREN_SHUTDOWN_GRACE_MS: time to drain in-flight batches on SIGTERM, ms'),
  shutdownForceMs: z.coerce.number().int().positive().default(20_000).describe('AUREN_SHUTDOWN_FORCE_MS: exit(1) if shutdown takes longer than this, ms'),
  maxBatchBytes: z.coerce.number().int().positive().default(1_048_576).describe('AUREN_MAX_BATCH_BYTES: max bytes fetched per partition per request'),
  delivery: z
    .enum(['at-least-once', 'exactly-once'])
    .default('at-least-once')
    .describe('AUREN_DELIVERY: at-least-once (idempotent producer, commit after ack) or exactly-once (Kafka transactions)'),
  transactionalId: z
    .string()
    .min(1)
    .optional()
    .describe("AUREN_TRANSACTIONAL_ID: exactly-once only; unique per instance and stable across its restarts (default '<group id>-<hostname>-<pid>')"),
  punctuationIntervalMs: z.coerce.number().int().min(10).max(3_600_000).default(1_000).describe('AUREN_PUNCTUATION_INTERVAL_MS: processing-time tick of processors that punctuate, ms'),
  lagIntervalMs: z.coerce
    .number()
    .int()
    .min(100)
    .default(5_000)
    .describe('AUREN_LAG_INTERVAL_MS: period of the auren_consumer_lag_records update of every assigned partition, ms'),
  giveUpMs: z.coerce
    .number()
    .int()
    .min(0)
    .default(0)
    .describe('AUREN_GIVE_UP_MS: exit 1 once the broker has been unreachable this long, ms; 0 = never (ride out any outage)'),
  fromBeginning: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true')
    .describe('AUREN_FROM_BEGINNING: where a new consumer group starts (true: earliest offset)'),
})

/** Parsed, frozen base configuration. */
export type BaseConfig = Readonly<z.output<typeof baseConfigSchema>>

/** Environment variable of each base config field. */
export const BASE_ENV: Record<keyof z.input<typeof baseConfigSchema>, string> = {
  kafkaBrokers: 'AUREN_KAFKA_BROKERS',
  topicPrefix: 'AUREN_TOPIC_PREFIX',
  schemaRegistryUrl: 'AUREN_SCHEMA_REGISTRY_URL',
  groupIdPrefix: 'AUREN_GROUP_ID_PREFIX',
  clientId: 'AUREN_CLIENT_ID',
  httpHost: 'AUREN_HTTP_HOST',
  httpPort: 'AUREN_HTTP_PORT',
  logLevel: 'AUREN_LOG_LEVEL',
  shutdownGraceMs: 'AUREN_SHUTDOWN_GRACE_MS',
  shutdownForceMs: 'AUREN_SHUTDOWN_FORCE_MS',
  maxBatchBytes: 'AUREN_MAX_BATCH_BYTES',
  fromBeginning: 'AUREN_FROM_BEGINNING',
  delivery: 'AUREN_DELIVERY',
  transactionalId: 'AUREN_TRANSACTIONAL_ID',
  punctuationIntervalMs: 'AUREN_PUNCTUATION_INTERVAL_MS',
  lagIntervalMs: 'AUREN_LAG_INTERVAL_MS',
  giveUpMs: 'AUREN_GIVE_UP_MS',
}

/**
 * Parses a config object from environment variables with a zod schema, reporting every
 * problem at once, and freezes the result.
 * @param envNames field name → environment variable name
 * @throws AurenError AUREN_ERR_CONFIG listing every invalid or missing variable
 */
export function parseEnvConfig<S extends z.ZodObject>(
  schema: S,
  envNames: Record<string, string>,
  env: Record<string, string | undefined> = process.env,
): Readonly<z.output<S>> {
  const raw: Record<string, string> = {}
  for (const [field, name] of Object.entries(envNames)) {
    const value = env[name]
    if (value !== undefined && value !== '') raw[field] = value
  }
  const result = schema.safeParse(raw)
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const field = String(issue.path[0] ?? '')
      const missing = raw[field] === undefined && issue.code === 'invalid_type'
      return `${envNames[field] ?? field}: ${missing ? 'required, not set' : issue.message}`
    })
    throw new AurenError('AUREN_ERR_CONFIG', `invalid configuration:\n  - ${problems.join('\n  - ')}`)
  }
  return Object.freeze(result.data) as Readonly<z.output<S>>
}

/** Parses the base configuration. @throws AurenError AUREN_ERR_CONFIG as parseEnvConfig. */
export function parseBaseConfig(env: Record<string, string | undefined> = process.env): BaseConfig {
  return parseEnvConfig(baseConfigSchema, BASE_ENV, env)
}
