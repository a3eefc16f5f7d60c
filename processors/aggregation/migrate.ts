/**
 * Schema migrations of the aggregation tables, run at start from the SQL files in `./migrations/`
 * with the runtime's migration runner (runtime/sinks/sql-migrations.ts: idempotent, one
 * transaction, concurrent instances wait on an advisory lock); applied ones are recorded in
 * `agg_pgmigrations`. Adds a retry with backoff while the database is unreachable.
 */
import { join } from 'node:path'
import { applySqlMigrations } from '../runtime/sinks/sql-migrations.ts'
import type { Logger } from 'pino'
import { createEpisodeLog } from '../runtime/ops/episode-log.ts'
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
  return applySqlMigrations(databaseUrl, { dir: MIGRATIONS_DIR, table: MIGRATIONS_TABLE, lockId: MIGRATION_LOCK_ID }, options.schema, options.log)
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
