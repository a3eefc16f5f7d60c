/**
 * DuckDB (`@duckdb/node-api`, pinned to 1.4.4) over the archive bucket: httpfs is LOADed from the
 * extension directory that scripts/duckdb-extensions.sh fills from PyPI's `duckdb-ext-httpfs`
 * wheel; autoinstall and autoload are off, so DuckDB never downloads anything at run time.
 *
 * The `events` view reads exactly the manifest's live objects (io/manifest.ts), with hive
 * partitioning (`date` DATE, `hour` INTEGER, `tier` VARCHAR): the manifest, not a bucket glob,
 * is the source of truth, so superseded compaction inputs and orphans are never counted.
 */
import { homedir } from 'node:os'
import { join } from 'node:path'
import { existsSync } from 'node:fs'
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api'
import { ARCHIVE_COLUMNS, ARCHIVE_PARTITION_KEYS, type ArchiveColumnType } from '../../../schemas/archive-parquet.ts'
import type { S3Settings } from './s3-store.ts'

/** Where the bootstrap puts the extension: `${AUREN_CACHE_DIR:-~/.cache/auren}/duckdb-ext`. */
export function defaultExtensionDir(): string {
  return join(process.env.AUREN_CACHE_DIR || join(homedir(), '.cache', 'auren'), 'duckdb-ext')
}

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`

/**
 * Opens an in-memory DuckDB with httpfs and an S3 secret for the bucket.
 * @throws Error naming the bootstrap script when the extension directory is not filled
 */
export async function openArchiveDb(s3: S3Settings, extensionDir = defaultExtensionDir()): Promise<DuckDBConnection> {
  if (!existsSync(join(extensionDir, 'v1.4.4'))) {
    throw new Error(`DuckDB httpfs extension not found under ${extensionDir}: run \`bash scripts/duckdb-extensions.sh\` (npm test and npm run demo do)`)
  }
  const instance = await DuckDBInstance.create(':memory:', {
    extension_directory: extensionDir,
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  })
  const db = await instance.connect()
  await db.run('LOAD httpfs')
  const endpoint = s3.endpoint ? new URL(s3.endpoint) : null
  await db.run(`CREATE SECRET archive_s3 (TYPE s3, KEY_ID ${sqlString(s3.accessKeyId)}, SECRET ${sqlString(s3.secretAccessKey)},
    REGION ${sqlString(s3.region)}, URL_STYLE 'path'
    ${endpoint ? `, ENDPOINT ${sqlString(endpoint.host)}, USE_SSL ${endpoint.protocol === 'https:'}` : ''})`)
  return db
}

const DUCKDB_TYPE: Record<ArchiveColumnType, string> = {
  STRING: 'VARCHAR',
  INT32: 'INTEGER',
  INT64: 'BIGINT',
  DOUBLE: 'DOUBLE',
  BOOLEAN: 'BOOLEAN',
  'TIMESTAMP(MICROS, UTC)': 'TIMESTAMPTZ',
  'MAP<STRING, STRING>': 'MAP(VARCHAR, VARCHAR)',
}

/**
 * (Re)defines the `events` view over these object URLs (`s3://bucket/key` or local paths).
 * With no object, the view has the archive's columns and no row.
 */
export async function defineEventsView(db: DuckDBConnection, urls: readonly string[]): Promise<void> {
  if (urls.length === 0) {
    const cols = [
      ...ARCHIVE_COLUMNS.map((c) => `CAST(NULL AS ${DUCKDB_TYPE[c.type]}) AS ${c.name}`),
      ...ARCHIVE_PARTITION_KEYS.filter((k) => k.name !== 'tier').map((k) => `CAST(NULL AS ${k.duckdbType}) AS "${k.name}"`),
    ]
    await db.run(`CREATE OR REPLACE VIEW events AS SELECT ${cols.join(', ')} WHERE false`)
    return
  }
  const hiveTypes = ARCHIVE_PARTITION_KEYS.map((k) => `'${k.name}': ${k.duckdbType}`).join(', ')
  await db.run(`CREATE OR REPLACE VIEW events AS SELECT * FROM read_parquet([${urls.map(sqlString).join(', ')}],
    hive_partitioning = true, hive_types = {${hiveTypes}})`)
}

/** `s3://<bucket>/<key>` of each key. */
export function s3Urls(bucket: string, keys: readonly string[]): string[] {
  return keys.map((k) => `s3://${bucket}/${k}`)
}

/** Runs a query and returns its column names and rows as JSON-friendly values. */
export async function runQuery(db: DuckDBConnection, sql: string): Promise<{ columns: string[]; rows: Record<string, unknown>[] }> {
  const reader = await db.runAndReadAll(sql)
  return { columns: reader.columnNames(), rows: reader.getRowObjectsJson() as Record<string, unknown>[] }
}
