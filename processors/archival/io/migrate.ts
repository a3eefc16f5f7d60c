/**
 * Schema migrations of the archive manifest and the event store, run at start with
 * node-pg-migrate from the SQL files in `./migrations/` (as processors/aggregation/migrate.ts:
 * idempotent, one transaction, concurrent instances wait on an advisory lock).
 */
import { join } from 'node:path'
import { runner } from 'node-pg-migrate'

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
  const quiet = () => {}
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
    logger: { debug: quiet, info: quiet, warn: quiet, error: quiet },
  })
  return applied.map((m) => m.name)
}
