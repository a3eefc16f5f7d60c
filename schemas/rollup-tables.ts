/**
 * The rollup tables: the contract between aggregation (the only writer,
 * processors/aggregation/postgres-sink.ts, migrations in processors/aggregation/migrations/) and
 * its readers (the gateway's queries, the Grafana dashboards). Readers name a table through these
 * constants, never as a string of their own; `test/integration/rollup-tables-contract.test.ts`
 * checks that the migrations create exactly the tables and columns declared here.
 *
 * Conventions of every windowed table: `window_start_us` is the start (UTC epoch µs) of a tumbling
 * event-time window of the schema's window size; that size is stored once per schema in
 * {@link ROLLUP_WINDOW_TABLE} (`window_ms`), written by aggregation before its first rollup and
 * never changed (an aggregation instance configured with another size refuses to start on that
 * schema), so all rows of a schema share one window size and a reader takes it from the data, not
 * from a setting of its own. Names end in `_window`, not in a unit: they hold windows of whatever
 * size the schema records. Counters are additive (sum over windows); '' stands for "none" in key
 * columns (a primary key cannot hold NULL); `dec` counters are numeric(38, 18) exact sums.
 *
 * LLM calls (`llm`, agent `llm_calls_*`, user `llm_calls`) are *answered* calls only (a response
 * came back). Failed attempts without an answer are counted apart (`llm_failure`,
 * `llm_failed_attempts`). `priced_events` / `priced_calls` count events with a known `cost_usd`,
 * so a cost sum over nothing priced reads as unknown (null), not as $0. `event` counts each event
 * once per type (agent rows count an event once per agent it involves).
 */

/** Counter kinds: `int` → bigint column (safe JS integers), `dec` → numeric(38, 18) (exact decimal strings). */
export type CounterKind = 'int' | 'dec'

/** An additive rollup table: its name, its key columns (the primary key, in order) and its counters. */
export interface AdditiveTableSpec {
  readonly table: string
  readonly keys: readonly string[]
  readonly counters: Readonly<Record<string, CounterKind>>
}

/**
 * The additive rollup tables, keyed by their logical name. Key columns `window_start_us` (µs) and
 * `bucket` are integers (bigint, integer), other keys text.
 */
