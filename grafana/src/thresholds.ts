/**
 * Thresholds shown on panels, each with its source. Gateway delivery budgets per tier come from
 * CONTRACTS.md section 3 (critical at once, operational 100 ms, analytical 500 ms).
 */
import type { Step } from './panels.ts'

/** Operational tier budget, seconds (CONTRACTS.md section 3). */
export const OPERATIONAL_BUDGET_S = 0.1
/** Analytical tier budget, seconds (CONTRACTS.md section 3). */
export const ANALYTICAL_BUDGET_S = 0.5

/** Delivery latency: green under the operational budget, amber up to the analytical, red above. */
export const DELIVERY_BUDGET_STEPS: Step[] = [
  { value: null, color: 'green' },
  { value: OPERATIONAL_BUDGET_S, color: 'orange' },
  { value: ANALYTICAL_BUDGET_S, color: 'red' },
]

/** A ratio that should stay high (success, hit rate): red under 0.9, amber under 0.98. */
export const HIGH_RATIO_STEPS: Step[] = [
  { value: null, color: 'red' },
  { value: 0.9, color: 'orange' },
  { value: 0.98, color: 'green' },
]

/** Anything above zero is worth a look (dead letters, drops, backlog). */
export const ZERO_IS_GOOD: Step[] = [
  { value: null, color: 'green' },
  { value: 1, color: 'red' },
]

// Thresholds of the alert rules (prometheus/rules/auren-alerts.yml, branch `alerting`), so a
// panel turns red where the rule pages.
/** AurenConsumerLagHigh: consumer lag above 10,000 records per processor and topic. */
export const CONSUMER_LAG_STEPS: Step[] = [
  { value: null, color: 'green' },
  { value: 1_000, color: 'orange' },
  { value: 10_000, color: 'red' },
]
/** AurenRebalanceStorm: more than 5 rebalances in 15 minutes. */
export const REBALANCE_STEPS: Step[] = [
  { value: null, color: 'green' },
  { value: 5, color: 'red' },
]
/** AurenEventLagOverBudget: p99 event lag budgets, critical 1 s, operational 5 s, analytical 30 s. */
export const EVENT_LAG_STEPS: Step[] = [
  { value: null, color: 'green' },
  { value: 1, color: 'yellow' },
  { value: 5, color: 'orange' },
  { value: 30, color: 'red' },
]
/** AurenGatewaySlowClients: more than 100 slow-client drops in 5 minutes. */
export const SLOW_CLIENT_DROP_STEPS: Step[] = [
  { value: null, color: 'green' },
  { value: 100, color: 'red' },
]

// One step list per remaining Prometheus alert rule (prometheus/rules/auren-alerts.yml): the
// step at the rule's threshold turns the panel the alert's color. test/unit/grafana/alert-coverage
// checks every value against the rule file.
/** AurenProcessorDown: `up{job="auren"} == 0` (red at 0, green at 1). */
export const TARGET_DOWN_STEPS: Step[] = [
  { value: null, color: 'red' },
  { value: 0, color: 'red' },
  { value: 1, color: 'green' },
]
/** AurenOutboxBacklogHigh: more than 1,000 unpublished outbox records (seed 002). */
export const OUTBOX_BACKLOG_STEPS: Step[] = [
  { value: null, color: 'green' },
  { value: 1_000, color: 'red' },
]
/** AurenProcessCpuHigh: above 0.8 of one core (seed 000 §3.6, CPU 80 %). */
export const CPU_STEPS: Step[] = [
  { value: null, color: 'green' },
  { value: 0.8, color: 'red' },
]
/** AurenProcessMemoryHigh: resident memory above 0.85 of the limit (seed 000 §3.6, memory 85 %). */
export const MEMORY_STEPS: Step[] = [
  { value: null, color: 'green' },
  { value: 0.85, color: 'red' },
]
/**
 * Rules that page on anything above 0 (AurenConsumerLagGrowing's derivative,
 * AurenRecordsDeadLettered, AurenGatewayDroppingMessages, AurenNotificationsFailing): a step at
 * the threshold 0 (still green, where the line is drawn) and red from the smallest value above it.
 */
export const ABOVE_ZERO_STEPS: Step[] = [
  { value: null, color: 'green' },
  { value: 0, color: 'green' },
  { value: 1e-9, color: 'red' },
]
/** AurenLlmErrorRateHigh: failed attempts / attempts above 0.05 (seed 000 §3.6). */
export const LLM_ERROR_RATIO_STEPS: Step[] = [
  { value: null, color: 'green' },
  { value: 0.05, color: 'red' },
]
/** AurenLlmErrorRateHigh's minimum sample: at least 20 attempts in 5 minutes. */
export const LLM_MIN_SAMPLE_STEPS: Step[] = [
  { value: null, color: 'text' },
  { value: 20, color: 'blue' },
]
/** AurenLlmLatencyP95High: p95 of answered calls above 5 s (seed 000 §3.6, 5,000 ms). */
export const LLM_LATENCY_STEPS: Step[] = [
  { value: null, color: 'green' },
  { value: 5, color: 'red' },
]
