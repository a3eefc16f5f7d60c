/**
 * Aggregation's exactly-once sink into PostgreSQL: `TransactionalSink<RollupDelta>`
 * (processors/runtime/sink.ts). `Out` is the delta of one event (transform.ts), so the runner's
 * pure transform does all the counting and this file only stores.
 *
 * `writeBatch(records, offset)` is ONE transaction over one partition batch:
 * 1. lock the partition's row of agg_offsets and read its next offset and event clock; records
 *    below the stored offset were applied before and are dropped (a batch applied twice);
 * 2. classify each record late or not against the partition clock, in offset order
 *    (tumbling-window.ts), and advance the clock with every record;
 * 3. insert the event ids into agg_seen_events (`ON CONFLICT DO NOTHING RETURNING`): only the
 *    deltas of ids returned, i.e. never applied before, are applied (a duplicate at another
 *    offset, a replay of the same run, two instances during a rebalance never double count);
 * 4. merge those deltas (late ones with `late_events`) and upsert every rollup additively;
 * 5. store the next offset (only forward) and the clock;
 * 6. under the group's emission lock, publish to agg_outbox the AgentMetricsWindow of every
 *    window the group watermark passed, and again every already published window this batch
 *    changed (late events; reason `late_update`).
 * A failure anywhere rolls everything back, offset included; the runner retries the batch.
 */
import pg from 'pg'
import type { Logger } from 'pino'
import type { AgentMetricsWindow } from '../../schemas/generated/types.ts'
import { AurenError } from '../runtime/errors.ts'
import type { SinkOffset, SinkRecord, TransactionalSink } from '../runtime/sink.ts'
import type { AppliedBatch } from './metrics.ts'
import { markLate, mergeDeltas, type RollupDelta } from './rollup-delta.ts'
import { rollupStatements } from './rollup-sql.ts'
import { classifyInOrder, closingWindows, groupWatermarkUs, watermarkUs, windowEndUs, type PartitionClock, type WindowConfig } from './tumbling-window.ts'
import { toAgentMetricsWindow, type AgentWindowRow } from './window-record.ts'

/** Options of {@link createAggregationSink}. */
export interface AggregationSinkOptions extends WindowConfig {
  /** Partitions of the input topic: windows are published once all of them passed (0/absent: those seen). */
  readonly expectedPartitions?: number
  /** search_path of the connections when a URL is given (the migrations' schema); default 'public'. */
  readonly schema?: string
  /** Pool size when a URL is given; default 4. */
  readonly poolSize?: number
  /** Called after each committed batch (metrics.ts recordAppliedBatch). */
  readonly onCommitted?: (batch: AppliedBatch) => void
  /** Receives errors of idle pooled connections (e.g. 57P01 at a database shutdown); default: dropped. */
  readonly log?: Logger
}

/** An unpublished AgentMetricsWindow of the outbox. */
export interface OutboxRecord {
  /** Outbox id (bigint as a decimal string); publish in id order. */
  readonly id: string
  /** Kafka key of auren.agent-metrics.v1. */
  readonly key: string
  readonly value: AgentMetricsWindow
}

/** The sink plus what main.ts needs around it. */
export interface AggregationSink extends TransactionalSink<RollupDelta> {
  /**
   * Publishes pending outbox records in id order through `produce` (which must resolve only once
   * the broker acknowledged them), then marks them published, in one transaction. One publisher
   * at a time (a transaction advisory lock; others return 0), so records of one window are
   * produced in the order they were written. At least once: a crash after `produce` sends again.
   * @returns how many records were published
   */
  publishPending(limit: number, produce: (records: readonly OutboxRecord[]) => Promise<void>): Promise<number>
  /** Deletes seen event ids first seen more than `retentionMs` ago. @returns rows deleted */
  purgeSeenEvents(retentionMs: number): Promise<number>
  /** Agents with an event processed within `withinMs` (auren_agents_active). */
  countActiveAgents(withinMs: number): Promise<number>
}

/** Advisory lock key of the outbox publisher: ASCII 'AGGPUB'. */
const PUBLISH_LOCK_ID = 0x41_47_47_50_55_42
/** SQLSTATE classes worth retrying: connection, transaction rollback (deadlock, serialization), resources, operator intervention. */
const RETRIABLE_CLASSES = new Set(['08', '40', '53', '57'])

