/**
 * The gateway's configuration (STYLE.md principle 4): `AUREN_GATEWAY_*` variables and
 * `AUREN_DATABASE_URL`, parsed once, every problem reported at once (unknown `AUREN_GATEWAY_*`
 * names too, to catch typos), frozen. Keyed by variable, so an issue names the variable to fix;
 * each field carries its unit, default and description ({@link describeGatewayConfig} renders
 * the README table).
 *
 * Authentication has no default secret: exactly one of `AUREN_GATEWAY_JWT_SECRET` (HS256, at
 * least 32 bytes, RFC 7518 section 3.2) or `AUREN_GATEWAY_JWKS_URL` (RS256/ES256 keys) must be set.
 */
import { z } from 'zod'
import { defineEnvConfig, type ConfigRow, type EnvValues } from '../processors/runtime/ops/env-config.ts'
import { databaseFields, dbPoolSizeField, httpFields, logLevelField, msField, optionalKafkaFields } from '../processors/runtime/ops/config-fragments.ts'

const ms = (def: number, min = 1) => msField(def, min, 1e13)
const optionalText = z.string().min(1).optional()

const fields = {
  ...databaseFields('AUREN_GATEWAY_', {
    url: 'PostgreSQL connection URL of the aggregation rollup tables (required).',
    schema: 'Schema of the agg_* tables (the aggregation processor’s AUREN_AGGREGATION_DB_SCHEMA).',
  }),
  ...dbPoolSizeField('AUREN_GATEWAY_', 'Most PostgreSQL connections of the instance.'),
  AUREN_GATEWAY_DB_STATEMENT_TIMEOUT_MS: ms(10_000).meta({
    unit: 'ms', description: 'statement_timeout of every query; a slower query answers 503.',
  }),
  ...httpFields('AUREN_GATEWAY_', 8080, 'the REST API, /metrics, /healthz, /readyz'),
  AUREN_GATEWAY_JWT_SECRET: z.string().refine((s) => Buffer.byteLength(s, 'utf8') >= 32, 'must be at least 32 bytes (HS256 key, RFC 7518 3.2)').optional().meta({
    unit: 'secret', description: 'HS256 shared secret of the JWTs (≥ 32 bytes). Set this or AUREN_GATEWAY_JWKS_URL, not both.',
  }),
  AUREN_GATEWAY_JWKS_URL: z.string().url().optional().meta({
    unit: 'URL', description: 'JWKS document of the issuer (RS256/ES256 keys, fetched and cached). Set this or AUREN_GATEWAY_JWT_SECRET.',
  }),
  AUREN_GATEWAY_JWT_ISSUER: optionalText.meta({ unit: 'text', description: 'Required `iss` claim, when set.' }),
  AUREN_GATEWAY_JWT_AUDIENCE: optionalText.meta({ unit: 'text', description: 'Required `aud` claim, when set.' }),
  AUREN_GATEWAY_JWT_CLOCK_TOLERANCE_S: z.coerce.number().int().min(0).max(300).default(0).meta({
    unit: 's', description: 'Clock skew allowed when checking exp and nbf.',
  }),
  AUREN_GATEWAY_DEFAULT_RANGE_MS: ms(86_400_000).meta({ unit: 'ms', description: 'Range of a query without `from` (from = to − this; to defaults to now).' }),
  AUREN_GATEWAY_MAX_RANGE_MS: ms(90 * 86_400_000).meta({ unit: 'ms', description: 'Longest `from`..`to` range a query may ask for (longer: 400).' }),
  AUREN_GATEWAY_ACTIVE_WINDOW_MS: ms(300_000).meta({ unit: 'ms', description: 'agents/active: an agent is active when one of its events was processed within this time.' }),
  AUREN_GATEWAY_PROJECTION_BASIS_MIN: z.coerce.number().int().min(1).max(10_080).default(60).meta({
    unit: 'minutes', description: 'Default history of projections: the N minutes before the latest rollup window with data (rate and trend).',
  }),
  AUREN_GATEWAY_COST_SHARE_FACTOR: z.coerce.number().min(1).max(1000).default(2).meta({
    unit: 'ratio', description: 'Recommendations: a model is out of line when its cost share ≥ this × its call share.',
  }),
  AUREN_GATEWAY_RECOMMENDATION_MIN_SUPPORT: z.coerce.number().int().min(1).max(1_000_000).default(10).meta({
    unit: 'count', description: 'Recommendations: least observations behind one (item accesses, pair interactions, model answered calls, timed lookups per tier); stated in its method.',
  }),
  AUREN_GATEWAY_PROJECTION_MIN_WINDOWS: z.coerce.number().int().min(1).max(10_080).default(10).meta({
    unit: 'windows', description: 'Projections: least rollup windows with data in the basis; fewer: the projection is null with the reason.',
  }),
  AUREN_GATEWAY_TREND_MIN_R2: z.coerce.number().min(0).max(1).default(0.5).meta({
    unit: 'ratio', description: 'Projections: least r² of the trend line for a trend projection; lower: the trend is null with the reason.',
  }),
  AUREN_GATEWAY_EXPORT_MAX_ROWS: z.coerce.number().int().min(1).max(10_000_000).default(100_000).meta({
    unit: 'rows', description: 'Most rows one export may hold (more: 400, asking for a smaller range or larger window).',
  }),
  AUREN_GATEWAY_LOG_LEVEL: logLevelField().meta({ unit: 'level', description: 'pino log level.' }),
  AUREN_GATEWAY_SHUTDOWN_FORCE_MS: ms(10_000).meta({ unit: 'ms', description: 'On SIGTERM, exit 1 if closing takes longer than this.' }),
  ...optionalKafkaFields({
    brokers: 'Kafka bootstrap servers of the live stream (/v1/stream). Unset: the stream is off (upgrades answer 503) and only the REST API runs.',
    registry: 'Schema Registry of the stream’s topics (required with AUREN_KAFKA_BROKERS).',
  }),
  AUREN_GATEWAY_WS_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(1_000_000).default(1000).meta({ unit: 'connections', description: 'Most WebSocket connections of the instance; more are closed with 1013.' }),
  AUREN_GATEWAY_WS_MAX_PAYLOAD_BYTES: z.coerce.number().int().min(1024).max(16 * 1024 * 1024).default(65_536).meta({ unit: 'bytes', description: 'Largest client frame; larger closes the connection with 1009.' }),
  AUREN_GATEWAY_WS_AUTH_TIMEOUT_MS: ms(5_000, 100).meta({ unit: 'ms', description: 'Time to send {"type":"auth"} without an Authorization header (then close 4408).' }),
  AUREN_GATEWAY_WS_HEARTBEAT_MS: ms(30_000, 100).meta({ unit: 'ms', description: 'WebSocket ping period; a client that did not answer the previous ping is dropped.' }),
  AUREN_GATEWAY_WS_MAX_SUBSCRIPTIONS: z.coerce.number().int().min(1).max(1000).default(20).meta({ unit: 'subscriptions', description: 'Most subscriptions per connection (more: TOO_MANY_SUBSCRIPTIONS).' }),
  AUREN_GATEWAY_WS_RATE_PER_S: z.coerce.number().min(0.1).max(10_000).default(20).meta({ unit: 'messages/s', description: 'Client messages allowed per second and connection (token bucket refill).' }),
  AUREN_GATEWAY_WS_RATE_BURST: z.coerce.number().int().min(1).max(100_000).default(40).meta({ unit: 'messages', description: 'Client messages allowed in a burst (bucket size).' }),
  AUREN_GATEWAY_WS_RATE_STRIKES: z.coerce.number().int().min(1).max(1000).default(10).meta({ unit: 'messages', description: 'RATE_LIMITED refusals in a row that close the connection with 4429.' }),
  AUREN_GATEWAY_WS_SLOW_DROP_BYTES: z.coerce.number().int().min(1024).default(1_048_576).meta({ unit: 'bytes', description: 'Queued bytes on a socket above which analytical batches are dropped.' }),
  AUREN_GATEWAY_WS_SLOW_CLOSE_BYTES: z.coerce.number().int().min(1024).default(8_388_608).meta({ unit: 'bytes', description: 'Queued bytes on a socket above which the client is closed (1013, too slow).' }),
  AUREN_GATEWAY_HISTORY_MAX_AGE_MS: ms(300_000).meta({ unit: 'ms', description: 'How long stream records are kept for `since` replays.' }),
  AUREN_GATEWAY_HISTORY_MAX_COUNT: z.coerce.number().int().min(0).max(10_000_000).default(50_000).meta({ unit: 'records', description: 'Most stream records kept for `since` replays.' }),
  AUREN_GATEWAY_INGEST_API_KEYS: z.string().refine((s) => s.split(',').every((k) => k.trim().length >= 32), 'must be comma-separated keys of at least 32 characters each').optional().meta({
    unit: 'secret list', description: 'API keys accepted by the ingest API (`X-API-Key`), comma-separated, ≥ 32 characters each; a JWT with scope `events:write` is accepted too.',
  }),
  AUREN_GATEWAY_INGEST_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(4 * 1024 * 1024).meta({ unit: 'bytes', description: 'Largest ingest request body, after gzip decompression (more: 413).' }),
  AUREN_GATEWAY_INGEST_MAX_EVENTS: z.coerce.number().int().min(1).max(100_000).default(1000).meta({ unit: 'events', description: 'Most events (or spans) in one ingest request (more: 400).' }),
  AUREN_GATEWAY_INGEST_RATE_PER_S: z.coerce.number().min(0.1).max(100_000).default(50).meta({ unit: 'requests/s', description: 'Ingest requests allowed per second and credential (token bucket; over it: 429 with Retry-After).' }),
  AUREN_GATEWAY_INGEST_RATE_BURST: z.coerce.number().int().min(1).max(1_000_000).default(100).meta({ unit: 'requests', description: 'Ingest requests allowed in a burst per credential.' }),
  AUREN_GATEWAY_INGEST_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(10_000).default(32).meta({ unit: 'requests', description: 'Ingest requests waiting for the broker’s acknowledgement at once; more: 429 with Retry-After (backpressure).' }),
  AUREN_GATEWAY_INGEST_ACK_TIMEOUT_MS: ms(5_000, 100).meta({ unit: 'ms', description: 'Longest wait for the broker’s acknowledgement of a batch; then 503 with Retry-After (the client retries; event_id dedups).' }),
  AUREN_GATEWAY_INGEST_MAX_FUTURE_SKEW_MS: ms(86_400_000, 0).meta({ unit: 'ms', description: 'An event more than this ahead of the clock is refused (enrichment’s AUREN_ENRICHMENT_MAX_FUTURE_SKEW_MS; same default).' }),
}