export const ROLLUP_TABLES = {
  /** Per agent and window: the content of AgentMetricsWindow (CONTRACTS.md 3b). */
  agent: {
    table: 'agg_agent_window',
    keys: ['window_start_us', 'agent_id'],
    counters: {
      events: 'int', executions_started: 'int', executions_succeeded: 'int', executions_failed: 'int',
      llm_calls_succeeded: 'int', llm_calls_failed: 'int', input_tokens: 'int', output_tokens: 'int', cost_usd: 'dec',
      tool_calls: 'int', tool_failures: 'int', errors: 'int', collaborations: 'int',
      execution_latency_count: 'int', execution_latency_sum_ms: 'dec', llm_latency_count: 'int', llm_latency_sum_ms: 'dec',
      late_events: 'int', llm_failed_attempts: 'int', priced_events: 'int',
    },
  },
  /** Each event once, per window and event type; late_events = applied after their window closed. */
  event: {
    table: 'agg_event_window',
    keys: ['window_start_us', 'event_type'],
    counters: { events: 'int', late_events: 'int' },
  },
  /** Answered LLM calls per agent, model, user ('' = none) and status (succeeded | failed). */
  llm: {
    table: 'agg_llm_window',
    keys: ['window_start_us', 'agent_id', 'model', 'user_id', 'status'],
    counters: {
      calls: 'int', input_tokens: 'int', output_tokens: 'int', cached_input_tokens: 'int', reasoning_tokens: 'int',
      cost_usd: 'dec', latency_count: 'int', latency_sum_ms: 'dec', priced_calls: 'int',
    },
  },
  /** Failed LLM attempts without an answer, per agent, model, user ('' = none) and error_type. */
  llm_failure: {
    table: 'agg_llm_failure_window',
    keys: ['window_start_us', 'agent_id', 'model', 'user_id', 'error_type'],
    counters: { attempts: 'int' },
  },
  /** Completed tool calls per agent, tool and status. */
  tool: {
    table: 'agg_tool_window',
    keys: ['window_start_us', 'agent_id', 'tool', 'status'],
    counters: { calls: 'int', cost_usd: 'dec', latency_count: 'int', latency_sum_ms: 'dec', input_bytes: 'int', output_bytes: 'int' },
  },
  /** Per user (events with a user_id only) and agent: events, answered calls, tokens, USD. */
  user: {
    table: 'agg_user_window',
    keys: ['window_start_us', 'user_id', 'agent_id'],
    counters: { events: 'int', llm_calls: 'int', input_tokens: 'int', output_tokens: 'int', cost_usd: 'dec', llm_failed_attempts: 'int', priced_events: 'int' },
  },
  /** Memory tiers: each tier tried is an access (hit or miss, with its latency); served = answered. */
  memory: {
    table: 'agg_memory_tier_window',
    keys: ['window_start_us', 'tier'],
    counters: { accesses: 'int', hits: 'int', misses: 'int', served: 'int', latency_count: 'int', latency_sum_ms: 'dec' },
  },
  /** Edges between agents: kind collaboration (primary → each partner) or handoff (from → to). */
  edge: {
    table: 'agg_edge_window',
    keys: ['window_start_us', 'from_agent', 'to_agent', 'kind'],
    counters: {
      count: 'int', consensus_known: 'int', consensus_reached: 'int', resolution_count: 'int', resolution_sum_ms: 'dec',
      knowledge_items_shared: 'int',
    },
  },
  /** Hypothesis events per agent, domain and the status they set. */
  hypothesis: {
    table: 'agg_hypothesis_window',
    keys: ['window_start_us', 'agent_id', 'domain', 'status'],
    counters: { events: 'int' },
  },
  /** Knowledge accesses per item, agent and domain. */
  knowledge: {
    table: 'agg_knowledge_window',
    keys: ['window_start_us', 'item_id', 'agent_id', 'domain'],
    counters: { accesses: 'int', found: 'int', items_retrieved: 'int' },
  },
  /**
   * Mergeable latency histograms (schemas/latency-histogram.ts buckets): metric execution | llm |
   * tool | memory_tier | collaboration_resolution; dim = model, tool, tier or ''.
   */
  histogram: {
    table: 'agg_latency_histogram',
    keys: ['window_start_us', 'metric', 'agent_id', 'dim', 'bucket'],
    counters: { count: 'int' },
  },
  /** agent_decision per agent, category and urgency; mean confidence = confidence_sum / confidence_count. */
  decision: {
    table: 'agg_decision_window',
    keys: ['window_start_us', 'agent_id', 'category', 'urgency'],
    counters: { decisions: 'int', confidence_count: 'int', confidence_sum: 'dec', reasoning_steps: 'int' },
  },
  /** memory_operation per agent, operation (created | updated | deleted | retrieved) and memory type. */
  memory_operation: {
    table: 'agg_memory_operation_window',
    keys: ['window_start_us', 'agent_id', 'operation', 'memory_type'],
    counters: { operations: 'int', confidence_count: 'int', confidence_sum: 'dec' },
  },
  /** biometric_analysis per user ('' = none), metric and unit; mean = value_sum / samples. */
  biometric: {
    table: 'agg_biometric_window',
    keys: ['window_start_us', 'user_id', 'metric', 'unit'],
    counters: { samples: 'int', value_sum: 'dec', anomalies: 'int' },
  },
  /** system_health reports per component and status (healthy | degraded | unhealthy). */
  system_health: {
    table: 'agg_system_health_window',
    keys: ['window_start_us', 'component', 'status'],
    counters: { reports: 'int' },
  },
  /** conversation_turn per agent: turns and message bytes. */
  conversation: {
    table: 'agg_conversation_window',
    keys: ['window_start_us', 'agent_id'],
    counters: { turns: 'int', message_bytes: 'int' },
  },
  /** performance_metric per agent, name and unit; mean = value_sum / samples. */
  performance_metric: {
    table: 'agg_performance_metric_window',
    keys: ['window_start_us', 'agent_id', 'name', 'unit'],
    counters: { samples: 'int', value_sum: 'dec' },
  },
  /** Cost per trace (one user query): sum over windows GROUP BY trace_id. */
  trace: {
    table: 'agg_trace_window',
    keys: ['window_start_us', 'trace_id', 'user_id'],
    counters: { events: 'int', llm_calls: 'int', input_tokens: 'int', output_tokens: 'int', cost_usd: 'dec' },
  },
} as const satisfies Record<string, AdditiveTableSpec>

