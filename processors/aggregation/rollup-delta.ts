/**
 * The contribution of events to the rollup tables, as data: which rows (keys) get which additive
 * increments. `transform.ts` builds one {@link RollupDelta} per event; {@link mergeDeltas}
 * combines a batch into one row per key, so a batch costs one upsert statement per table.
 *
 * Every counter is additive (sum), so merging is order-free and the sums of any split of the
 * input (partitions, batches, instances) are equal. Integer counters are JS numbers (safe
 * integers; `bigint` columns); `dec` counters are exact decimal strings (decimal.ts; `numeric`
 * columns). The only non-additive state, agent activity and hypothesis status, merges by "latest
 * (event time, event_id) wins", which is order-free as well.
 */
import type { AgentEventType } from '../../schemas/index.ts'
import { addDecimal } from './decimal.ts'
import { ROLLUP_TABLES, type RollupTable } from '../../schemas/rollup-tables.ts'

/**
 * The additive rollup tables (names, key columns, counters and what they count) are the contract
 * of schemas/rollup-tables.ts, shared with the gateway and the dashboards; re-exported here for
 * the sink's code.
 */
export { ROLLUP_TABLES, type CounterKind, type RollupTable } from '../../schemas/rollup-tables.ts'

/** Upsert order of the tables (fixed, so concurrent transactions lock rows in one order). */
export const ROLLUP_TABLE_ORDER = Object.keys(ROLLUP_TABLES) as RollupTable[]

type Spec<T extends RollupTable> = (typeof ROLLUP_TABLES)[T]
type NumericKey = 'window_start_us' | 'bucket'
/**
 * One row increment of table T: every key column, and the counters it adds to (absent = 0).
 * `window_start_us` (µs) and `bucket` are numbers, other keys strings ('' = none, e.g. no user).
 */
export type RowOf<T extends RollupTable> = { readonly [K in Spec<T>['keys'][number]]: K extends NumericKey ? number : string } & {
  readonly [C in keyof Spec<T>['counters']]?: Spec<T>['counters'][C] extends 'dec' ? string : number
}

/** Latency histograms kept in agg_latency_histogram (`metric` column) and what `dim` holds. */
export type LatencyMetric = 'execution' | 'llm' | 'tool' | 'memory_tier' | 'collaboration_resolution'

/** One raw latency, for the Prometheus histograms (metrics.ts); not stored. */
export interface LatencyObservation {
  readonly metric: LatencyMetric
  /** Agent id, '' for none (memory tiers). */
  readonly agent_id: string
  /** Model (llm), tool (tool), tier (memory_tier) or ''. */
  readonly dim: string
  readonly ms: number
}

/** Activity of one agent (agg_agent_activity); merged by min / latest / sum. */
export interface ActivityUpdate {
  readonly agent_id: string
  readonly first_seen_us: number
  readonly last_seen_us: number
  /** Type and id of the latest event (by event time, then event_id). */
  readonly last_event_type: AgentEventType
  readonly last_event_id: string
  readonly events: number
  /** Executions started minus completed (the agent's current load). */
  readonly executions_in_flight: number
  /** LLM calls started minus completed. */
  readonly llm_calls_in_flight: number
}

/** Latest known status of a hypothesis (agg_hypothesis_state); latest (status_time_us, event_id) wins. */
export interface HypothesisState {
  readonly hypothesis_id: string
  readonly agent_id: string
  readonly domain: string
  readonly status: string
  readonly status_time_us: number
  readonly event_id: string
}

/** Rows of every table (absent = none). */
export type RollupRows = { readonly [T in RollupTable]?: readonly RowOf<T>[] }

/** What one event contributes (transform.ts). */
export interface RollupDelta {
  /** The event's id (UUID): the dedup key of agg_seen_events. */
  readonly event_id: string
  readonly event_type: AgentEventType
  /** Event time, UTC epoch µs. */
  readonly event_time_us: number
  /** Start of the event's window (µs); every row's window_start_us. */
  readonly window_start_us: number
  /** Set by the sink when the event's window had closed in its partition (tumbling-window.ts). */
  readonly late: boolean
  readonly rows: RollupRows
  readonly activity: readonly ActivityUpdate[]
  readonly hypothesis_states: readonly HypothesisState[]
  readonly observations: readonly LatencyObservation[]
}

/** Many deltas combined: one row per key (sorted by key), activity per agent, state per hypothesis. */
export interface MergedDelta {
  /** Number of events merged. */
  readonly events: number
  /** How many of them were late. */
  readonly late_events: number
  readonly rows: RollupRows
  readonly activity: readonly ActivityUpdate[]
  readonly hypothesis_states: readonly HypothesisState[]
  /** Every raw observation, concatenated. */
  readonly observations: readonly LatencyObservation[]
}

