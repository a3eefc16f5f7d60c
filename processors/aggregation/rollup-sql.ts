/**
 * SQL text and parameters of the rollup upserts of one merged batch (no I/O: postgres-sink.ts
 * executes them). One statement per table, rows passed as arrays and expanded with `unnest`,
 * in the order mergeDeltas sorted them, tables in ROLLUP_TABLE_ORDER: every transaction locks
 * rows in the same global order, so concurrent instances cannot deadlock on them.
 *
 * Additive counters: `ON CONFLICT (keys) DO UPDATE SET c = t.c + EXCLUDED.c`. Activity: min
 * first seen, latest (last_seen_us, last_event_id), summed counts. Hypothesis state: replaced only
 * by a later (status_time_us, event_id). All are order-free, so any split of the input into
 * batches, partitions or instances yields the same rows.
 */
import { RT } from '../../schemas/rollup-tables.ts'
import { ROLLUP_TABLE_ORDER, ROLLUP_TABLES, type ActivityUpdate, type HypothesisState, type MergedDelta, type RollupTable, type RowOf } from './rollup-delta.ts'

/** A parameterised statement. */
export interface Statement {
  readonly text: string
  readonly values: unknown[]
}

const q = (name: string) => `"${name}"`
const NUMERIC_KEYS = new Set(['window_start_us', 'bucket'])

/** The upsert of rows of one additive table. */
export function upsertRows<T extends RollupTable>(table: T, rows: readonly RowOf<T>[]): Statement {
  const spec = ROLLUP_TABLES[table]
  const counters = Object.entries(spec.counters) as [string, 'int' | 'dec'][]
  const columns: { name: string; type: string; zero: string | number | null }[] = [
    ...spec.keys.map((k) => ({ name: k, type: NUMERIC_KEYS.has(k) ? 'bigint' : 'text', zero: null })),
    ...counters.map(([c, kind]) => ({ name: c, type: kind === 'dec' ? 'numeric' : 'bigint', zero: kind === 'dec' ? '0' : 0 })),
  ]
  const values = columns.map((col) => rows.map((r) => (r as Record<string, unknown>)[col.name] ?? col.zero))
  const t = q(spec.table)
  const text =
    `INSERT INTO ${t} (${columns.map((c) => q(c.name)).join(', ')}) ` +
    `SELECT * FROM unnest(${columns.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ')}) ` +
    `ON CONFLICT (${spec.keys.map(q).join(', ')}) DO UPDATE SET ` +
    counters.map(([c]) => `${q(c)} = ${t}.${q(c)} + EXCLUDED.${q(c)}`).join(', ')
  return { text, values }
}

/** The upsert of agent activity. */
export function upsertActivity(updates: readonly ActivityUpdate[]): Statement {
  const col = <K extends keyof ActivityUpdate>(k: K) => updates.map((u) => u[k])
  const newer = '(EXCLUDED.last_seen_us, EXCLUDED.last_event_id) > (a.last_seen_us, a.last_event_id)'
  return {
    text:
      `INSERT INTO ${RT.activity} AS a (agent_id, first_seen_us, last_seen_us, last_event_type, last_event_id, events, executions_in_flight, llm_calls_in_flight, last_processed_at) ` +
      'SELECT u.*, now() FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::uuid[], $6::bigint[], $7::bigint[], $8::bigint[]) AS u ' +
      'ON CONFLICT (agent_id) DO UPDATE SET first_seen_us = LEAST(a.first_seen_us, EXCLUDED.first_seen_us), ' +
      `last_event_type = CASE WHEN ${newer} THEN EXCLUDED.last_event_type ELSE a.last_event_type END, ` +
      `last_event_id = CASE WHEN ${newer} THEN EXCLUDED.last_event_id ELSE a.last_event_id END, ` +
      `last_seen_us = CASE WHEN ${newer} THEN EXCLUDED.last_seen_us ELSE a.last_seen_us END, ` +
      'events = a.events + EXCLUDED.events, executions_in_flight = a.executions_in_flight + EXCLUDED.executions_in_flight, ' +
      'llm_calls_in_flight = a.llm_calls_in_flight + EXCLUDED.llm_calls_in_flight, last_processed_at = now()',
    values: [
      col('agent_id'), col('first_seen_us'), col('last_seen_us'), col('last_event_type'), col('last_event_id'),
      col('events'), col('executions_in_flight'), col('llm_calls_in_flight'),
    ],
  }
}

/** The upsert of hypothesis states (a later status replaces an earlier one, never the reverse). */
export function upsertHypothesisStates(states: readonly HypothesisState[]): Statement {
  const col = <K extends keyof HypothesisState>(k: K) => states.map((s) => s[k])
  return {
    text:
      `INSERT INTO ${RT.hypothesis_state} AS h (hypothesis_id, agent_id, domain, status, status_time_us, event_id) ` +
      'SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::uuid[]) ' +
      'ON CONFLICT (hypothesis_id) DO UPDATE SET agent_id = EXCLUDED.agent_id, domain = EXCLUDED.domain, status = EXCLUDED.status, ' +
      'status_time_us = EXCLUDED.status_time_us, event_id = EXCLUDED.event_id ' +
      'WHERE (EXCLUDED.status_time_us, EXCLUDED.event_id) > (h.status_time_us, h.event_id)',
    values: [col('hypothesis_id'), col('agent_id'), col('domain'), col('status'), col('status_time_us'), col('event_id')],
  }
}

/** Every statement that applies a merged delta, in lock order. */
export function rollupStatements(merged: MergedDelta): Statement[] {
  const out: Statement[] = []
  for (const table of ROLLUP_TABLE_ORDER) {
    const rows = merged.rows[table]
    if (rows && rows.length > 0) out.push(upsertRows(table, rows as readonly RowOf<typeof table>[]))
  }
  if (merged.activity.length > 0) out.push(upsertActivity(merged.activity))
  if (merged.hypothesis_states.length > 0) out.push(upsertHypothesisStates(merged.hypothesis_states))
  return out
}
