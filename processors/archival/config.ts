/**
 * Archival's own configuration (STYLE.md principle 4): `AUREN_ARCHIVAL_*`, the S3 store
 * (`AUREN_S3_*`, written by scripts/stack.sh into stack.env for the local store; any
 * S3-compatible store works) and `AUREN_DATABASE_URL` (the archive manifest). Parsed once,
 * every problem reported at once, frozen; {@link describeArchivalConfig} renders the README table.
 */
import { z } from 'zod'
import { defineEnvConfig, type ConfigRow } from '../runtime/ops/env-config.ts'
import { databaseFields, intField as int } from '../runtime/ops/config-fragments.ts'
import { DEFAULT_RETENTION_MS, type RetentionPolicy } from './retention-plan.ts'

const bool = (def: boolean) => z.enum(['true', 'false']).default(def ? 'true' : 'false')

const fields = {
  ...databaseFields('AUREN_ARCHIVAL_', { url: 'PostgreSQL of the archive manifest (required).', schema: 'Schema of the archive_* tables; created by the migrations when missing.' }),
  AUREN_S3_ENDPOINT: z.url().optional().meta({ unit: 'URL', description: 'S3 API endpoint (s3proxy, MinIO, Ceph); unset for AWS S3. Path-style addressing is always used.' }),
  AUREN_S3_REGION: z.string().default('us-east-1').meta({ unit: 'region', description: 'Region the requests are signed for.' }),
  AUREN_S3_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid bucket name').meta({ unit: 'bucket', description: 'Bucket of the archive (required; the local stack creates `auren-archive`).' }),
  AUREN_S3_ACCESS_KEY_ID: z.string().min(1).meta({ unit: 'secret', description: 'Access key id (required; the local stack generates it into stack.env).' }),
  AUREN_S3_SECRET_ACCESS_KEY: z.string().min(1).meta({ unit: 'secret', description: 'Secret access key (required; generated into stack.env, never in the repository).' }),
  AUREN_ARCHIVAL_FLUSH_MAX_RECORDS: int(20_000, 1, 10_000_000).meta({ unit: 'records', description: 'Flush a partition buffer holding this many records.' }),
  AUREN_ARCHIVAL_FLUSH_MAX_BYTES: int(32 * 1024 * 1024, 1024).meta({ unit: 'bytes', description: 'Flush a partition buffer holding this many bytes (rough in-memory size of the rows).' }),
  AUREN_ARCHIVAL_FLUSH_MAX_AGE_MS: int(60_000, 10).meta({ unit: 'ms', description: 'Flush a partition buffer whose oldest record was taken this long ago (bounds the archive lag).' }),
  AUREN_ARCHIVAL_ROW_GROUP_ROWS: int(65_536, 1, 10_000_000).meta({ unit: 'rows', description: 'Most rows per Parquet row group.' }),
  AUREN_ARCHIVAL_ALERTS: bool(true).meta({ unit: 'boolean', description: 'Also archive auren.alerts.v1 (record_kind alert).' }),
  AUREN_ARCHIVAL_PARQUET_WORKER: bool(false).meta({ unit: 'boolean', description: 'Encode Parquet on a worker thread (io/parquet-encoder.ts) while the main thread decodes; false (default): on the main thread, which measured faster on 2 cores (processors/archival/README.md).' }),
  AUREN_ARCHIVAL_RETENTION_CRITICAL_MS: int(DEFAULT_RETENTION_MS.critical, 1).meta({ unit: 'ms', description: 'Retention of critical objects (seed 003: 72 h).' }),
  AUREN_ARCHIVAL_RETENTION_OPERATIONAL_MS: int(DEFAULT_RETENTION_MS.operational, 1).meta({ unit: 'ms', description: 'Retention of operational objects (seed 003: 24 h).' }),
  AUREN_ARCHIVAL_RETENTION_ANALYTICAL_MS: int(DEFAULT_RETENTION_MS.analytical, 1).meta({ unit: 'ms', description: 'Retention of analytical objects (seed 003: 6 h).' }),
  AUREN_ARCHIVAL_COMPACT_LATENESS_MS: int(10 * 60_000).meta({ unit: 'ms', description: 'An hour is closed (compacted) once it ended this long before the newest archived event.' }),
  AUREN_ARCHIVAL_DELETE_GRACE_MS: int(10 * 60_000).meta({ unit: 'ms', description: 'Compaction inputs and unlisted objects stay this long before deletion (readers of an older manifest snapshot, flushes in progress).' }),
  AUREN_ARCHIVAL_MAINTENANCE_INTERVAL_MS: int(5 * 60_000).meta({ unit: 'ms', description: 'How often the app compacts closed hours and sweeps (0: never; run `auren archive compact` and `auren archive sweep` instead).' }),
}