/** How tokens are verified (auth.ts). */
export type AuthConfig =
  | { readonly mode: 'hs256'; readonly secret: string; readonly issuer?: string; readonly audience?: string; readonly clockToleranceS: number }
  | { readonly mode: 'jwks'; readonly jwksUrl: string; readonly issuer?: string; readonly audience?: string; readonly clockToleranceS: number }

/** Query limits and analytics settings used by the routes (app.ts). */
export interface ApiConfig {
  readonly defaultRangeMs: number
  readonly maxRangeMs: number
  readonly activeWindowMs: number
  readonly projectionBasisMin: number
  readonly costShareFactor: number
  /** Least observations behind a recommendation. */
  readonly recommendationMinSupport: number
  /** Least rollup windows with data in a projection's basis. */
  readonly projectionMinWindows: number
  /** Least r² of a trend projection. */
  readonly trendMinR2: number
  readonly exportMaxRows: number
}

/** The gateway configuration, compiled and frozen. */
export interface GatewayConfig {
  readonly databaseUrl: string
  readonly dbSchema: string
  readonly dbPoolSize: number
  readonly dbStatementTimeoutMs: number
  readonly httpHost: string
  readonly httpPort: number
  readonly auth: AuthConfig
  readonly api: ApiConfig
  readonly logLevel: string
  readonly shutdownForceMs: number
  /** The live stream (/v1/stream); null without AUREN_KAFKA_BROKERS. */
  readonly stream: StreamConfig | null
}

