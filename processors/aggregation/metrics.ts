/**
 * Aggregation's domain metrics: the aggregation set of CONTRACTS.md section 4, names and labels
 * exactly as there, plus the `auren_aggregation_*` pipeline figures and two helpers for
 * dashboards (hits and handoffs). Base units: seconds, USD, `_total` counters. Labels are agent,
 * model, tool, tier, status and similar bounded sets; never user_id, trace_id or event_id.
 *
 * The counters are updated after a batch's transaction committed, from the batch's merged
 * delta of *newly applied* events ({@link recordAppliedBatch}), so a duplicate or a retried
 * batch is never counted twice. They are per-process counters (Prometheus sums instances); the
 * exact figures are the PostgreSQL rollups. Created once per registry (prom-client refuses a
 * name twice).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { MergedDelta } from './rollup-delta.ts'

/** Seconds buckets of the duration histograms: 5 ms to 10 min (LLM calls and agent runs are long). */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600]
/** Seconds buckets of memory tier latency: 100 µs to 5 s. */
const TIER_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

/** What one committed batch did (postgres-sink.ts reports it). */
export interface AppliedBatch {
  /** Merged delta of the events applied for the first time. */
  readonly merged: MergedDelta
  /** Records skipped because their event_id was already applied. */
  readonly duplicates: number
  /** AgentMetricsWindow records written to the outbox, by reason. */
  readonly windowsEmitted: { readonly closed: number; readonly late_update: number }
}

/** The metric objects; every name is in the README's metrics table. */
export interface AggregationMetrics {
  readonly llmCalls: Counter<'agent' | 'model' | 'status'>
  readonly llmCallFailures: Counter<'agent' | 'model' | 'error_type'>
  readonly llmTokens: Counter<'agent' | 'model' | 'direction'>
  readonly llmCost: Counter<'agent' | 'model'>
  readonly llmDuration: Histogram<'agent' | 'model'>
  readonly executions: Counter<'agent' | 'status'>
  readonly executionDuration: Histogram<'agent'>
  readonly toolCalls: Counter<'agent' | 'tool' | 'status'>
  readonly tierAccesses: Counter<'tier'>
  readonly tierHits: Counter<'tier'>
  readonly tierLatency: Histogram<'tier'>
  readonly collaborations: Counter<'agent' | 'partner' | 'consensus'>
  readonly handoffs: Counter<'agent' | 'partner'>
  readonly hypotheses: Counter<'agent' | 'status'>
  readonly agentsActive: Gauge
  readonly lateEvents: Counter
  readonly duplicateEvents: Counter
  readonly windowsEmitted: Counter<'reason'>
}

const cache = new WeakMap<Registry, AggregationMetrics>()

/**
 * Registers the aggregation metrics on `registry`, or returns those already registered there.
 * @param activeAgents read at scrape time for auren_agents_active (the sink's countActiveAgents);
 *   without it the gauge stays 0
 */
export function createAggregationMetrics(registry: Registry, activeAgents?: () => Promise<number>): AggregationMetrics {
  const existing = cache.get(registry)
  if (existing) return existing
  const registers = [registry]
  const m: AggregationMetrics = Object.freeze({
    llmCalls: new Counter({ name: 'auren_llm_calls_total', help: 'Answered LLM calls (a response came back), by agent, model and status (success, error). Failed attempts without an answer are auren_llm_call_failures_total; attempts = both.', labelNames: ['agent', 'model', 'status'] as const, registers }),
    llmCallFailures: new Counter({ name: 'auren_llm_call_failures_total', help: 'Failed LLM attempts without an answer (rate-limit retries, timeouts), by agent, model and error_type; not LLM calls.', labelNames: ['agent', 'model', 'error_type'] as const, registers }),
    llmTokens: new Counter({ name: 'auren_llm_tokens_total', help: 'Tokens of answered LLM calls, by agent, model and direction (input, output).', labelNames: ['agent', 'model', 'direction'] as const, registers }),
    llmCost: new Counter({ name: 'auren_llm_cost_usd_total', help: 'Cost in USD of answered LLM calls (enriched cost_usd), by agent and model.', labelNames: ['agent', 'model'] as const, registers }),
    llmDuration: new Histogram({ name: 'auren_llm_call_duration_seconds', help: 'Measured latency of answered LLM calls, seconds (calls without a measured latency are not observed).', labelNames: ['agent', 'model'] as const, buckets: DURATION_BUCKETS, registers }),
    executions: new Counter({ name: 'auren_agent_executions_total', help: 'Agent executions, by agent and status (started, succeeded, failed).', labelNames: ['agent', 'status'] as const, registers }),
    executionDuration: new Histogram({ name: 'auren_agent_execution_duration_seconds', help: 'Agent execution latency, seconds.', labelNames: ['agent'] as const, buckets: DURATION_BUCKETS, registers }),
    toolCalls: new Counter({ name: 'auren_tool_calls_total', help: 'Completed tool calls, by agent, tool and status.', labelNames: ['agent', 'tool', 'status'] as const, registers }),
    tierAccesses: new Counter({ name: 'auren_memory_tier_accesses_total', help: 'Memory tier lookups (each tier tried), by tier.', labelNames: ['tier'] as const, registers }),
    tierHits: new Counter({ name: 'auren_memory_tier_hits_total', help: 'Memory tier lookups that found the item, by tier (hit rate = hits / accesses).', labelNames: ['tier'] as const, registers }),
    tierLatency: new Histogram({ name: 'auren_memory_tier_latency_seconds', help: 'Latency of one tier lookup, seconds.', labelNames: ['tier'] as const, buckets: TIER_BUCKETS, registers }),
    collaborations: new Counter({ name: 'auren_collaborations_total', help: 'Collaboration edges (primary agent → partner), by consensus (true, false, unknown).', labelNames: ['agent', 'partner', 'consensus'] as const, registers }),
    handoffs: new Counter({ name: 'auren_agent_handoffs_total', help: 'Handoffs from agent to partner.', labelNames: ['agent', 'partner'] as const, registers }),
    hypotheses: new Counter({ name: 'auren_hypotheses_total', help: 'Hypothesis events, by agent and the status they set (formed, validated, invalidated, pending).', labelNames: ['agent', 'status'] as const, registers }),
    agentsActive: new Gauge({
      name: 'auren_agents_active', help: 'Agents with an event processed within AUREN_AGGREGATION_ACTIVE_WINDOW_MS (from PostgreSQL, all instances).', registers,
      async collect() {
        if (activeAgents) this.set(await activeAgents())
      },
    }),
    lateEvents: new Counter({ name: 'auren_aggregation_late_events_total', help: 'Events applied after their window had closed in their partition (counted in late_events).', registers }),
    duplicateEvents: new Counter({ name: 'auren_aggregation_duplicate_events_total', help: 'Records not applied because their event_id was applied before.', registers }),
    windowsEmitted: new Counter({ name: 'auren_aggregation_windows_emitted_total', help: 'AgentMetricsWindow records written to the outbox, by reason (closed, late_update).', labelNames: ['reason'] as const, registers }),
  })
  cache.set(registry, m)
  return m
}