/**
 * True for a database error worth retrying: SQLSTATE classes 08 (connection), 40 (rollback:
 * deadlock, serialization), 53 (resources), 57 (operator intervention, e.g. 57P01 admin
 * shutdown, 57P03 cannot connect now), and every error without a SQLSTATE (socket errors such as
 * ECONNREFUSED or ECONNRESET, "Connection terminated unexpectedly", timeouts). Errors wrapping
 * another (`cause`) are judged by the innermost one that carries a code.
 * Source: PostgreSQL documentation, Appendix A "PostgreSQL Error Codes".
 */
export function isRetriableDbError(err: unknown): boolean {
  let e = err as { code?: unknown; cause?: unknown } | undefined
  for (let depth = 0; e && typeof e.code !== 'string' && e.cause && depth < 5; depth++) e = e.cause as typeof e
  const code = e?.code
  return typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code) || RETRIABLE_CLASSES.has(code.slice(0, 2))
}

/**
 * Creates the sink. Run the migrations (migrate.ts) first.
 * @param db a pg Pool (owned by the caller; `close()` leaves it open) or a connection URL
 */
export function createAggregationSink(db: pg.Pool | string, options: AggregationSinkOptions): AggregationSink {
  const ownPool = typeof db === 'string'
  const pool = typeof db === 'string' ? new pg.Pool({ connectionString: db, max: options.poolSize ?? 4, options: `-c search_path=${options.schema ?? 'public'}` }) : db
  // An idle client lost its connection (57P01 admin shutdown, ECONNRESET): pg-pool has already
  // removed it; log it, never let the 'error' event go unhandled (Node would exit).
  pool.on('error', (err) => options.log?.warn({ err, sqlstate: (err as { code?: unknown }).code }, 'idle PostgreSQL connection lost; discarded'))

  async function inTransaction<T>(work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect().catch((err: unknown) => {
      throw sinkError(err, 'connect')
    })
    const onError = () => {} // a connection lost mid-transaction fails the pending query instead
    client.on('error', onError)
    let broken: Error | undefined
    try {
      await client.query('BEGIN')
      const result = await work(client)
      await client.query('COMMIT')
      return result
    } catch (err) {
      await client.query('ROLLBACK').catch((e: Error) => (broken = e))
      throw sinkError(err, 'transaction')
    } finally {
      client.off('error', onError)
      client.release(broken)
    }
  }

  return {
    async storedOffsets(groupId, topic, partitions) {
      const res = await pool
        .query<{ partition: number; next_offset: string }>(
          'SELECT "partition", next_offset FROM agg_offsets WHERE group_id = $1 AND topic = $2 AND "partition" = ANY($3::int[])',
          [groupId, topic, [...partitions]],
        )
        .catch((err: unknown) => {
          throw sinkError(err, 'storedOffsets')
        })
      return new Map(res.rows.map((r) => [r.partition, r.next_offset]))
    },

    async writeBatch(records, offset) {
      const applied = await inTransaction((c) => applyBatch(c, records, offset, options))
      options.onCommitted?.(applied)
    },

    async publishPending(limit, produce) {
      return inTransaction(async (c) => {
        const locked = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [PUBLISH_LOCK_ID])
        if (!locked.rows[0]?.ok) return 0
        const res = await c.query<{ id: string; agent_id: string; payload: AgentMetricsWindow }>(
          'SELECT id, agent_id, payload FROM agg_outbox WHERE published_at IS NULL ORDER BY id LIMIT $1',
          [limit],
        )
        if (res.rows.length === 0) return 0
        await produce(res.rows.map((r) => ({ id: r.id, key: r.agent_id, value: r.payload })))
        await c.query('UPDATE agg_outbox SET published_at = now() WHERE id = ANY($1::bigint[])', [res.rows.map((r) => r.id)])
        return res.rows.length
      })
    },

    async purgeSeenEvents(retentionMs) {
      let total = 0
      for (;;) {
        const res = await pool.query(
          "DELETE FROM agg_seen_events WHERE event_id IN (SELECT event_id FROM agg_seen_events WHERE seen_at < now() - $1 * interval '1 millisecond' LIMIT 10000)",
          [retentionMs],
        )
        total += res.rowCount ?? 0
        if ((res.rowCount ?? 0) < 10_000) return total
      }
    },

    async countActiveAgents(withinMs) {
      const res = await pool.query<{ n: string }>(
        "SELECT count(*) AS n FROM agg_agent_activity WHERE last_processed_at >= now() - $1 * interval '1 millisecond'",
        [withinMs],
      )
      return Number(res.rows[0]?.n ?? 0)
    },

    async close() {
      if (ownPool) await pool.end()
    },
  }
}

