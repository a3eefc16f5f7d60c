/**
 * Aggregation's exactly-once sink into PostgreSQL: an `AcknowledgingSink<RollupDelta>` that
 * stores its own offsets (processors/runtime/sinks/sink.ts, `offsets: 'sink'`). `Out` is the
 * delta of one event (transform.ts), so the runner's pure transform does all the counting and
 * this file only stores.
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
 *
 * On every punctuation tick (`write` with cause `punctuation`) the sink re-evaluates step 6
 * alone, with the idle timeout: a partition without records for `idleTimeoutMs` does not hold
 * back the group watermark, so the last window of a burst closes and reaches the outbox once
 * traffic stops (tumbling-window.ts groupWatermarkWithIdlenessUs); at most every
 * `purgeEveryMs` a tick also deletes seen event ids older than `seenRetentionMs`.
 */
import type pg from 'pg'
import type { Logger } from 'pino'
import { createPgPool, inTransaction as runInTransaction, sqlError } from '../runtime/sinks/postgres.ts'
import type { AcknowledgingSink, PartitionPosition, SinkRecord } from '../runtime/sinks/sink.ts'
import type { OutboxTable } from '../runtime/sinks/outbox.ts'
import type { AppliedBatch } from './metrics.ts'
import { markLate, mergeDeltas, type RollupDelta } from './rollup-delta.ts'
import { rollupStatements } from './rollup-sql.ts'
import { classifyInOrder, closingWindows, groupWatermarkWithIdlenessUs, watermarkUs, windowEndUs, type PartitionClock, type WindowConfig } from './tumbling-window.ts'
import { toAgentMetricsWindow, type AgentWindowRow } from './window-record.ts'
import { recordRollupWindow } from './rollup-window.ts'
import { RT } from '../../schemas/rollup-tables.ts'

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
  /**
   * A partition without records for this long (processing time, ms) does not hold back the
   * group watermark (module doc); 0 turns idleness off. Default 0 here; the app passes
   * AUREN_AGGREGATION_IDLE_TIMEOUT_MS.
   */
  readonly idleTimeoutMs?: number
  /** Logger of the pool's idle-client errors when a URL is given. */
  readonly log?: Logger
  /** Seen event ids older than this are purged on a tick (ms; 0 keeps them). Default 0. */
  readonly seenRetentionMs?: number
  /** Least time between two purges, ms. Default 600 000. */
  readonly purgeEveryMs?: number
}

/** A record as the sink stores it: the delta and its input coordinates. */
export type AggregationRecord = Pick<SinkRecord<RollupDelta>, 'value' | 'partition' | 'offset'>

/** The sink plus what the app and tests need around it. */
export interface AggregationSink extends AcknowledgingSink<RollupDelta> {
  storedOffsets(groupId: string, topic: string, partitions: readonly number[]): Promise<Map<number, string>>
  /**
   * Applies one partition batch and stores its position, in one transaction (module doc).
   * @param nowMs processing time of the batch (epoch ms): recorded as the partition's last record
   *   time and used for the idle timeout; omitted, idleness is not applied to this batch
   * @param highWatermark the partition's log end offset when the batch was fetched: the partition
   *   caught up when `offset.nextOffset` reached it (omitted: taken as caught up)
   * @throws AurenError AUREN_ERR_SINK_UNAVAILABLE (retriable per SQLSTATE); nothing is then stored
   */
  writeBatch(records: readonly AggregationRecord[], offset: PartitionPosition, nowMs?: number, highWatermark?: string): Promise<void>
  /**
   * Step 6 alone at processing time `nowMs` (a punctuation tick): publishes to the outbox the
   * windows the group watermark with idleness passed. @returns windows written to the outbox
   */
  closeIdleWindows(groupId: string, topic: string, nowMs: number): Promise<AppliedBatch['windowsEmitted']>
  /** The outbox table the runtime publishes to auren.agent-metrics.v1 (runtime/sinks/outbox.ts). */
  readonly outbox: OutboxTable
  /** Deletes seen event ids first seen more than `retentionMs` ago. @returns rows deleted */
  purgeSeenEvents(retentionMs: number): Promise<number>
  /** Agents with an event processed within `withinMs` (auren_agents_active). */
  countActiveAgents(withinMs: number): Promise<number>
}

/** Advisory lock key of the outbox publisher: ASCII 'AGGPUB'. */
const PUBLISH_LOCK_ID = 0x41_47_47_50_55_42

/** The runtime's SQLSTATE classification (runtime/sinks/postgres.ts), under the name migrate.ts and the tests use. */
export { isRetriableSqlError as isRetriableDbError } from '../runtime/sinks/postgres.ts'

/**
 * Creates the sink. Run the migrations (migrate.ts) first.
 * @param db a pg Pool (owned by the caller; `close()` leaves it open) or a connection URL
 */
