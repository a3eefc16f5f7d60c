/**
 * Alerting's own configuration: `AUREN_ALERTING_*` variables, `AUREN_DATABASE_URL` and
 * `AUREN_ALERTMANAGER_URL`, parsed once, every problem reported at once, frozen. The shared base
 * (brokers, group id, registry, HTTP port) is the runtime's (processors/runtime/ops/config.ts).
 */
import { z } from 'zod'
import { defineEnvConfig, type ConfigRow } from '../runtime/ops/env-config.ts'
import { databaseFields, dbPoolSizeField, msField as ms } from '../runtime/ops/config-fragments.ts'

const fields = {
  ...databaseFields('AUREN_ALERTING_', { url: 'PostgreSQL of the rule states, offsets and the alert outboxes (required).', schema: 'Schema of the alert_* tables; created when missing.' }),
  AUREN_ALERTMANAGER_URL: z.url().meta({ unit: 'URL', description: 'Alertmanager base URL; alerts are POSTed to <url>/api/v2/alerts (required).' }),
  ...dbPoolSizeField('AUREN_ALERTING_', 'Most PostgreSQL connections of the instance.', 2),
  AUREN_ALERTING_RULES_FILE: z.string().min(1).optional().meta({ unit: 'path', description: 'Stream rule file (default prometheus/auren-stream-rules.yml); checked at start, exit 2 listing every error.' }),
  AUREN_ALERTING_RESEND_INTERVAL_MS: ms(60_000, 100).meta({ unit: 'ms', description: 'Firing alerts are re-sent this often with endsAt = now + 4 × this (Prometheus\' resend delay).' }),
  AUREN_ALERTING_DELIVERY_POLL_MS: ms(500, 10).meta({ unit: 'ms', description: 'Wait between delivery rounds when nothing is pending or the Alertmanager is down.' }),
  AUREN_ALERTING_REPLAY_LAG_MS: ms(900_000).meta({ unit: 'ms', description: 'An event enriched more than this after its event time is replayed history: its alerts get replay="true".' }),
  AUREN_ALERTING_IDLE_TIMEOUT_MS: ms(10_000).meta({ unit: 'ms', description: 'A partition caught up (nothing left to read) and without records for this long (processing time) is idle: on each tick its event-time clock moves to the watermark of the active partitions of its input, or on by the idle time when every partition is idle, so absences fire and alerts resolve (0: off).' }),
  AUREN_ALERTING_EXTERNAL_URL: z.url().optional().meta({ unit: 'URL', description: 'Base URL of this app as the Alertmanager\'s readers reach it, for each alert\'s generatorURL (like Prometheus\' --web.external-url; default http://<AUREN_HTTP_HOST>:<AUREN_HTTP_PORT>, which is wrong behind a bind address such as 0.0.0.0).' }),
  AUREN_ALERTING_ALLOWED_LATENESS_MS: ms(5_000).meta({ unit: 'ms', description: 'How far out of order (event time) an event may reach its enriched partition and still count as in order in the rules that gather a group from every partition; those alerts come that much later.' }),
  AUREN_ALERTING_PARTIALS_PUBLISH_MS: ms(200, 10).meta({ unit: 'ms', description: 'Longest wait between publication rounds of the repartition outbox (closed buckets and watermarks for auren.alert-partials.v1) when it is empty; a commit that writes rows wakes the publisher at once, so this bounds only rows it was not told about.' }),
  AUREN_ALERTING_MAX_GROUPS_PER_RULE: z.coerce.number().int().min(1).max(10_000_000).default(10_000).meta({ unit: 'groups', description: 'Most fingerprints kept per rule and partition (groups per shared aggregation); groups with no pending or firing alert are dropped first.' }),
}

/** Alerting configuration, compiled and frozen. */
export interface AlertingConfig {
  readonly databaseUrl: string
  readonly alertmanagerUrl: string
  readonly dbSchema: string
  readonly dbPoolSize: number
  readonly rulesFile: string | undefined
  readonly resendIntervalMs: number
  readonly deliveryPollMs: number
  readonly replayLagMs: number
  readonly idleTimeoutMs: number
  readonly maxGroupsPerRule: number
  /** Allowed lateness of the repartitioned rules, ms (event time). */
  readonly allowedLatenessMs: number
  /** Wait between rounds of the repartition outbox when empty, ms. */
  readonly partialsPublishIntervalMs: number
  /** Base URL of the alerts' generatorURL, when set (else the app's HTTP address). */
  readonly externalUrl: string | undefined
}

/** The alerting configuration ({@link defineEnvConfig}; `AUREN_ALERTING_*` typos are errors). */
export const ALERTING_CONFIG = defineEnvConfig({
  name: 'alerting',
  prefix: 'AUREN_ALERTING_',
  fields,
  compile: (c): AlertingConfig => ({
    databaseUrl: c.AUREN_DATABASE_URL,
    alertmanagerUrl: c.AUREN_ALERTMANAGER_URL,
    dbSchema: c.AUREN_ALERTING_DB_SCHEMA,
    dbPoolSize: c.AUREN_ALERTING_DB_POOL_SIZE,
    rulesFile: c.AUREN_ALERTING_RULES_FILE,
    resendIntervalMs: c.AUREN_ALERTING_RESEND_INTERVAL_MS,
    deliveryPollMs: c.AUREN_ALERTING_DELIVERY_POLL_MS,
    replayLagMs: c.AUREN_ALERTING_REPLAY_LAG_MS,
    idleTimeoutMs: c.AUREN_ALERTING_IDLE_TIMEOUT_MS,
    maxGroupsPerRule: c.AUREN_ALERTING_MAX_GROUPS_PER_RULE,
    partialsPublishIntervalMs: c.AUREN_ALERTING_PARTIALS_PUBLISH_MS,
    allowedLatenessMs: c.AUREN_ALERTING_ALLOWED_LATENESS_MS,
    externalUrl: c.AUREN_ALERTING_EXTERNAL_URL,
  }),
})

/**
 * Parses the alerting variables of `env`.
 * @throws AurenError AUREN_ERR_CONFIG listing every problem, one per line, each naming its variable
 */
export function parseAlertingConfig(env: Record<string, string | undefined>): AlertingConfig {
  return ALERTING_CONFIG.parse(env)
}

/** One row per variable, for the README. */
export function describeAlertingConfig(): ConfigRow[] {
  return ALERTING_CONFIG.describe()
}
