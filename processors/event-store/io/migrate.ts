/**
 * Schema migrations of the event store (es_events, es_read_audit, es_append_idempotent), run at
 * start with the runtime's SQL migration runner (runtime/sinks/sql-migrations.ts: idempotent, one
 * transaction, concurrent instances wait on an advisory lock) from the SQL files in `../migrations/`.
 */
import { join } from 'node:path'
import { applySqlMigrations } from '../../runtime/sinks/sql-migrations.ts'

/** Folder of the SQL migration files. */
export const MIGRATIONS_DIR = join(import.meta.dirname, '..', 'migrations')
/** Table recording applied migrations. */
export const MIGRATIONS_TABLE = 'event_store_pgmigrations'
/** Advisory lock key of these migrations: the ASCII bytes of 'EVSTOR'. */
export const MIGRATION_LOCK_ID = 0x45_56_53_54_4f_52

/**
 * Applies every pending migration to `databaseUrl` in `schema` (created when missing).
 * @returns names of the migrations applied now
 * @throws on connection or SQL errors (nothing of the failed run is kept)
 */
export async function runEventStoreMigrations(databaseUrl: string, schema = 'public'): Promise<string[]> {
  return applySqlMigrations(databaseUrl, { dir: MIGRATIONS_DIR, table: MIGRATIONS_TABLE, lockId: MIGRATION_LOCK_ID }, schema)
}
