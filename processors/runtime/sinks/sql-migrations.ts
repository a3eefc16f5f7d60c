/**
 * Schema migrations of a processor's PostgreSQL tables, with node-pg-migrate
 * (https://github.com/salsita/node-pg-migrate) from a folder of SQL files (`-- Up Migration` /
 * `-- Down Migration` sections; the file name's numeric prefix orders them). One runner for every
 * app that owns tables (aggregation, archival).
 *
 * Idempotent: applied migrations are recorded in `table` (in the target schema) and skipped. Safe
 * for concurrent instances: node-pg-migrate takes a session advisory lock (`lockId`) around the
 * whole run; with `advisoryLockMode: 'wait'` a second instance blocks until the first is done and
 * then finds nothing to run. All pending migrations run in one transaction, so a failure leaves the
 * schema as it was.
 */
import pg from 'pg'
import { runner } from 'node-pg-migrate'

/** One app's migration set. */
export interface SqlMigrations {
  /** Folder of the SQL migration files. */
  readonly dir: string
  /** Table recording applied migrations (per app, so apps sharing a schema do not mix). */
  readonly table: string
  /** Advisory lock key, a safe integer distinct per app (other apps' migrations do not wait on it). */
  readonly lockId: number
}

/**
 * Applies every pending migration of `migrations` to `databaseUrl` in `schema` (created when missing).
 * @param log receives node-pg-migrate's progress lines; default: dropped
 * @returns names of the migrations applied now (empty when the schema was up to date)
 * @throws on connection or SQL errors (nothing of the failed run is kept)
 */
export async function applySqlMigrations(databaseUrl: string, migrations: SqlMigrations, schema = 'public', log: (message: string) => void = () => {}): Promise<string[]> {
  // Our own client instead of node-pg-migrate's, which has no 'error' listener: a connection the
  // database ends while it is idle (57P01 on a fast shutdown) would be an unhandled 'error'
  // event and end the process. With the listener the next query fails and the caller retries.
  const client = new pg.Client({ connectionString: databaseUrl })
  client.on('error', (err) => log(`migration connection lost: ${err.message}`))
  await client.connect()
  try {
    return await runMigrations(client, migrations, schema, log)
  } finally {
    await client.end().catch(() => undefined)
  }
}

async function runMigrations(dbClient: pg.Client, migrations: SqlMigrations, schema: string, log: (message: string) => void): Promise<string[]> {
  const applied = await runner({
    dbClient,
    dir: migrations.dir,
    direction: 'up',
    migrationsTable: migrations.table,
    schema,
    migrationsSchema: schema,
    createSchema: true,
    checkOrder: true,
    singleTransaction: true,
    lockValue: migrations.lockId,
    advisoryLockMode: 'wait',
    logger: { debug: log, info: log, warn: log, error: log },
  })
  return applied.map((m) => m.name)
}