/** Settings of the WebSocket stream (ws-server.ts, kafka-fanout.ts). */
export interface StreamConfig {
  readonly kafkaBrokers: readonly string[]
  readonly schemaRegistryUrl: string
  readonly topicPrefix: string
  readonly ws: WsConfig
  readonly ingest: IngestConfig
}

/** WebSocket limits (ws-server.ts). */
export interface WsConfig {
  readonly maxConnections: number
  readonly maxPayloadBytes: number
  readonly authTimeoutMs: number
  readonly heartbeatMs: number
  readonly maxSubscriptions: number
  readonly rate: { readonly perSecond: number; readonly burst: number; readonly maxStrikes: number }
  readonly slow: { readonly dropAnalyticalBytes: number; readonly closeBytes: number }
  readonly history: { readonly maxAgeMs: number; readonly maxCount: number }
}

/** The ingest API (`POST /v1/events`), part of the stream settings (it needs Kafka too). */
export interface IngestConfig {
  /** Accepted `X-API-Key` values (may be empty: then only JWTs with scope `events:write`). */
  readonly apiKeys: readonly string[]
  readonly maxBodyBytes: number
  readonly maxEvents: number
  readonly rate: { readonly perSecond: number; readonly burst: number }
  readonly maxInFlight: number
  readonly ackTimeoutMs: number
  readonly maxFutureSkewMs: number
}

