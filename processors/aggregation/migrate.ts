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