/** Updates the counters and histograms from a committed batch. */
export function recordAppliedBatch(m: AggregationMetrics, batch: AppliedBatch): void {
  const { rows, observations } = batch.merged
  for (const r of rows.llm ?? []) {
    m.llmCalls.inc({ agent: r.agent_id, model: r.model, status: r.status === 'succeeded' ? 'success' : 'error' }, r.calls ?? 0)
    if (r.input_tokens) m.llmTokens.inc({ agent: r.agent_id, model: r.model, direction: 'input' }, r.input_tokens)
    if (r.output_tokens) m.llmTokens.inc({ agent: r.agent_id, model: r.model, direction: 'output' }, r.output_tokens)
    if (r.cost_usd) m.llmCost.inc({ agent: r.agent_id, model: r.model }, Number(r.cost_usd))
  }
  for (const r of rows.llm_failure ?? []) m.llmCallFailures.inc({ agent: r.agent_id, model: r.model, error_type: r.error_type }, r.attempts ?? 0)
  for (const r of rows.agent ?? []) {
    if (r.executions_started) m.executions.inc({ agent: r.agent_id, status: 'started' }, r.executions_started)
    if (r.executions_succeeded) m.executions.inc({ agent: r.agent_id, status: 'succeeded' }, r.executions_succeeded)
    if (r.executions_failed) m.executions.inc({ agent: r.agent_id, status: 'failed' }, r.executions_failed)
  }
  for (const r of rows.tool ?? []) m.toolCalls.inc({ agent: r.agent_id, tool: r.tool, status: r.status }, r.calls ?? 0)
  for (const r of rows.memory ?? []) {
    if (r.accesses) m.tierAccesses.inc({ tier: r.tier }, r.accesses)
    if (r.hits) m.tierHits.inc({ tier: r.tier }, r.hits)
  }
  for (const r of rows.edge ?? []) {
    const count = r.count ?? 0
    if (r.kind === 'handoff') {
      m.handoffs.inc({ agent: r.from_agent, partner: r.to_agent }, count)
      continue
    }
    const known = r.consensus_known ?? 0
    const reached = r.consensus_reached ?? 0
    if (reached) m.collaborations.inc({ agent: r.from_agent, partner: r.to_agent, consensus: 'true' }, reached)
    if (known - reached) m.collaborations.inc({ agent: r.from_agent, partner: r.to_agent, consensus: 'false' }, known - reached)
    if (count - known) m.collaborations.inc({ agent: r.from_agent, partner: r.to_agent, consensus: 'unknown' }, count - known)
  }
  for (const r of rows.hypothesis ?? []) m.hypotheses.inc({ agent: r.agent_id, status: r.status }, r.events ?? 0)
  for (const o of observations) {
    if (o.metric === 'llm') m.llmDuration.observe({ agent: o.agent_id, model: o.dim }, o.ms / 1000)
    else if (o.metric === 'execution') m.executionDuration.observe({ agent: o.agent_id }, o.ms / 1000)
    else if (o.metric === 'memory_tier') m.tierLatency.observe({ tier: o.dim }, o.ms / 1000)
  }
  if (batch.merged.late_events) m.lateEvents.inc(batch.merged.late_events)
  if (batch.duplicates) m.duplicateEvents.inc(batch.duplicates)
  if (batch.windowsEmitted.closed) m.windowsEmitted.inc({ reason: 'closed' }, batch.windowsEmitted.closed)
  if (batch.windowsEmitted.late_update) m.windowsEmitted.inc({ reason: 'late_update' }, batch.windowsEmitted.late_update)
}
