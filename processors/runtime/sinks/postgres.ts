/**
 * PostgreSQL, written once for the runtime's sinks (and the gateway's queries): the pool, the
 * transaction helper, the SQLSTATE classification and the generic transactional sink.
 *
 * SQLSTATE classes retried (https://www.postgresql.org/docs/15/errcodes-appendix.html): 08
 * connection exception, 40 transaction rollback (deadlock, serialization), 53 insufficient
 * resources, 57 operator intervention (e.g. 57P01 admin shutdown). Any error without a SQLSTATE
 * (a refused or reset socket) is retried too; every other class is a bug or bad data.
 */
import pg from 'pg'
import type { Logger } from 'pino'
import { AurenError } from '../ops/errors.ts'
import type { AcknowledgingSink, PartitionPosition, SinkBatch, SinkContext } from './sink.ts'

/** SQLSTATE classes worth retrying (module doc). */
export const RETRIABLE_SQLSTATE_CLASSES: ReadonlySet<string> = new Set(['08', '40', '53', '57'])

/**
 * True when a pg error is transient (module doc): no SQLSTATE (socket errors such as
 * ECONNREFUSED or ECONNRESET, "Connection terminated unexpectedly", timeouts), or one of the
 * retried classes. An error wrapping another (`cause`) is judged by the innermost one that
 * carries a code. Source: PostgreSQL documentation, Appendix A "PostgreSQL Error Codes".
 */
export function isRetriableSqlError(err: unknown): boolean {
  let e = err as { code?: unknown; cause?: unknown } | null | undefined
  for (let depth = 0; e && typeof e.code !== 'string' && e.cause && depth < 5; depth++) e = e.cause as typeof e
  const code = e?.code
  return typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code) || RETRIABLE_SQLSTATE_CLASSES.has(code.slice(0, 2))
}

/** Wraps a pg error as AUREN_ERR_SINK_UNAVAILABLE, retriable per {@link isRetriableSqlError}, with its SQLSTATE in context. */
export function sqlError(err: unknown, stage: string): AurenError {
  const code = (err as { code?: unknown } | null)?.code
  return new AurenError('AUREN_ERR_SINK_UNAVAILABLE', `${stage} failed: ${(err as Error).message}`, {
    retriable: isRetriableSqlError(err),
    cause: err,
    context: { sqlstate: typeof code === 'string' ? code : undefined },
  })
}

/**
 * A pool whose clients may lose their connection at any moment (database restart or fast
 * shutdown, `pg_terminate_backend`: 57P01) without crashing the process: the error is logged and
 * the client discarded, and whoever uses it sees its pending or next query fail (retriable).
 *
 * Every client gets an 'error' listener of its own as it connects (the pool's 'connect' event),
 * kept for its whole life. pg-pool's own listener is there only while the client is idle: it is
 * removed when the client is handed out (pg-pool `_acquireClient`), and a caller can add one only
 * once its promise continuation runs. A new client's first ReadyForQuery resolves that promise
 * while pg is still reading the socket, so a FATAL in the same read (a backend terminated right
 * after it accepted the connection, e.g. at a fast shutdown) reached a client with no listener:
 * an unhandled 'error' event that ended the process (test/integration/postgres-pool-faults.test.ts).
 * A client checked out with `pool.connect()` and held between queries is covered too.
 * @param schema search_path of every connection (a migration's schema); default 'public'
 */
export function createPgPool(opts: { url: string; max?: number; schema?: string; log?: Logger }): pg.Pool {
  const pool = new pg.Pool({ connectionString: opts.url, max: opts.max ?? 4, options: `-c search_path=${opts.schema ?? 'public'}` })
  pool.on('connect', (client) => {
    let lost = false
    client.on('error', (err) => {
      // The first error of a client is news; what follows ("Connection terminated unexpectedly") is its echo.
      opts.log?.[lost ? 'debug' : 'warn']({ err, sqlstate: (err as { code?: string }).code }, 'PostgreSQL connection lost; its client is discarded')
      lost = true
    })
  })
  // Required as well: pg-pool re-emits an idle client's error on the pool (logged above already).
  pool.on('error', (err) => opts.log?.debug({ err }, 'idle PostgreSQL client discarded'))
  return pool
}

/**
 * Runs `work` in one transaction on a pooled client (BEGIN … COMMIT; ROLLBACK on any error; a
 * client whose ROLLBACK failed is discarded, not returned to the pool).
 * @throws AurenError AUREN_ERR_SINK_UNAVAILABLE (see {@link sqlError}) naming `stage`
 */