export function createAggregationSink(db: pg.Pool | string, options: AggregationSinkOptions): AggregationSink {
  const ownPool = typeof db === 'string'
  const pool = typeof db === 'string' ? createPgPool({ url: db, max: options.poolSize ?? 4, schema: options.schema, log: options.log }) : db
  // The first transaction of the sink records (or checks) the schema's window size
  // (rollup-window.ts) before it writes any rollup; a mismatch fails it, not retriable.
  let windowRecorded = false
  const inTransaction = async <T>(work: (c: pg.PoolClient) => Promise<T>) => {
    const checked = windowRecorded
    const out = await runInTransaction(pool, 'aggregation sink transaction', async (c) => {
      if (!checked) await recordRollupWindow(c, options.windowMs)
      return work(c)
    })
    windowRecorded = true
    return out
  }
  const idleTimeoutMs = options.idleTimeoutMs ?? 0
  const purgeEveryMs = options.purgeEveryMs ?? 600_000
  let lastPurgeMs: number | undefined

  async function purgeSeenEvents(retentionMs: number): Promise<number> {
    let total = 0
    for (;;) {
      const res = await pool.query(
        "DELETE FROM agg_seen_events WHERE event_id IN (SELECT event_id FROM agg_seen_events WHERE seen_at < now() - $1 * interval '1 millisecond' LIMIT 10000)",
        [retentionMs],
      )
      total += res.rowCount ?? 0
      if ((res.rowCount ?? 0) < 10_000) return total
    }
  }

  async function writeBatch(records: readonly AggregationRecord[], offset: PartitionPosition, nowMs?: number, highWatermark?: string): Promise<void> {
    const caughtUp = highWatermark === undefined || BigInt(offset.nextOffset) >= BigInt(highWatermark)
    const applied = await inTransaction((c) => applyBatch(c, records, offset, options, nowMs === undefined ? undefined : { nowMs, idleTimeoutMs }, caughtUp))
    options.onCommitted?.(applied)
  }

  async function closeIdleWindows(groupId: string, topic: string, nowMs: number): Promise<AppliedBatch['windowsEmitted']> {
    const windowsEmitted = await inTransaction((c) => emitWindows(c, groupId, topic, [], options, { nowMs, idleTimeoutMs }, false))
    options.onCommitted?.({ merged: mergeDeltas([]), duplicates: 0, windowsEmitted })
    return windowsEmitted
  }

  return {
    kind: 'postgres',
    offsets: 'sink',
    outbox: { pool, table: RT.outbox, keyColumn: 'agent_id', lockId: PUBLISH_LOCK_ID },
    async start() {},
    async write(batch) {
      const { groupId, topic } = batch.position
      if (batch.cause === 'records') {
        await writeBatch(batch.records, batch.position, batch.nowMs, batch.highWatermark)
      } else {
        await closeIdleWindows(groupId, topic, batch.nowMs)
        const retention = options.seenRetentionMs ?? 0
        if (retention > 0 && (lastPurgeMs === undefined || batch.nowMs - lastPurgeMs >= purgeEveryMs)) {
          lastPurgeMs = batch.nowMs
          await purgeSeenEvents(retention)
        }
      }
      return { kind: 'acknowledged' }
    },
    writeBatch,
    closeIdleWindows,
    purgeSeenEvents,
    async storedOffsets(groupId, topic, partitions) {
      const res = await pool
        .query<{ partition: number; next_offset: string }>(
          'SELECT "partition", next_offset FROM agg_offsets WHERE group_id = $1 AND topic = $2 AND "partition" = ANY($3::int[])',
          [groupId, topic, [...partitions]],
        )
        .catch((err: unknown) => {
          throw sqlError(err, 'aggregation sink storedOffsets')
        })
      return new Map(res.rows.map((r) => [r.partition, r.next_offset]))
    },

    async countActiveAgents(withinMs) {
      const res = await pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${RT.activity} WHERE last_processed_at >= now() - $1 * interval '1 millisecond'`,
        [withinMs],
      )
      return Number(res.rows[0]?.n ?? 0)
    },

    async close() {
      if (ownPool) await pool.end()
    },
  }
}

/** Processing time of a write and the idle timeout to apply (tumbling-window.ts groupWatermarkWithIdlenessUs). */
interface Idleness {
  readonly nowMs: number
  readonly idleTimeoutMs: number
}

async function applyBatch(
  c: pg.PoolClient, records: readonly AggregationRecord[], offset: PartitionPosition, options: AggregationSinkOptions, idle: Idleness | undefined, caughtUp = true,
): Promise<AppliedBatch> {
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
    'UPDATE agg_offsets SET next_offset = GREATEST(next_offset, $4::bigint), max_event_us = $5, watermark_us = $6, updated_at = now(), ' +
      'last_record_ms = CASE WHEN $8 THEN COALESCE($7::bigint, last_record_ms) ELSE last_record_ms END, caught_up = $9 WHERE group_id = $1 AND topic = $2 AND "partition" = $3',
    [groupId, topic, partition, offset.nextOffset, clock.maxEventUs, watermarkUs(clock, options.allowedLatenessMs), idle?.nowMs ?? null, pending.length > 0, caughtUp],
  )
  // 6. Windows to publish.
  const windowsEmitted = pending.length > 0 ? await emitWindows(c, groupId, topic, fresh, options, idle, true) : { closed: 0, late_update: 0 }
  return { merged, duplicates: pending.length - fresh.length, windowsEmitted }
}

async function emitWindows(
  c: pg.PoolClient, groupId: string, topic: string, fresh: readonly RollupDelta[], options: AggregationSinkOptions, idle: Idleness | undefined, records: boolean,
): Promise<AppliedBatch['windowsEmitted']> {
  // first_record_ms: the processing time of the group's first batch with records
  const emission = await c.query<{ emitted_until_us: string | null; first_record_ms: string | null }>(
    'INSERT INTO agg_window_emission (group_id, topic, first_record_ms) VALUES ($1, $2, $3) ON CONFLICT (group_id, topic) DO UPDATE SET updated_at = now(), ' +
      'first_record_ms = COALESCE(agg_window_emission.first_record_ms, EXCLUDED.first_record_ms) RETURNING emitted_until_us, first_record_ms',
    [groupId, topic, idle && records ? idle.nowMs : null],
  )
  const firstRecordMs = emission.rows[0]!.first_record_ms === null ? null : Number(emission.rows[0]!.first_record_ms)
  const before = emission.rows[0]!.emitted_until_us === null ? null : Number(emission.rows[0]!.emitted_until_us)
  const clocks = await c.query<{ max_event_us: string | null; last_record_ms: string | null; caught_up: boolean | null }>(
    'SELECT max_event_us, last_record_ms, caught_up FROM agg_offsets WHERE group_id = $1 AND topic = $2',
    [groupId, topic],
  )
  const timed = clocks.rows.map((r) => ({
    maxEventUs: r.max_event_us === null ? null : Number(r.max_event_us), lastRecordMs: r.last_record_ms === null ? null : Number(r.last_record_ms), caughtUp: r.caught_up,
  }))
  const nowMs = idle?.nowMs ?? 0
  const missingIdle = idle !== undefined && firstRecordMs !== null && nowMs - firstRecordMs >= idle.idleTimeoutMs
  const groupWm = groupWatermarkWithIdlenessUs(timed, options, options.expectedPartitions ?? 0, nowMs, idle?.idleTimeoutMs ?? 0, missingIdle)

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
      `SELECT * FROM ${RT.agent} WHERE window_start_us <= $1 AND ($2::bigint IS NULL OR window_start_us >= $2) AND agent_id <> '' ORDER BY window_start_us, agent_id`,
      [closing.lastStartUs, closing.firstStartUs],
    )
    rows.push(...res.rows.map((r) => ({ ...r, reason: 'closed' as const })))
  }
  if (again.size > 0) {
    const keys = [...again.values()].sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1))
    const res = await c.query<AgentWindowRow>(
      `SELECT m.* FROM ${RT.agent} m JOIN unnest($1::bigint[], $2::text[]) AS k(w, a) ON m.window_start_us = k.w AND m.agent_id = k.a ORDER BY 1, 2`,
      [keys.map((k) => k[0]), keys.map((k) => k[1])],
    )
    rows.push(...res.rows.map((r) => ({ ...r, reason: 'late_update' as const })))
  }
  if (groupWm !== null && (before === null || groupWm > before)) {
    await c.query('UPDATE agg_window_emission SET emitted_until_us = $3 WHERE group_id = $1 AND topic = $2', [groupId, topic, groupWm])
  }
  if (rows.length === 0) return { closed: 0, late_update: 0 }

  const hist = await c.query<{ window_start_us: string; agent_id: string; metric: 'execution' | 'llm'; bucket: number; count: string }>(
    `SELECT h.window_start_us, h.agent_id, h.metric, h.bucket, sum(h.count) AS count FROM ${RT.histogram} h JOIN unnest($1::bigint[], $2::text[]) AS k(w, a) ` +
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
    `INSERT INTO ${RT.outbox} (group_id, agent_id, window_start_us, reason, payload) SELECT $1::text, * FROM unnest($2::text[], $3::bigint[], $4::text[], $5::jsonb[])`,
    [groupId, windows.map((w) => w.agent_id), windows.map((w) => w.window_start), rows.map((r) => r.reason), windows.map((w) => JSON.stringify(w))],
  )
  const closed = rows.filter((r) => r.reason === 'closed').length
  return { closed, late_update: rows.length - closed }
}