/** Logical name of an additive rollup table. */
export type RollupTable = keyof typeof ROLLUP_TABLES

/** SQL types of the columns of the non-additive tables, as `information_schema.columns.data_type` names them. */
export type SqlType = 'bigint' | 'integer' | 'text' | 'uuid' | 'numeric' | 'boolean' | 'jsonb' | 'timestamp with time zone'

/** A table that is not an additive rollup: its name and every column with its SQL type. */
export interface StateTableSpec {
  readonly table: string
  readonly columns: Readonly<Record<string, SqlType>>
}

/**
 * The rollups' window size, one row per schema (`single` is always true, the primary key).
 * `window_ms` (ms) is the size of every window in the schema's windowed tables; `recorded_at`
 * is when aggregation first stored it. No row: no aggregation has written to the schema yet.
 */
export const ROLLUP_WINDOW_TABLE = {
  table: 'agg_rollup_window',
  columns: { single: 'boolean', window_ms: 'bigint', recorded_at: 'timestamp with time zone' },
} as const satisfies StateTableSpec

/** The non-additive tables readers use, keyed by their logical name. */
export const STATE_TABLES = {
  /**
   * Activity per agent (active agents, last activity, current load). `*_us` are event times;
   * `last_processed_at` is processing time. In-flight counts = started minus completed.
   */
  activity: {
    table: 'agg_agent_activity',
    columns: {
      agent_id: 'text', first_seen_us: 'bigint', last_seen_us: 'bigint', last_event_type: 'text', last_event_id: 'uuid', events: 'bigint',
      executions_in_flight: 'bigint', llm_calls_in_flight: 'bigint', last_processed_at: 'timestamp with time zone',
    },
  },
  /** Latest status of each hypothesis: the event with the greatest (status_time_us, event_id). */
  hypothesis_state: {
    table: 'agg_hypothesis_state',
    columns: { hypothesis_id: 'text', agent_id: 'text', domain: 'text', status: 'text', status_time_us: 'bigint', event_id: 'uuid' },
  },
  /**
   * Transactional outbox of AgentMetricsWindow records for auren.agent-metrics.v1 (key agent_id);
   * `published_at` is null until the runtime published the row. reason: closed | late_update.
   */
  outbox: {
    table: 'agg_outbox',
    columns: {
      id: 'bigint', group_id: 'text', agent_id: 'text', window_start_us: 'bigint', reason: 'text', payload: 'jsonb',
      created_at: 'timestamp with time zone', published_at: 'timestamp with time zone',
    },
  },
  rollup_window: ROLLUP_WINDOW_TABLE,
} as const satisfies Record<string, StateTableSpec>

/** Logical name of a non-additive table. */
export type StateTable = keyof typeof STATE_TABLES

/**
 * Table names by logical name, additive and non-additive: `RT.agent` is `'agg_agent_window'`.
 * Readers interpolate these into their SQL (`FROM ${RT.agent}`).
 */
export const RT: { readonly [K in RollupTable | StateTable]: K extends RollupTable ? (typeof ROLLUP_TABLES)[K]['table'] : K extends StateTable ? (typeof STATE_TABLES)[K]['table'] : never } =
  Object.freeze(Object.fromEntries([
    ...Object.entries(ROLLUP_TABLES).map(([k, s]) => [k, s.table]),
    ...Object.entries(STATE_TABLES).map(([k, s]) => [k, s.table]),
  ])) as never

const KEY_TYPES: Readonly<Record<string, SqlType>> = { window_start_us: 'bigint', bucket: 'integer' }

/**
 * Every contract table with every column and its SQL type, as the migrations must create them
 * (the contract test compares this with `information_schema`).
 * @returns table name → column name → SQL type
 */
export function contractColumns(): Record<string, Record<string, SqlType>> {
  const out: Record<string, Record<string, SqlType>> = {}
  for (const spec of Object.values(ROLLUP_TABLES) as AdditiveTableSpec[]) {
    const cols: Record<string, SqlType> = {}
    for (const k of spec.keys) cols[k] = KEY_TYPES[k] ?? 'text'
    for (const [c, kind] of Object.entries(spec.counters)) cols[c] = kind === 'dec' ? 'numeric' : 'bigint'
    out[spec.table] = cols
  }
  for (const spec of Object.values(STATE_TABLES) as StateTableSpec[]) out[spec.table] = { ...spec.columns }
  return out
}
