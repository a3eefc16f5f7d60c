/**
 * Rollup tables of the event types the first tables left out (agent_decision, memory_operation,
 * biometric_analysis, system_health, conversation_turn, performance_metric) and cost per trace:
 * their key columns and additive counters, in the shape of `ROLLUP_TABLES` (rollup-delta.ts
 * spreads them in, so merging, upserts and lock order work for them unchanged). Columns are
 * created by `migrations/1767484800000_signal-rollups.sql`.
 *
 * Reading them: mean confidence = confidence_sum / confidence_count (events without a confidence
 * are not in the count); mean value = value_sum / samples; cost per trace = sum(cost_usd) over
 * its windows, GROUP BY trace_id.
 */
import type { CounterKind } from './rollup-delta.ts'

/** Table specs, appended to ROLLUP_TABLES (so upserted after the first tables, in this order). */
export const SIGNAL_TABLES = {
  decision: {
    table: 'agg_decision_minute',
    keys: ['window_start_us', 'agent_id', 'category', 'urgency'],
    counters: { decisions: 'int', confidence_count: 'int', confidence_sum: 'dec', reasoning_steps: 'int' },
  },
  memory_operation: {
    table: 'agg_memory_operation_minute',
    keys: ['window_start_us', 'agent_id', 'operation', 'memory_type'],
    counters: { operations: 'int', confidence_count: 'int', confidence_sum: 'dec' },
  },
  biometric: {
    table: 'agg_biometric_minute',
    keys: ['window_start_us', 'user_id', 'metric', 'unit'],
    counters: { samples: 'int', value_sum: 'dec', anomalies: 'int' },
  },
  system_health: {
    table: 'agg_system_health_minute',
    keys: ['window_start_us', 'component', 'status'],
    counters: { reports: 'int' },
  },
  conversation: {
    table: 'agg_conversation_minute',
    keys: ['window_start_us', 'agent_id'],
    counters: { turns: 'int', message_bytes: 'int' },
  },
  performance_metric: {
    table: 'agg_performance_metric_minute',
    keys: ['window_start_us', 'agent_id', 'name', 'unit'],
    counters: { samples: 'int', value_sum: 'dec' },
  },
  trace: {
    table: 'agg_trace_minute',
    keys: ['window_start_us', 'trace_id', 'user_id'],
    counters: { events: 'int', llm_calls: 'int', input_tokens: 'int', output_tokens: 'int', cost_usd: 'dec' },
  },
} as const satisfies Record<string, { table: string; keys: readonly string[]; counters: Record<string, CounterKind> }>
