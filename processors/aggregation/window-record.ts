/**
 * Builds the contract's AgentMetricsWindow (CONTRACTS.md section 3b, schemas/avro/
 * agent-metrics-window.avsc) from a row of agg_agent_window and the window's latency histogram
 * buckets. Pure. PostgreSQL returns bigint and numeric as strings; both are accepted.
 */
import type { AgentMetricsWindow } from '../../schemas/generated/types.ts'
import { latencySummary, type BucketCounts } from '../../schemas/latency-histogram.ts'
import type { ROLLUP_TABLES } from './rollup-delta.ts'
import { windowEndUs } from './tumbling-window.ts'

type AgentColumn = (typeof ROLLUP_TABLES)['agent']['keys'][number] | keyof (typeof ROLLUP_TABLES)['agent']['counters']

/** A row of agg_agent_window as read back (numbers, or strings for bigint/numeric). */
export type AgentWindowRow = { readonly [C in AgentColumn]: C extends 'agent_id' ? string : string | number }

/** Histogram buckets of the window: execution latency and LLM latency (all models summed). */
export interface WindowHistograms {
  readonly execution: BucketCounts
  readonly llm: BucketCounts
}

const num = (v: string | number): number => (typeof v === 'number' ? v : Number(v))

/** The AgentMetricsWindow of one agent and window. */
export function toAgentMetricsWindow(row: AgentWindowRow, histograms: WindowHistograms, windowMs: number): AgentMetricsWindow {
  const start = num(row.window_start_us)
  return {
    agent_id: row.agent_id,
    window_start: start,
    window_end: windowEndUs(start, windowMs),
    executions: { started: num(row.executions_started), succeeded: num(row.executions_succeeded), failed: num(row.executions_failed) },
    llm_calls: { succeeded: num(row.llm_calls_succeeded), failed: num(row.llm_calls_failed) },
    input_tokens: num(row.input_tokens),
    output_tokens: num(row.output_tokens),
    cost_usd: num(row.cost_usd),
    tool_calls: num(row.tool_calls),
    errors: num(row.errors),
    execution_latency: latencySummary(histograms.execution, num(row.execution_latency_sum_ms)),
    llm_latency: latencySummary(histograms.llm, num(row.llm_latency_sum_ms)),
    collaborations: num(row.collaborations),
    late_events: num(row.late_events),
  }
}
