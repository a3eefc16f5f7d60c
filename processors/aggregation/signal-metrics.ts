/**
 * Prometheus counters of the signal rollups (schemas/rollup-tables.ts): decisions, memory operations,
 * biometric readings, system health reports, conversation turns and performance metric samples.
 * Like metrics.ts, they are updated after a batch's transaction committed, from the merged delta
 * of the events applied for the first time, so a duplicate never counts twice. Labels are
 * bounded sets (agent, category, urgency, operation, memory type, metric, component, status);
 * never user, trace or event ids (CONTRACTS.md section 4). Cost per trace stays in PostgreSQL
 * (`agg_trace_window`): a trace id is never a label.
 */
import { Counter, type Registry } from 'prom-client'
import type { MergedDelta } from './rollup-delta.ts'

/** The metric objects; every name is in the README's metrics table. */
export interface SignalMetrics {
  readonly decisions: Counter<'agent' | 'category' | 'urgency'>
  readonly memoryOperations: Counter<'agent' | 'operation' | 'memory_type'>
  readonly biometricReadings: Counter<'metric' | 'anomaly'>
  readonly healthReports: Counter<'component' | 'status'>
  readonly conversationTurns: Counter<'agent'>
  readonly performanceSamples: Counter<'name' | 'unit'>
}

const cache = new WeakMap<Registry, SignalMetrics>()

/** Registers the signal metrics on `registry`, or returns those already registered there. */
export function createSignalMetrics(registry: Registry): SignalMetrics {
  const existing = cache.get(registry)
  if (existing) return existing
  const registers = [registry]
  const m: SignalMetrics = Object.freeze({
    decisions: new Counter({ name: 'auren_agent_decisions_total', help: 'agent_decision events, by agent, category and urgency (\'\' when not given).', labelNames: ['agent', 'category', 'urgency'] as const, registers }),
    memoryOperations: new Counter({ name: 'auren_memory_operations_total', help: 'memory_operation events, by agent, operation (created, updated, deleted, retrieved) and memory type.', labelNames: ['agent', 'operation', 'memory_type'] as const, registers }),
    biometricReadings: new Counter({ name: 'auren_biometric_readings_total', help: 'biometric_analysis events, by metric and anomaly flag (true, false).', labelNames: ['metric', 'anomaly'] as const, registers }),
    healthReports: new Counter({ name: 'auren_system_health_reports_total', help: 'system_health events, by component and status (healthy, degraded, unhealthy).', labelNames: ['component', 'status'] as const, registers }),
    conversationTurns: new Counter({ name: 'auren_conversation_turns_total', help: 'conversation_turn events, by agent.', labelNames: ['agent'] as const, registers }),
    performanceSamples: new Counter({ name: 'auren_performance_metric_samples_total', help: 'performance_metric events, by metric name and unit.', labelNames: ['name', 'unit'] as const, registers }),
  })
  cache.set(registry, m)
  return m
}

/** Updates the counters from the merged delta of a committed batch (events applied for the first time). */
export function recordSignalRows(m: SignalMetrics, merged: MergedDelta): void {
  const { rows } = merged
  for (const r of rows.decision ?? []) m.decisions.inc({ agent: r.agent_id, category: r.category, urgency: r.urgency }, r.decisions ?? 0)
  for (const r of rows.memory_operation ?? []) m.memoryOperations.inc({ agent: r.agent_id, operation: r.operation, memory_type: r.memory_type }, r.operations ?? 0)
  const readings = new Map<string, { metric: string; anomaly: string; n: number }>()
  for (const r of rows.biometric ?? []) {
    for (const [anomaly, n] of [['true', r.anomalies ?? 0], ['false', (r.samples ?? 0) - (r.anomalies ?? 0)]] as const) {
      if (n === 0) continue
      const k = `${r.metric}\u0000${anomaly}`
      const prev = readings.get(k)
      readings.set(k, { metric: r.metric, anomaly, n: (prev?.n ?? 0) + n })
    }
  }
  for (const x of readings.values()) m.biometricReadings.inc({ metric: x.metric, anomaly: x.anomaly }, x.n)
  for (const r of rows.system_health ?? []) m.healthReports.inc({ component: r.component, status: r.status }, r.reports ?? 0)
  for (const r of rows.conversation ?? []) m.conversationTurns.inc({ agent: r.agent_id }, r.turns ?? 0)
  for (const r of rows.performance_metric ?? []) m.performanceSamples.inc({ name: r.name, unit: r.unit }, r.samples ?? 0)
}