export const DEFAULT_INGEST_CONFIG: IngestConfig = Object.freeze({
  apiKeys: Object.freeze([]), maxBodyBytes: 4 * 1024 * 1024, maxEvents: 1000, rate: Object.freeze({ perSecond: 50, burst: 100 }),
  maxInFlight: 32, ackTimeoutMs: 5_000, maxFutureSkewMs: 86_400_000,
})

/** Defaults of {@link WsConfig} (the schema's). */
export const DEFAULT_WS_CONFIG: WsConfig = Object.freeze({
  maxConnections: 1000, maxPayloadBytes: 65_536, authTimeoutMs: 5_000, heartbeatMs: 30_000, maxSubscriptions: 20,
  rate: Object.freeze({ perSecond: 20, burst: 40, maxStrikes: 10 }),
  slow: Object.freeze({ dropAnalyticalBytes: 1_048_576, closeBytes: 8_388_608 }),
  history: Object.freeze({ maxAgeMs: 300_000, maxCount: 50_000 }),
})

/** Defaults of {@link ApiConfig} (the schema's), for tests and embedders. */
export const DEFAULT_API_CONFIG: ApiConfig = Object.freeze({
  defaultRangeMs: 86_400_000, maxRangeMs: 90 * 86_400_000, activeWindowMs: 300_000,
  projectionBasisMin: 60, costShareFactor: 2, exportMaxRows: 100_000, recommendationMinSupport: 10, projectionMinWindows: 10, trendMinR2: 0.5,
})

/** Cross-field rules: exactly one way to verify tokens; the stream needs the registry. */
function checkGateway(_values: unknown, set: ReadonlySet<string>): string[] {
  const problems: string[] = []
  const hasSecret = set.has('AUREN_GATEWAY_JWT_SECRET')
  const hasJwks = set.has('AUREN_GATEWAY_JWKS_URL')
  if (hasSecret === hasJwks) {
    problems.push(`AUREN_GATEWAY_JWT_SECRET / AUREN_GATEWAY_JWKS_URL: set exactly one (${hasSecret ? 'both are set' : 'neither is set; there is no default secret'})`)
  }
  if (set.has('AUREN_KAFKA_BROKERS') && !set.has('AUREN_SCHEMA_REGISTRY_URL')) {
    problems.push('AUREN_SCHEMA_REGISTRY_URL: required with AUREN_KAFKA_BROKERS (the stream decodes Avro records)')
  }
  return problems
}