async function applyBatch(c: pg.PoolClient, records: readonly SinkRecord<RollupDelta>[], offset: SinkOffset, options: AggregationSinkOptions): Promise<AppliedBatch> {
  const { groupId, topic, partition } = offset
  // 1. Lock the partition row (created on first use) and read its state.
  const state = await c.query<{ next_offset: string; max_event_us: string | null }>(
    'INSERT INTO agg_offsets (group_id, topic, "partition", next_offset) VALUES ($1, $2, $3, 0) ' +
      'ON CONFLICT (group_id, topic, "partition") DO UPDATE SET updated_at = now() RETURNING next_offset, max_event_us',
    [groupId, topic, partition],
  )
  const stored = BigInt(state.rows[0]!.next_offset)
  const pending = records.filter((r) => BigInt(r.offset) >= stored).sort((a, b) => (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1))
  // 2. Lateness against the partition clock, record by record.
  const clock0: PartitionClock = { maxEventUs: state.rows[0]!.max_event_us === null ? null : Number(state.rows[0]!.max_event_us) }
  const { late, clock } = classifyInOrder(clock0, pending.map((r) => r.value.event_time_us), options)
  // 3. Dedup by event_id: within the batch (first wins), then against every batch before.
  const firstById = new Map<string, RollupDelta>()
  pending.forEach((r, i) => firstById.has(r.value.event_id) || firstById.set(r.value.event_id, late[i] ? markLate(r.value) : r.value))
  const candidates = [...firstById.values()].sort((a, b) => (a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0))
  let fresh: RollupDelta[] = []
  if (candidates.length > 0) {
    const inserted = await c.query<{ event_id: string }>(
      'INSERT INTO agg_seen_events (event_id, event_time_us) SELECT * FROM unnest($1::uuid[], $2::bigint[]) ON CONFLICT (event_id) DO NOTHING RETURNING event_id',
      [candidates.map((d) => d.event_id), candidates.map((d) => d.event_time_us)],
    )
    const isNew = new Set(inserted.rows.map((r) => r.event_id))
    fresh = candidates.filter((d) => isNew.has(d.event_id))
  }
  // 4. Rollups.
  const merged = mergeDeltas(fresh)
  for (const s of rollupStatements(merged)) await c.query(s.text, s.values)
  // 5. Offset (forward only) and clock.
  await c.query(
    'UPDATE agg_offsets SET next_offset = GREATEST(next_offset, $4::bigint), max_event_us = $5, watermark_us = $6, updated_at = now() ' +
      'WHERE group_id = $1 AND topic = $2 AND "partition" = $3',
    [groupId, topic, partition, offset.nextOffset, clock.maxEventUs, watermarkUs(clock, options.allowedLatenessMs)],
  )
  // 6. Windows to publish.
  const windowsEmitted = pending.length > 0 ? await emitWindows(c, groupId, topic, fresh, options) : { closed: 0, late_update: 0 }
  return { merged, duplicates: pending.length - fresh.length, windowsEmitted }
}

