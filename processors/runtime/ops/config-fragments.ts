/**
 * Fields shared by several apps' configurations ({@link defineEnvConfig} in env-config.ts):
 * Kafka (brokers, Schema Registry, topic prefix), HTTP (listen address of the API or of
 * /metrics /healthz /readyz) and database (PostgreSQL URL, schema, pool size), plus the value
 * schemas every app uses (durations in ms, counts, log level). Each field carries its unit and
 * description (`.meta`), which the README tables show.
 */
import { z } from 'zod'

/** An integer (a count, a size in bytes, a duration in ms), `min`..`max` (default 1e12), with a default. */
export const intField = (def: number, min = 0, max = 1e12) => z.coerce.number().int().min(min).max(max).default(def)

/** A duration in ms ({@link intField}). */
export const msField = intField

/** pino log levels. */
export const logLevelField = () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')

/** A lower-case SQL identifier (schema names), default `public`. */
export const sqlIdentifierField = () => z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier').default('public')

const brokerList = z
  .string()
  .min(1)
  .transform((s, ctx) => {
    const brokers = s.split(',').map((b) => b.trim()).filter(Boolean)
    if (brokers.length === 0 || brokers.some((b) => /\s/.test(b))) ctx.addIssue({ code: 'custom', message: 'must be a comma-separated list of host:port' })
    return brokers
  })
const topicPrefix = z.string().regex(/^[A-Za-z0-9._-]*$/, 'may hold only letters, digits, ".", "_" and "-"').default('')

/**
 * Kafka settings of a processor: `AUREN_KAFKA_BROKERS` (→ string[]) and
 * `AUREN_SCHEMA_REGISTRY_URL` required, `AUREN_TOPIC_PREFIX` (CONTRACTS.md section 1).
 */
export function kafkaFields() {
  return {
    AUREN_KAFKA_BROKERS: brokerList.meta({ unit: 'host:port list', description: 'Comma-separated bootstrap brokers.' }),
    AUREN_SCHEMA_REGISTRY_URL: z.url().meta({ unit: 'URL', description: 'Base URL of the Confluent-compatible Schema Registry API.' }),
    AUREN_TOPIC_PREFIX: topicPrefix.meta({ unit: 'text', description: 'Prefix before the contract topic names (CONTRACTS.md section 1).' }),
  }
}

/** The same Kafka settings, optional (the gateway runs its REST API without Kafka). */
export function optionalKafkaFields(what: { brokers: string; registry: string }) {
  return {
    AUREN_KAFKA_BROKERS: brokerList.optional().meta({ unit: 'host:port list', description: what.brokers }),
    AUREN_SCHEMA_REGISTRY_URL: z.url().optional().meta({ unit: 'URL', description: what.registry }),
    AUREN_TOPIC_PREFIX: topicPrefix.meta({ unit: 'text', description: 'Prefix of the contract topic names (as the processors’).' }),
  }
}

/**
 * Listen address: `<prefix>HTTP_HOST` (default 127.0.0.1) and `<prefix>HTTP_PORT` (0 = any free port).
 * @param prefix `AUREN_` for the processors' ops server, `AUREN_GATEWAY_` for the gateway
 */
export function httpFields<P extends string>(prefix: P, defaultPort: number, what: string) {
  return {
    [`${prefix}HTTP_HOST`]: z.string().min(1).default('127.0.0.1').meta({ unit: 'address', description: `Listen address of ${what}.` }),
    [`${prefix}HTTP_PORT`]: z.coerce.number().int().min(0).max(65535).default(defaultPort).meta({ unit: 'port', description: `Listen port of ${what} (0 = any free port).` }),
  } as { [K in `${P}HTTP_HOST`]: z.ZodDefault<z.ZodString> } & { [K in `${P}HTTP_PORT`]: z.ZodDefault<z.ZodCoercedNumber<unknown>> }
}

/**
 * PostgreSQL: `AUREN_DATABASE_URL` (required) and `<prefix>DB_SCHEMA` (default `public`).
 * @param prefix the app's, e.g. `AUREN_AGGREGATION_`
 */
export function databaseFields<P extends string>(prefix: P, what: { url: string; schema: string }) {
  return {
    AUREN_DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL').meta({ unit: 'URL', description: what.url }),
    [`${prefix}DB_SCHEMA`]: sqlIdentifierField().meta({ unit: 'identifier', description: what.schema }),
  } as { AUREN_DATABASE_URL: z.ZodString } & { [K in `${P}DB_SCHEMA`]: z.ZodDefault<z.ZodString> }
}

/** `<prefix>DB_POOL_SIZE`: most PostgreSQL connections of the instance, `min`..100, default 4. */
export function dbPoolSizeField<P extends string>(prefix: P, description: string, min = 1) {
  return {
    [`${prefix}DB_POOL_SIZE`]: z.coerce.number().int().min(min).max(100).default(4).meta({ unit: 'connections', description }),
  } as { [K in `${P}DB_POOL_SIZE`]: z.ZodDefault<z.ZodCoercedNumber<unknown>> }
}