export async function inTransaction<T>(pool: pg.Pool, stage: string, work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect().catch((err: unknown) => {
    throw sqlError(err, `${stage} (connect)`)
  })
  // A connection lost mid-transaction fails the pending or next query instead (createPgPool's
  // clients have a listener of their own; this one covers any other pool).
  const onError = () => {}
  client.on('error', onError)
  let broken: Error | undefined
  try {
    await client.query('BEGIN')
    const result = await work(client)
    await client.query('COMMIT')
    return result
  } catch (err) {
    await client.query('ROLLBACK').catch((e: Error) => (broken = e))
    throw err instanceof AurenError ? err : sqlError(err, stage)
  } finally {
    client.off('error', onError)
    client.release(broken)
  }
}

/** Table of the generic sink's positions and states (created by {@link createPostgresSink} at start). */
export const POSITIONS_TABLE = 'auren_partition_positions'

/** Options of {@link createPostgresSink}. */
export interface PostgresSinkOptions<Out> {
  readonly pool: pg.Pool
  /** Whether `close()` ends the pool (default false: the caller owns it). */
  readonly ownsPool?: boolean
  /**
   * Applies one batch's records (and whatever the processor keeps, e.g. outbox rows) inside the
   * sink's transaction; the sink then stores the position and the state in the same transaction.
   * Must be idempotent per input where it matters (a batch can come again after a crash).
   */
  readonly apply: (client: pg.PoolClient, batch: SinkBatch<Out>) => Promise<void>
}

/**
 * The transactional PostgreSQL sink: outputs, the partition's next offset and its state in one
 * transaction (`offsets: 'sink'`, exactly once into the database whatever crashes or rebalances
 * happen). Positions and states live in {@link POSITIONS_TABLE} of the pool's search_path.
 */
export function createPostgresSink<Out>(opts: PostgresSinkOptions<Out>): AcknowledgingSink<Out> {
  const { pool } = opts
  return {
    kind: 'postgres',
    offsets: 'sink',
    storesState: true,
    async start(_ctx: SinkContext) {
      await pool
        .query(
          `CREATE TABLE IF NOT EXISTS ${POSITIONS_TABLE} (group_id text NOT NULL, topic text NOT NULL, "partition" integer NOT NULL, ` +
            'next_offset bigint NOT NULL, state jsonb, updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (group_id, topic, "partition"))',
        )
        .catch((err: unknown) => {
          throw sqlError(err, 'postgres sink start')
        })
    },
    async write(batch) {
      // A tick with no outputs and no state change leaves the position as it is (a tick hands the
      // position already stored): no transaction, so idle ticks do not queue for the pool's
      // connections ahead of the batches' writes.
      if (batch.cause === 'punctuation' && batch.records.length === 0 && batch.state === undefined && !batch.deadLetters?.length) return { kind: 'acknowledged' }
      await inTransaction(pool, 'postgres sink write', async (c) => {
        await opts.apply(c, batch)
        await storePosition(c, batch.position, batch.state?.json)
      })
      return { kind: 'acknowledged' }
    },
    async storedOffsets(groupId, topic, partitions) {
      const res = await pool
        .query<{ partition: number; next_offset: string }>(
          `SELECT "partition", next_offset FROM ${POSITIONS_TABLE} WHERE group_id = $1 AND topic = $2 AND "partition" = ANY($3::int[])`,
          [groupId, topic, [...partitions]],
        )
        .catch((err: unknown) => {
          throw sqlError(err, 'postgres sink storedOffsets')
        })
      return new Map(res.rows.map((r) => [r.partition, r.next_offset]))
    },
    async loadState(groupId, topic, partition) {
      const res = await pool
        .query<{ state: string | null }>(`SELECT state::text AS state FROM ${POSITIONS_TABLE} WHERE group_id = $1 AND topic = $2 AND "partition" = $3`, [groupId, topic, partition])
        .catch((err: unknown) => {
          throw sqlError(err, 'postgres sink loadState')
        })
      return res.rows[0]?.state ?? undefined
    },
    async close() {
      if (opts.ownsPool) await pool.end()
    },
  }
}

/** Stores a partition's position (forward only) and, when given, its state. */
async function storePosition(c: pg.PoolClient, p: PartitionPosition, stateJson: string | undefined): Promise<void> {
  await c.query(
    `INSERT INTO ${POSITIONS_TABLE} (group_id, topic, "partition", next_offset, state) VALUES ($1, $2, $3, $4, $5::jsonb) ` +
      'ON CONFLICT (group_id, topic, "partition") DO UPDATE SET next_offset = GREATEST(' + POSITIONS_TABLE + '.next_offset, EXCLUDED.next_offset), ' +
      'state = COALESCE(EXCLUDED.state, ' + POSITIONS_TABLE + '.state), updated_at = now()',
    [p.groupId, p.topic, p.partition, p.nextOffset, stateJson ?? null],
  )
}
