/**
 * GET /api/v2/export/analytics: rollup rows per `window` (minute, hour or day; UTC) as CSV or
 * JSON (the seed's "token usage by agent/day, knowledge access patterns, memory tier performance,
 * cost breakdown"). Every dataset is a grouped sum of one rollup table over the range; ratios
 * and means are computed from the sums. Datasets marked `perUser` can be read for one user (a
 * viewer's own); the others have no user dimension (operators and admins only).
 *
 * Honest cells: `llm_calls` are answered calls; failed attempts without an answer are
 * `llm_failed_attempts` (and rows of `llm_failures`, by error_type). Tokens of a row without an
 * answered call and the cost of a row without a priced event are null (empty in CSV), never 0.
 * No row without its key: rollup rows with an empty agent (events without a source agent) are
 * not exported; an empty user or domain (none) is exported as null.
 */
import { num, ratio } from '../analytics/figures.ts'
import type { Cell } from '../analytics/csv.ts'
import { isoOfUs, type WindowName } from '../analytics/range.ts'
import { badRequest } from '../../processors/runtime/ops/errors.ts'
import { Params, rows, whereOf, type Db, type Filter } from './db.ts'
import { RT } from '../../schemas/rollup-tables.ts'
import { seriesStep } from './rollup-window.ts'

interface Dataset {
  readonly description: string
  /** Readable for a single user (the table has user_id). */
  readonly perUser: boolean
  /** Table for all users, and for one user when different. */
  readonly table: string
  readonly userTable?: string
  readonly keys: readonly string[]
  /** Summed columns: output name → SQL expression (over the table's columns). */
  readonly sums: Readonly<Record<string, string>>
  /** Summed expressions when reading the user table. */
  readonly userSums?: Readonly<Record<string, string>>
  /** Columns computed from a row's sums. */
  readonly derived?: (r: Record<string, number>) => Record<string, number | null>
  /** Summed columns that are unknown (null) for a row, from its sums. */
  readonly unknown?: (r: Record<string, number>) => readonly string[]
}

/** Keys whose '' means "none" (exported as null); other keys never '' in an exported row. */
const NULLABLE_KEYS = new Set(['user_id', 'domain'])

/** Tokens unknown without an answered call; cost unknown without a priced event. */
const unknownUsage = (calls: string, priced: string) => (r: Record<string, number>) =>
  [...((r[calls] ?? 0) > 0 ? [] : ['input_tokens', 'output_tokens']), ...((r[priced] ?? 0) > 0 ? [] : ['cost_usd'])]

const mean = (sum: string, count: string) => (r: Record<string, number>) => ratio(r[sum] ?? 0, r[count] ?? 0)

/** The datasets (columns in order: window_start, keys, sums, derived). */
export const DATASETS = {
  token_usage: {
    description: 'Answered LLM calls, failed attempts (not calls), tokens of answered calls and cost (USD, every event type; priced_events = events with a known cost) per window and agent.',
    perUser: true, table: RT.agent, userTable: RT.user, keys: ['agent_id'],
    sums: { llm_calls: 'llm_calls_succeeded + llm_calls_failed', llm_failed_attempts: 'llm_failed_attempts', input_tokens: 'input_tokens', output_tokens: 'output_tokens', cost_usd: 'cost_usd', priced_events: 'priced_events' },
    userSums: { llm_calls: 'llm_calls', llm_failed_attempts: 'llm_failed_attempts', input_tokens: 'input_tokens', output_tokens: 'output_tokens', cost_usd: 'cost_usd', priced_events: 'priced_events' },
    unknown: unknownUsage('llm_calls', 'priced_events'),
  },
  cost_breakdown: {
    description: 'Answered LLM calls, tokens and cost (USD; priced_calls = calls with a known cost) per window, agent, model, user and status.',
    perUser: true, table: RT.llm, keys: ['agent_id', 'model', 'user_id', 'status'],
    sums: { calls: 'calls', input_tokens: 'input_tokens', output_tokens: 'output_tokens', cached_input_tokens: 'cached_input_tokens', reasoning_tokens: 'reasoning_tokens', cost_usd: 'cost_usd', priced_calls: 'priced_calls' },
    unknown: (r) => ((r.priced_calls ?? 0) > 0 ? [] : ['cost_usd']),
  },
  llm_failures: {
    description: 'Failed LLM attempts without an answer (rate-limit retries, timeouts; not calls) per window, agent, model, user and error_type.',
    perUser: true, table: RT.llm_failure, keys: ['agent_id', 'model', 'user_id', 'error_type'],
    sums: { llm_failed_attempts: 'attempts' },
  },
  agent_performance: {
    description: 'Per window and agent: events, executions, answered LLM calls by status, failed attempts (not calls), tokens, cost (USD), tools, errors, collaborations (per agent involved), mean latencies (ms).',
    perUser: false, table: RT.agent, keys: ['agent_id'],
    sums: Object.fromEntries(['events', 'executions_started', 'executions_succeeded', 'executions_failed', 'llm_calls_succeeded', 'llm_calls_failed', 'llm_failed_attempts', 'input_tokens', 'output_tokens',
      'cost_usd', 'priced_events', 'tool_calls', 'tool_failures', 'errors', 'collaborations', 'execution_latency_count', 'execution_latency_sum_ms', 'llm_latency_count', 'llm_latency_sum_ms'].map((c) => [c, c])),
    derived: (r) => ({ execution_mean_ms: mean('execution_latency_sum_ms', 'execution_latency_count')(r), llm_mean_ms: mean('llm_latency_sum_ms', 'llm_latency_count')(r) }),
    unknown: (r) => unknownUsage('calls', 'priced_events')({ ...r, calls: (r.llm_calls_succeeded ?? 0) + (r.llm_calls_failed ?? 0) }),
  },
  memory_tiers: {
    description: 'Memory tier lookups per window and tier: accesses, hits, misses, served, hit rate, mean latency (ms).',
    perUser: false, table: RT.memory, keys: ['tier'],
    sums: { accesses: 'accesses', hits: 'hits', misses: 'misses', served: 'served', latency_count: 'latency_count', latency_sum_ms: 'latency_sum_ms' },
    derived: (r) => ({ hit_rate: ratio(r.hits ?? 0, r.accesses ?? 0), mean_latency_ms: mean('latency_sum_ms', 'latency_count')(r) }),
  },
  knowledge_access: {
    description: 'Knowledge accesses per window, item, agent and domain (accesses, found, items retrieved).',
    perUser: false, table: RT.knowledge, keys: ['item_id', 'agent_id', 'domain'],
    sums: { accesses: 'accesses', found: 'found', items_retrieved: 'items_retrieved' },
  },
  collaboration: {
    description: 'Edges per window (from, to, kind): count, consensus known and reached, mean resolution (ms), knowledge items shared.',
    perUser: false, table: RT.edge, keys: ['from_agent', 'to_agent', 'kind'],
    sums: { count: 'count', consensus_known: 'consensus_known', consensus_reached: 'consensus_reached', resolution_count: 'resolution_count', resolution_sum_ms: 'resolution_sum_ms', knowledge_items_shared: 'knowledge_items_shared' },
    derived: (r) => ({ consensus_rate: ratio(r.consensus_reached ?? 0, r.consensus_known ?? 0), mean_resolution_ms: mean('resolution_sum_ms', 'resolution_count')(r) }),
  },
} as const satisfies Record<string, Dataset>