const keyOf = (values: readonly unknown[]) => JSON.stringify(values)
const later = (t1: number, id1: string, t2: number, id2: string) => t1 > t2 || (t1 === t2 && id1 > id2)

/** Accumulates row increments, summing counters of equal keys. */
export class RowAccumulator {
  private readonly tables = new Map<RollupTable, Map<string, Record<string, string | number>>>()

  /** Adds one increment (counters absent or 0/'0' are skipped). */
  add<T extends RollupTable>(table: T, row: RowOf<T>): this {
    const spec = ROLLUP_TABLES[table]
    const rec = row as Record<string, string | number | undefined>
    const k = keyOf(spec.keys.map((c) => rec[c]))
    let rows = this.tables.get(table)
    if (!rows) this.tables.set(table, (rows = new Map()))
    let acc = rows.get(k)
    if (!acc) {
      acc = {}
      for (const c of spec.keys) acc[c] = rec[c] as string | number
      rows.set(k, acc)
    }
    for (const [c, kind] of Object.entries(spec.counters)) {
      const v = rec[c]
      if (v === undefined || v === 0 || v === '0') continue
      acc[c] = kind === 'dec' ? addDecimal(acc[c] ?? '0', v) : ((acc[c] as number | undefined) ?? 0) + (v as number)
    }
    return this
  }

  /** The rows, each table's rows sorted by key (the lock order of the upserts). */
  rows(): RollupRows {
    const out: Record<string, unknown[]> = {}
    for (const table of ROLLUP_TABLE_ORDER) {
      const rows = this.tables.get(table)
      if (!rows || rows.size === 0) continue
      out[table] = [...rows.entries()].sort((a, b) => compareKeys(a[0], b[0])).map(([, r]) => r)
    }
    return out as RollupRows
  }
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Merges activity updates of one agent. */
export function mergeActivity(a: ActivityUpdate, b: ActivityUpdate): ActivityUpdate {
  const bLater = later(b.last_seen_us, b.last_event_id, a.last_seen_us, a.last_event_id)
  return {
    agent_id: a.agent_id,
    first_seen_us: Math.min(a.first_seen_us, b.first_seen_us),
    last_seen_us: bLater ? b.last_seen_us : a.last_seen_us,
    last_event_type: bLater ? b.last_event_type : a.last_event_type,
    last_event_id: bLater ? b.last_event_id : a.last_event_id,
    events: a.events + b.events,
    executions_in_flight: a.executions_in_flight + b.executions_in_flight,
    llm_calls_in_flight: a.llm_calls_in_flight + b.llm_calls_in_flight,
  }
}

/**
 * The delta with `late` set, `late_events: 1` added to each of its agent rows (the agents whose
 * window the late event changes: a per-agent figure, summed over agents it counts an event
 * involving two agents twice) and to its `event` row (each late event once).
 */
export function markLate(delta: RollupDelta): RollupDelta {
  if (delta.late) return delta
  const agents = (delta.rows.agent ?? []).map((r) => ({ ...r, late_events: (r.late_events ?? 0) + 1 }))
  const events = (delta.rows.event ?? []).map((r) => ({ ...r, late_events: (r.late_events ?? 0) + 1 }))
  return {
    ...delta, late: true,
    rows: { ...delta.rows, ...(agents.length > 0 ? { agent: agents } : {}), ...(events.length > 0 ? { event: events } : {}) },
  }
}

/** Combines deltas into one set of upserts. Order-free: any permutation gives an equal result. */
export function mergeDeltas(deltas: readonly RollupDelta[]): MergedDelta {
  const acc = new RowAccumulator()
  const activity = new Map<string, ActivityUpdate>()
  const states = new Map<string, HypothesisState>()
  const observations: LatencyObservation[] = []
  let late = 0
  for (const d of deltas) {
    if (d.late) late += 1
    for (const table of ROLLUP_TABLE_ORDER) for (const row of d.rows[table] ?? []) acc.add(table, row as never)
    for (const a of d.activity) {
      const prev = activity.get(a.agent_id)
      activity.set(a.agent_id, prev ? mergeActivity(prev, a) : a)
    }
    for (const s of d.hypothesis_states) {
      const prev = states.get(s.hypothesis_id)
      if (!prev || later(s.status_time_us, s.event_id, prev.status_time_us, prev.event_id)) states.set(s.hypothesis_id, s)
    }
    observations.push(...d.observations)
  }
  const byKey = <V>(m: Map<string, V>) => [...m.entries()].sort((a, b) => compareKeys(a[0], b[0])).map(([, v]) => v)
  return { events: deltas.length, late_events: late, rows: acc.rows(), activity: byKey(activity), hypothesis_states: byKey(states), observations }
}
