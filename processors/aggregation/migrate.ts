/**
 * Schema migrations of the aggregation tables, run at start with node-pg-migrate
 * (https://github.com/salsita/node-pg-migrate), from the SQL files in `./migrations/`
 * (`-- Up Migration` / `-- Down Migration` sections; the file name's numeric prefix orders them).
 *
 * Idempotent: applied migrations are recorded in `agg_pgmigrations` (in the target schema) and
 * skipped. Safe for concurrent instances: node-pg-migrate takes a session advisory lock around
 * the whole run; with `advisoryLockMode: 'wait'` a second instance blocks until the first is done
 * and then finds nothing to run (the default mode, 'fail', would throw instead). All pending
 * migrations run in one transaction, so a failure leaves the schema as it was.
 */
import { join } from 'node:path'
import { runner } from 'node-pg-migrate'
import type { Logger } from 'pino'
import { createEpisodeLog } from '../runtime/episode-log.ts'
import { describeDbError } from './database-health.ts'
import { isRetriableDbError } from './postgres-sink.ts'

/** Folder of the SQL migration files. */
export const MIGRATIONS_DIR = join(import.meta.dirname, 'migrations')
/** Table recording applied migrations. */
export const MIGRATIONS_TABLE = 'agg_pgmigrations'
/**
 * Advisory lock key of aggregation's migrations: the ASCII bytes of 'AGGREG' (a safe integer,
 * distinct from node-pg-migrate's default key, so other apps' migrations do not wait on ours).
 */
export const MIGRATION_LOCK_ID = 0x41_47_47_52_45_47

/** Options of {@link runMigrations}. */
export interface MigrateOptions {
  /** Target schema (created when missing); default 'public'. */
  readonly schema?: string
  /** Receives node-pg-migrate's progress lines; default: dropped. */
  readonly log?: (message: string) => void
}

/**
 * Applies every pending migration to `databaseUrl`.
 * @returns names of the migrations applied now (empty when the schema was up to date)
 * @throws on connection or SQL errors (nothing of the failed run is kept)
 */
export async function runMigrations(databaseUrl: string, options: MigrateOptions = {}): Promise<string[]> {
  const schema = options.schema ?? 'public'
  const log = options.log ?? (() => {})
  const applied = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: MIGRATIONS_TABLE,
    schema,
    migrationsSchema: schema,
    createSchema: true,
    checkOrder: true,
    singleTransaction: true,
    lockValue: MIGRATION_LOCK_ID,
    advisoryLockMode: 'wait',
    logger: { debug: log, info: log, warn: log, error: log },
  })
  return applied.map((m) => m.name)
}

/** Options of {@link runMigrationsWithRetry}. */
export interface MigrateRetryOptions {
  /** Receives one warning per outage episode. */
  readonly log: Logger
  /** Called with each retriable failure (e.g. to mark the database unreachable on /readyz). */
  readonly onFailure?: (err: unknown) => void
  /** First backoff, ms (doubles up to maxBackoffMs); default 500. */
  readonly initialBackoffMs?: number
  /** Longest backoff, ms; default 15 000. */
  readonly maxBackoffMs?: number
}

/**
 * {@link runMigrations}, retried with exponential backoff while the database is unreachable
 * (connection errors, SQLSTATE classes 08/40/53/57: postgres-sink.ts isRetriableDbError), so
 * the app starts while PostgreSQL is down and proceeds once it answers.
 * @throws the first non-retriable error (e.g. a failing migration, bad credentials)
 */
export async function runMigrationsWithRetry(databaseUrl: string, options: MigrateOptions, retry: MigrateRetryOptions): Promise<string[]> {
  const failures = createEpisodeLog(retry.log, 'database unreachable, migrations retried')
  let backoff = retry.initialBackoffMs ?? 500
  for (;;) {
    try {
      const applied = await runMigrations(databaseUrl, options)
      failures.ended()
      return applied
    } catch (err) {
      if (!isRetriableDbError(err)) throw err
      retry.onFailure?.(err)
      failures.occurred({ err }, describeDbError(err))
      await new Promise((r) => setTimeout(r, backoff))
      backoff = Math.min(backoff * 2, retry.maxBackoffMs ?? 15_000)
    }
  }
}
