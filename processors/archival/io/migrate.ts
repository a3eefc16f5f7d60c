/**
 * Schema migrations of the archive manifest, run at start with
 * the runtime's SQL migration runner (runtime/sinks/sql-migrations.ts: idempotent, one
 * transaction, concurrent instances wait on an advisory lock) from the SQL files in `../migrations/`.
 */
import { join } from 'node:path'
import { applySqlMigrations } from '../../runtime/sinks/sql-migrations.ts'

/** Folder of the SQL migration files. */
export const MIGRATIONS_DIR = join(import.meta.dirname, '..', 'migrations')
/** Table recording applied migrations. */
export const MIGRATIONS_TABLE = 'archive_pgmigrations'
/** Advisory lock key of these migrations: the ASCII bytes of 'ARCHIV'. */
export const MIGRATION_LOCK_ID = 0x41_52_43_48_49_56

/**
 * Applies every pending migration to `databaseUrl` in `schema` (created when missing).
 * @returns names of the migrations applied now
 * @throws on connection or SQL errors (nothing of the failed run is kept)
 */
export async function runArchiveMigrations(databaseUrl: string, schema = 'public'): Promise<string[]> {
  return applySqlMigrations(databaseUrl, { dir: MIGRATIONS_DIR, table: MIGRATIONS_TABLE, lockId: MIGRATION_LOCK_ID }, schema)
}
