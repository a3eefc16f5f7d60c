/**
 * Aggregation's own configuration (STYLE.md principle 4): `AUREN_AGGREGATION_*` variables and
 * `AUREN_DATABASE_URL`, parsed once, every problem reported at once, frozen. The shared base
 * (brokers, group id, registry, HTTP port) is the runtime's (processors/runtime/ops/config.ts).
 * The schema is keyed by variable, so an issue path is the variable to fix; each field carries
 * its unit, default and description ({@link describeAggregationConfig} renders the README table).
 */
import { z } from 'zod'
import { defineEnvConfig, type ConfigRow } from '../runtime/ops/env-config.ts'
import { databaseFields, dbPoolSizeField, msField as ms } from '../runtime/ops/config-fragments.ts'

const fields = {
  ...databaseFields('AUREN_AGGREGATION_', {
    url: 'PostgreSQL connection URL of the rollup tables (required).',
    schema: 'Schema of the agg_* tables; created by the migrations when missing.',
  }),
  ...dbPoolSizeField('AUREN_AGGREGATION_', 'Most PostgreSQL connections of the instance (one per partition batch in flight, plus queries).'),
  AUREN_AGGREGATION_WINDOW_MS: ms(60_000, 1_000).meta({
    unit: 'ms',
    description: 'Size of the tumbling event-time windows (UTC-aligned); stored with the rollups, and refused on a schema whose rollups hold another size.',
  }),
  AUREN_AGGREGATION_ALLOWED_LATENESS_MS: ms(30_000).meta({
    unit: 'ms',
    description: 'Watermark = max event time of the partition minus this; events behind it are late (still applied).',
  }),
  AUREN_AGGREGATION_SEEN_RETENTION_MS: ms(7 * 86_400_000).meta({
    unit: 'ms',
    description: 'How long (processing time) event ids are kept for dedup; 0 keeps them forever.',
  }),
  AUREN_AGGREGATION_ACTIVE_WINDOW_MS: ms(300_000, 1_000).meta({
    unit: 'ms',
    description: 'An agent is active when one of its events was processed within this time (auren_agents_active).',
  }),
  AUREN_AGGREGATION_IDLE_TIMEOUT_MS: ms(10_000).meta({
    unit: 'ms',
    description: 'A partition without records for this long (processing time) does not hold back the group watermark; when all are idle, every window with data closes (0: off).',
  }),
  AUREN_AGGREGATION_EXPECTED_PARTITIONS: z.coerce.number().int().min(0).max(100_000).default(0).meta({
    unit: 'partitions',
    description: 'Partitions of the input topic; windows are published once all of them passed the window (0: those seen so far).',
  }),
}

/** Aggregation configuration, compiled and frozen. */
export interface AggregationConfig {
  readonly databaseUrl: string
  readonly dbSchema: string
  readonly dbPoolSize: number
  readonly windowMs: number
  readonly allowedLatenessMs: number
  /** 0 = keep forever. */
  readonly seenRetentionMs: number
  readonly activeWindowMs: number
  /** 0 = unknown. */
  readonly expectedPartitions: number
  /** Idle timeout of a partition for the group watermark, ms; 0 = off. */
  readonly idleTimeoutMs: number
}

/** The aggregation configuration ({@link defineEnvConfig}; `AUREN_AGGREGATION_*` typos are errors). */
export const AGGREGATION_CONFIG = defineEnvConfig({
  name: 'aggregation',
  prefix: 'AUREN_AGGREGATION_',
  fields,
  compile: (c): AggregationConfig => ({
    databaseUrl: c.AUREN_DATABASE_URL,
    dbSchema: c.AUREN_AGGREGATION_DB_SCHEMA,
    dbPoolSize: c.AUREN_AGGREGATION_DB_POOL_SIZE,
    windowMs: c.AUREN_AGGREGATION_WINDOW_MS,
    allowedLatenessMs: c.AUREN_AGGREGATION_ALLOWED_LATENESS_MS,
    seenRetentionMs: c.AUREN_AGGREGATION_SEEN_RETENTION_MS,
    activeWindowMs: c.AUREN_AGGREGATION_ACTIVE_WINDOW_MS,
    expectedPartitions: c.AUREN_AGGREGATION_EXPECTED_PARTITIONS,
    idleTimeoutMs: c.AUREN_AGGREGATION_IDLE_TIMEOUT_MS,
  }),
})

/**
 * Parses the `AUREN_AGGREGATION_*` variables and `AUREN_DATABASE_URL` of `env`.
 * @throws AurenError AUREN_ERR_CONFIG listing every problem, one per line, each naming its variable
 */
export function parseAggregationConfig(env: Record<string, string | undefined>): AggregationConfig {
  return AGGREGATION_CONFIG.parse(env)
}

/** One row per variable: name, unit, default (as text) and description, for the README and `--help`. */
export function describeAggregationConfig(): ConfigRow[] {
  return AGGREGATION_CONFIG.describe()
}
