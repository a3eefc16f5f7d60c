/**
 * Aggregation's own configuration (STYLE.md principle 4): `AUREN_AGGREGATION_*` variables and
 * `AUREN_DATABASE_URL`, parsed once, every problem reported at once, frozen. The shared base
 * (brokers, group id, registry, HTTP port) is the runtime's (processors/runtime/ops/config.ts).
 * The schema is keyed by variable, so an issue path is the variable to fix; each field carries
 * its unit, default and description ({@link describeAggregationConfig} renders the README table).
 */
import { z } from 'zod'

const PREFIX = 'AUREN_AGGREGATION_'
const ms = (def: number, min = 0) => z.coerce.number().int().min(min).max(1e12).default(def)

const envSchema = z.object({
  AUREN_DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL').meta({
    unit: 'URL',
    description: 'PostgreSQL connection URL of the rollup tables (required).',
  }),
  AUREN_AGGREGATION_DB_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier').default('public').meta({
    unit: 'identifier',
    description: 'Schema of the agg_* tables; created by the migrations when missing.',
  }),
  AUREN_AGGREGATION_DB_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(4).meta({
    unit: 'connections',
    description: 'Most PostgreSQL connections of the instance (one per partition batch in flight, plus queries).',
  }),
  AUREN_AGGREGATION_WINDOW_MS: ms(60_000, 1_000).meta({
    unit: 'ms',
    description: 'Size of the tumbling event-time windows (UTC-aligned). Do not change it on a database holding rollups.',
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
})

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

/**
 * Parses the `AUREN_AGGREGATION_*` variables and `AUREN_DATABASE_URL` of `env` (an unknown
 * variable with the prefix is an error, to catch typos). Empty strings count as unset.
 * @throws Error listing every problem, one per line, each naming its variable
 */
export function parseAggregationConfig(env: Record<string, string | undefined>): AggregationConfig {
  const known = new Set(Object.keys(envSchema.shape))
  const raw: Record<string, string> = {}
  const problems: string[] = []
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(PREFIX) && name !== 'AUREN_DATABASE_URL') continue
    if (!known.has(name)) problems.push(`${name}: unknown variable (known: ${[...known].join(', ')})`)
    else if (value !== undefined && value.trim() !== '') raw[name] = value.trim()
  }
  for (const [name, schema] of Object.entries(envSchema.shape)) {
    const r = schema.safeParse(raw[name])
    if (!r.success) problems.push(...r.error.issues.map((i) => `${name}: ${raw[name] === undefined ? 'required, not set' : i.message}`))
  }
  if (problems.length > 0) throw new Error(`invalid aggregation configuration:\n  ${problems.join('\n  ')}`)
  const c = envSchema.parse(raw)
  return Object.freeze({
    databaseUrl: c.AUREN_DATABASE_URL,
    dbSchema: c.AUREN_AGGREGATION_DB_SCHEMA,
    dbPoolSize: c.AUREN_AGGREGATION_DB_POOL_SIZE,
    windowMs: c.AUREN_AGGREGATION_WINDOW_MS,
    allowedLatenessMs: c.AUREN_AGGREGATION_ALLOWED_LATENESS_MS,
    seenRetentionMs: c.AUREN_AGGREGATION_SEEN_RETENTION_MS,
    activeWindowMs: c.AUREN_AGGREGATION_ACTIVE_WINDOW_MS,
    expectedPartitions: c.AUREN_AGGREGATION_EXPECTED_PARTITIONS,
    idleTimeoutMs: c.AUREN_AGGREGATION_IDLE_TIMEOUT_MS,
  })
}

/** One row per variable: name, unit, default (as text) and description, for the README and `--help`. */
export function describeAggregationConfig(): { env: string; unit: string; default: string; description: string }[] {
  return Object.entries(envSchema.shape).map(([env, schema]) => {
    const meta = (schema.meta() ?? {}) as { unit?: string; description?: string }
    const def = schema.def.type === 'default' ? String((schema.def as { defaultValue: unknown }).defaultValue) : '(required)'
    return { env, unit: meta.unit ?? '', default: def, description: meta.description ?? '' }
  })
}
