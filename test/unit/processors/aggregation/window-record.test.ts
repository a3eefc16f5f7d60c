import avro from 'avsc'
import { describe, expect, it } from 'vitest'
import { AVSC_OPTIONS, loadSchema } from '../../../../schemas/index.ts'
import { histogramOf, percentile } from '../../../../schemas/latency-histogram.ts'
import { rollupStatements, upsertRows } from '../../../../processors/aggregation/rollup-sql.ts'
import { mergeDeltas } from '../../../../processors/aggregation/rollup-delta.ts'
import { toRollupDelta } from '../../../../processors/aggregation/transform.ts'
import { toAgentMetricsWindow, type AgentWindowRow } from '../../../../processors/aggregation/window-record.ts'
import { randomWorkload } from '../../../helpers/aggregation-events.ts'

const W = Date.UTC(2025, 0, 1, 12, 0, 0) * 1000

/** A row as PostgreSQL returns it: bigint and numeric as strings. */
const row: AgentWindowRow = {
  window_start_us: String(W), agent_id: 'neuroscientist', events: '9', executions_started: '2', executions_succeeded: '1', executions_failed: '1',
  llm_calls_succeeded: '3', llm_calls_failed: '1', input_tokens: '1200', output_tokens: '300', cost_usd: '0.012345', tool_calls: '2',
  tool_failures: '0', errors: '2', collaborations: '1', execution_latency_count: '2', execution_latency_sum_ms: '3000.5',
  llm_latency_count: '4', llm_latency_sum_ms: '3400', late_events: '1', llm_failed_attempts: '2', priced_events: '4',
}

describe('toAgentMetricsWindow', () => {
  it('maps a stored row and its histograms to the contract record, valid for its Avro schema', () => {
    const llm = histogramOf([700, 800, 900, 1000])
    const w = toAgentMetricsWindow(row, { execution: histogramOf([1000, 2000.5]), llm }, 60_000)
    expect(w).toMatchObject({
      agent_id: 'neuroscientist', window_start: W, window_end: W + 60_000_000, executions: { started: 2, succeeded: 1, failed: 1 },
      llm_calls: { succeeded: 3, failed: 1 }, input_tokens: 1200, output_tokens: 300, cost_usd: 0.012345, tool_calls: 2, errors: 2,
      collaborations: 1, late_events: 1,
    })
    expect(w.llm_latency).toEqual({ count: 4, sum_ms: 3400, p50_ms: percentile(llm, 0.5), p95_ms: percentile(llm, 0.95), p99_ms: percentile(llm, 0.99) })
    expect(w.execution_latency.count).toBe(2)
    const type = avro.Type.forSchema(loadSchema('agent-metrics-window'), AVSC_OPTIONS)
    expect(type.isValid(w)).toBe(true)
  })

  it('gives null percentiles for a window without latencies', () => {
    const w = toAgentMetricsWindow({ ...row, llm_latency_count: '0', llm_latency_sum_ms: '0' }, { execution: [], llm: new Map() }, 60_000)
    expect(w.llm_latency).toEqual({ count: 0, sum_ms: 0, p50_ms: null, p95_ms: null, p99_ms: null })
  })
})

describe('rollup statements', () => {
  it('pass one array per column, one element per row, and add every counter on conflict', () => {
    const merged = mergeDeltas(randomWorkload(2, 300, { startUs: W, stepMs: 1000, jitterMs: 0 }).map((e) => toRollupDelta(e)))
    const statements = rollupStatements(merged)
    expect(statements.length).toBeGreaterThanOrEqual(9)
    for (const s of statements) {
      const params = (s.text.match(/\$\d+/g) ?? []).length
      expect(s.values).toHaveLength(params)
      const lengths = new Set((s.values as unknown[][]).map((v) => v.length))
      expect(lengths.size).toBe(1)
    }
    const llm = upsertRows('llm', merged.rows.llm!)
    expect(llm.text).toContain('ON CONFLICT ("window_start_us", "agent_id", "model", "user_id", "status") DO UPDATE SET "calls" = "agg_llm_window"."calls" + EXCLUDED."calls"')
    expect(llm.text).toContain('$13::numeric[]')
    // absent counters are sent as zeros, decimals as strings
    const costs = llm.values[10] as unknown[]
    expect(costs.every((c) => typeof c === 'string')).toBe(true)
  })
})