/** Archival configuration, compiled and frozen. */
export interface ArchivalConfig {
  readonly databaseUrl: string
  readonly dbSchema: string
  readonly s3: { readonly endpoint?: string; readonly region: string; readonly bucket: string; readonly accessKeyId: string; readonly secretAccessKey: string }
  readonly flushMaxRecords: number
  readonly flushMaxBytes: number
  readonly flushMaxAgeMs: number
  readonly rowGroupRows: number
  readonly archiveAlerts: boolean
  /** Encode Parquet on a worker thread (io/parquet-encoder.ts). */
  readonly parquetWorker: boolean
  readonly retention: RetentionPolicy
  readonly compactLatenessMs: number
  readonly deleteGraceMs: number
  /** 0 = off. */
  readonly maintenanceIntervalMs: number
}

/**
 * The archival configuration ({@link defineEnvConfig}). Typos are caught under the app's own
 * prefix; `AUREN_S3_*` also holds the stack's settings (AUREN_S3_PORT), so it is not checked.
 */
export const ARCHIVAL_CONFIG = defineEnvConfig({
  name: 'archival',
  prefix: 'AUREN_ARCHIVAL_',
  fields,
  compile: (c): ArchivalConfig => ({
    databaseUrl: c.AUREN_DATABASE_URL,
    dbSchema: c.AUREN_ARCHIVAL_DB_SCHEMA,
    s3: {
      ...(c.AUREN_S3_ENDPOINT ? { endpoint: c.AUREN_S3_ENDPOINT } : {}),
      region: c.AUREN_S3_REGION, bucket: c.AUREN_S3_BUCKET, accessKeyId: c.AUREN_S3_ACCESS_KEY_ID, secretAccessKey: c.AUREN_S3_SECRET_ACCESS_KEY,
    },
    flushMaxRecords: c.AUREN_ARCHIVAL_FLUSH_MAX_RECORDS,
    flushMaxBytes: c.AUREN_ARCHIVAL_FLUSH_MAX_BYTES,
    flushMaxAgeMs: c.AUREN_ARCHIVAL_FLUSH_MAX_AGE_MS,
    rowGroupRows: c.AUREN_ARCHIVAL_ROW_GROUP_ROWS,
    archiveAlerts: c.AUREN_ARCHIVAL_ALERTS === 'true',
    parquetWorker: c.AUREN_ARCHIVAL_PARQUET_WORKER === 'true',
    retention: { critical: c.AUREN_ARCHIVAL_RETENTION_CRITICAL_MS, operational: c.AUREN_ARCHIVAL_RETENTION_OPERATIONAL_MS, analytical: c.AUREN_ARCHIVAL_RETENTION_ANALYTICAL_MS },
    compactLatenessMs: c.AUREN_ARCHIVAL_COMPACT_LATENESS_MS,
    deleteGraceMs: c.AUREN_ARCHIVAL_DELETE_GRACE_MS,
    maintenanceIntervalMs: c.AUREN_ARCHIVAL_MAINTENANCE_INTERVAL_MS,
  }),
})

/**
 * Parses the variables of `env`. Empty strings count as unset.
 * @throws AurenError AUREN_ERR_CONFIG listing every problem, one per line, each naming its variable
 */
export function parseArchivalConfig(env: Record<string, string | undefined>): ArchivalConfig {
  return ARCHIVAL_CONFIG.parse(env)
}

/** One row per variable: name, unit, default and description, for the README. */
export function describeArchivalConfig(): ConfigRow[] {
  return ARCHIVAL_CONFIG.describe()
}