function compileGateway(c: EnvValues<typeof fields>): GatewayConfig {
  const common = {
    ...(c.AUREN_GATEWAY_JWT_ISSUER ? { issuer: c.AUREN_GATEWAY_JWT_ISSUER } : {}),
    ...(c.AUREN_GATEWAY_JWT_AUDIENCE ? { audience: c.AUREN_GATEWAY_JWT_AUDIENCE } : {}),
    clockToleranceS: c.AUREN_GATEWAY_JWT_CLOCK_TOLERANCE_S,
  }
  const auth: AuthConfig = c.AUREN_GATEWAY_JWT_SECRET
    ? Object.freeze({ mode: 'hs256', secret: c.AUREN_GATEWAY_JWT_SECRET, ...common })
    : Object.freeze({ mode: 'jwks', jwksUrl: c.AUREN_GATEWAY_JWKS_URL!, ...common })
  return Object.freeze({
    databaseUrl: c.AUREN_DATABASE_URL,
    dbSchema: c.AUREN_GATEWAY_DB_SCHEMA,
    dbPoolSize: c.AUREN_GATEWAY_DB_POOL_SIZE,
    dbStatementTimeoutMs: c.AUREN_GATEWAY_DB_STATEMENT_TIMEOUT_MS,
    httpHost: c.AUREN_GATEWAY_HTTP_HOST,
    httpPort: c.AUREN_GATEWAY_HTTP_PORT,
    auth,
    api: Object.freeze({
      defaultRangeMs: c.AUREN_GATEWAY_DEFAULT_RANGE_MS,
      maxRangeMs: c.AUREN_GATEWAY_MAX_RANGE_MS,
      activeWindowMs: c.AUREN_GATEWAY_ACTIVE_WINDOW_MS,
      projectionBasisMin: c.AUREN_GATEWAY_PROJECTION_BASIS_MIN,
      costShareFactor: c.AUREN_GATEWAY_COST_SHARE_FACTOR,
      recommendationMinSupport: c.AUREN_GATEWAY_RECOMMENDATION_MIN_SUPPORT,
      projectionMinWindows: c.AUREN_GATEWAY_PROJECTION_MIN_WINDOWS,
      trendMinR2: c.AUREN_GATEWAY_TREND_MIN_R2,
      exportMaxRows: c.AUREN_GATEWAY_EXPORT_MAX_ROWS,
    }),
    logLevel: c.AUREN_GATEWAY_LOG_LEVEL,
    shutdownForceMs: c.AUREN_GATEWAY_SHUTDOWN_FORCE_MS,
    stream: c.AUREN_KAFKA_BROKERS === undefined ? null : Object.freeze({
      kafkaBrokers: c.AUREN_KAFKA_BROKERS,
      schemaRegistryUrl: c.AUREN_SCHEMA_REGISTRY_URL!,
      topicPrefix: c.AUREN_TOPIC_PREFIX,
      ws: Object.freeze({
        maxConnections: c.AUREN_GATEWAY_WS_MAX_CONNECTIONS,
        maxPayloadBytes: c.AUREN_GATEWAY_WS_MAX_PAYLOAD_BYTES,
        authTimeoutMs: c.AUREN_GATEWAY_WS_AUTH_TIMEOUT_MS,
        heartbeatMs: c.AUREN_GATEWAY_WS_HEARTBEAT_MS,
        maxSubscriptions: c.AUREN_GATEWAY_WS_MAX_SUBSCRIPTIONS,
        rate: Object.freeze({ perSecond: c.AUREN_GATEWAY_WS_RATE_PER_S, burst: c.AUREN_GATEWAY_WS_RATE_BURST, maxStrikes: c.AUREN_GATEWAY_WS_RATE_STRIKES }),
        slow: Object.freeze({ dropAnalyticalBytes: c.AUREN_GATEWAY_WS_SLOW_DROP_BYTES, closeBytes: c.AUREN_GATEWAY_WS_SLOW_CLOSE_BYTES }),
        history: Object.freeze({ maxAgeMs: c.AUREN_GATEWAY_HISTORY_MAX_AGE_MS, maxCount: c.AUREN_GATEWAY_HISTORY_MAX_COUNT }),
      }),
      ingest: Object.freeze({
        apiKeys: Object.freeze((c.AUREN_GATEWAY_INGEST_API_KEYS ?? '').split(',').map((k) => k.trim()).filter((k) => k !== '')),
        maxBodyBytes: c.AUREN_GATEWAY_INGEST_MAX_BODY_BYTES,
        maxEvents: c.AUREN_GATEWAY_INGEST_MAX_EVENTS,
        rate: Object.freeze({ perSecond: c.AUREN_GATEWAY_INGEST_RATE_PER_S, burst: c.AUREN_GATEWAY_INGEST_RATE_BURST }),
        maxInFlight: c.AUREN_GATEWAY_INGEST_MAX_IN_FLIGHT,
        ackTimeoutMs: c.AUREN_GATEWAY_INGEST_ACK_TIMEOUT_MS,
        maxFutureSkewMs: c.AUREN_GATEWAY_INGEST_MAX_FUTURE_SKEW_MS,
      }),
    }),
  })
}

/** The gateway configuration ({@link defineEnvConfig}; `AUREN_GATEWAY_*` typos are errors). */
export const GATEWAY_CONFIG = defineEnvConfig({ name: 'gateway', prefix: 'AUREN_GATEWAY_', fields, check: checkGateway, compile: compileGateway })

/**
 * Parses the gateway variables of `env` (empty strings count as unset).
 * @throws AurenError AUREN_ERR_CONFIG listing every problem, one per line, each naming its variable
 */
export function parseGatewayConfig(env: Record<string, string | undefined>): GatewayConfig {
  return GATEWAY_CONFIG.parse(env)
}

/** One row per variable: name, unit, default (as text) and description, for the README. */
export function describeGatewayConfig(): ConfigRow[] {
  return GATEWAY_CONFIG.describe()
}