export type DatasetName = keyof typeof DATASETS
export const DATASET_NAMES = Object.keys(DATASETS) as DatasetName[]

/** Columns of a dataset, in output order. */
export function datasetColumns(name: DatasetName): string[] {
  const d: Dataset = DATASETS[name]
  const derived = d.derived ? Object.keys(d.derived({})) : []
  return ['window_start', ...d.keys, ...Object.keys(d.sums), ...derived]
}

/**
 * The rows of a dataset.
 * @throws ApiError BAD_REQUEST when there are more than `maxRows`, or the window gives too many points
 */
export async function loadExport(db: Db, f: Filter, name: DatasetName, window: WindowName, maxRows: number): Promise<{ columns: string[]; rows: Record<string, Cell>[] }> {
  const { stepUs } = await seriesStep(db, f.range, window)
  if (stepUs === null) return { columns: datasetColumns(name), rows: [] } // window=rollup before any rollup: nothing to export
  const d: Dataset = DATASETS[name]
  const user = f.userId !== null
  const table = user && d.userTable ? d.userTable : d.table
  const sums = user && d.userSums ? d.userSums : d.sums
  const ps = new Params()
  const where = whereOf(f, ps, user ? { user: 'user_id' } : {})
  const step = ps.p(stepUs)
  const limit = ps.p(maxRows + 1)
  const keys = d.keys.join(', ')
  const keyed = d.keys.filter((k) => !NULLABLE_KEYS.has(k)).map((k) => ` AND ${k} <> ''`).join('')
  const found = await rows<Record<string, string>>(db,
    `SELECT (window_start_us - window_start_us % ${step})::text AS w, ${keys}, ${Object.entries(sums).map(([n, e]) => `sum(${e})::text AS ${n}`).join(', ')} ` +
    `FROM ${table} WHERE ${where}${keyed} GROUP BY 1, ${keys} ORDER BY 1, ${keys} LIMIT ${limit}`, ps.values)
  if (found.length > maxRows) {
    throw badRequest(`export '${name}' would hold more than ${maxRows} rows (AUREN_GATEWAY_EXPORT_MAX_ROWS); use a larger window or a shorter range`)
  }
  const columns = datasetColumns(name)
  return {
    columns,
    rows: found.map((r) => {
      const values: Record<string, number> = Object.fromEntries(Object.keys(sums).map((k) => [k, num(r[k])]))
      const out: Record<string, Cell> = { window_start: isoOfUs(num(r.w)) }
      for (const k of d.keys) out[k] = r[k] === undefined || r[k] === '' ? null : r[k]
      Object.assign(out, values, d.derived ? d.derived(values) : {})
      for (const c of d.unknown ? d.unknown(values) : []) out[c] = null
      return out
    }),
  }
}