async function emitWindows(c: pg.PoolClient, groupId: string, topic: string, fresh: readonly RollupDelta[], options: AggregationSinkOptions): Promise<AppliedBatch['windowsEmitted']> {
  const emission = await c.query<{ emitted_until_us: string | null }>(
    'INSERT INTO agg_window_emission (group_id, topic) VALUES ($1, $2) ON CONFLICT (group_id, topic) DO UPDATE SET updated_at = now() RETURNING emitted_until_us',
    [groupId, topic],
  )
  const before = emission.rows[0]!.emitted_until_us === null ? null : Number(emission.rows[0]!.emitted_until_us)
  const clocks = await c.query<{ max_event_us: string | null }>('SELECT max_event_us FROM agg_offsets WHERE group_id = $1 AND topic = $2', [groupId, topic])
  const groupWm = groupWatermarkUs(clocks.rows.map((r) => ({ maxEventUs: r.max_event_us === null ? null : Number(r.max_event_us) })), options, options.expectedPartitions ?? 0)

  // Windows published before that this batch changed: publish again.
  const again = new Map<string, [number, string]>()
  if (before !== null) {
    for (const d of fresh) {
      for (const row of d.rows.agent ?? []) {
        if (row.agent_id !== '' && windowEndUs(row.window_start_us, options.windowMs) <= before) again.set(`${row.window_start_us}/${row.agent_id}`, [row.window_start_us, row.agent_id])
      }
    }
  }
  const closing = groupWm === null || (before !== null && groupWm <= before) ? null : closingWindows(before, groupWm, options.windowMs)
  if (again.size === 0 && closing === null) return { closed: 0, late_update: 0 }

  const rows: (AgentWindowRow & { reason: 'closed' | 'late_update' })[] = []
  if (closing !== null) {
    const res = await c.query<AgentWindowRow>(
      "SELECT * FROM agg_agent_minute WHERE window_start_us <= $1 AND ($2::bigint IS NULL OR window_start_us >= $2) AND agent_id <> '' ORDER BY window_start_us, agent_id",
      [closing.lastStartUs, closing.firstStartUs],
    )
    rows.push(...res.rows.map((r) => ({ ...r, reason: 'closed' as const })))
  }
  if (again.size > 0) {
    const keys = [...again.values()].sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1))
    const res = await c.query<AgentWindowRow>(
      'SELECT m.* FROM agg_agent_minute m JOIN unnest($1::bigint[], $2::text[]) AS k(w, a) ON m.window_start_us = k.w AND m.agent_id = k.a ORDER BY 1, 2',
      [keys.map((k) => k[0]), keys.map((k) => k[1])],
    )
    rows.push(...res.rows.map((r) => ({ ...r, reason: 'late_update' as const })))
  }
  if (groupWm !== null && (before === null || groupWm > before)) {
    await c.query('UPDATE agg_window_emission SET emitted_until_us = $3 WHERE group_id = $1 AND topic = $2', [groupId, topic, groupWm])
  }
  if (rows.length === 0) return { closed: 0, late_update: 0 }

  const hist = await c.query<{ window_start_us: string; agent_id: string; metric: 'execution' | 'llm'; bucket: number; count: string }>(
    "SELECT h.window_start_us, h.agent_id, h.metric, h.bucket, sum(h.count) AS count FROM agg_latency_histogram h JOIN unnest($1::bigint[], $2::text[]) AS k(w, a) " +
      "ON h.window_start_us = k.w AND h.agent_id = k.a WHERE h.metric IN ('execution', 'llm') GROUP BY 1, 2, 3, 4",
    [rows.map((r) => r.window_start_us), rows.map((r) => r.agent_id)],
  )
  const buckets = new Map<string, { execution: Map<number, number>; llm: Map<number, number> }>()
  for (const h of hist.rows) {
    const k = `${h.window_start_us}/${h.agent_id}`
    if (!buckets.has(k)) buckets.set(k, { execution: new Map(), llm: new Map() })
    buckets.get(k)![h.metric].set(h.bucket, Number(h.count))
  }
  const windows = rows.map((r) => toAgentMetricsWindow(r, buckets.get(`${r.window_start_us}/${r.agent_id}`) ?? { execution: [], llm: [] }, options.windowMs))
  await c.query(
    'INSERT INTO agg_outbox (group_id, agent_id, window_start_us, reason, payload) SELECT $1::text, * FROM unnest($2::text[], $3::bigint[], $4::text[], $5::jsonb[])',
    [groupId, windows.map((w) => w.agent_id), windows.map((w) => w.window_start), rows.map((r) => r.reason), windows.map((w) => JSON.stringify(w))],
  )
  const closed = rows.filter((r) => r.reason === 'closed').length
  return { closed, late_update: rows.length - closed }
}

function sinkError(err: unknown, stage: string): AurenError {
  const code = (err as { code?: unknown }).code
  const retriable = isRetriableDbError(err)
  return new AurenError('AUREN_ERR_SINK_UNAVAILABLE', `aggregation sink ${stage} failed: ${(err as Error).message}`, { retriable, cause: err, context: { sqlstate: code } })
}
