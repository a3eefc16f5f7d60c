/** Agent performance: executions, success rate, latency percentiles, tools, per agent and model. */
import type { DashboardSpec } from '../board.ts'
import { grid, series, single } from '../panels.ts'
import { inRange, matches, prom, sel, sqlTable } from '../queries.ts'
import { HIGH_RATIO_STEPS } from '../thresholds.ts'
import { RT } from '../../../schemas/rollup-tables.ts'

const A = 'agent=~"$agent"'
const M = 'model=~"$model"'
const quantiles = (metric: string, by: string, matchers: string[]) => [0.5, 0.95, 0.99].map((q) =>
  prom(`histogram_quantile(${q}, sum by (le, ${by}) (rate(${sel(`${metric}_bucket`, ...matchers)}[$__rate_interval])))`, `{{${by}}} p${Math.round(q * 100)}`))

export const agentPerformance: DashboardSpec = {
  uid: 'auren-agent-performance',
  title: 'AUREN / Agent performance',
  description: 'Executions and success rate, LLM and execution latency p50/p95/p99 from the histograms, tool calls and failures, per agent and model.',
  variables: ['agent', 'model'],
  panels: [
    single({ title: 'How many agents are active?', description: 'Agents with an event processed within the active window (auren_agents_active, from PostgreSQL).', unit: 'short', targets: [prom(`max(${sel('auren_agents_active')})`, 'active', true)] }),
    single({ title: 'What share of executions succeed?', description: 'Succeeded / (succeeded + failed) executions over the range; the denominator is completed executions.', unit: 'percentunit', thresholds: HIGH_RATIO_STEPS, targets: [prom(`sum(increase(${sel('auren_agent_executions_total', A, 'status="succeeded"')}[$__range])) / sum(increase(${sel('auren_agent_executions_total', A, 'status=~"succeeded|failed"')}[$__range]))`, 'success rate', true)] }),
    single({ title: 'What share of tool calls succeed?', description: 'Succeeded / completed tool calls over the range (auren_tool_calls_total).', unit: 'percentunit', thresholds: HIGH_RATIO_STEPS, targets: [prom(`sum(increase(${sel('auren_tool_calls_total', A, 'status="succeeded"')}[$__range])) / sum(increase(${sel('auren_tool_calls_total', A)}[$__range]))`, 'tool success rate', true)] }),
    single({ title: 'How many executions started in the range?', description: 'auren_agent_executions_total{status="started"} increase over the range.', unit: 'short', targets: [prom(`sum(increase(${sel('auren_agent_executions_total', A, 'status="started"')}[$__range]))`, 'started', true)] }),
    series({ title: 'How many executions per agent and status?', description: 'Executions per second by agent and status (started, succeeded, failed).', unit: 'reqps', targets: [prom(`sum by (agent, status) (rate(${sel('auren_agent_executions_total', A)}[$__rate_interval]))`, '{{agent}} {{status}}')] }),
    series({ title: 'What share of each agent\'s executions succeed?', description: 'Per agent: succeeded / (succeeded + failed) executions per rate interval.', unit: 'percentunit', min: 0, max: 1, thresholds: HIGH_RATIO_STEPS, targets: [prom(`sum by (agent) (rate(${sel('auren_agent_executions_total', A, 'status="succeeded"')}[$__rate_interval])) / sum by (agent) (rate(${sel('auren_agent_executions_total', A, 'status=~"succeeded|failed"')}[$__rate_interval]))`, '{{agent}}')] }),
    series({ title: 'How long do LLM calls take per agent (p50, p95, p99)?', description: 'Quantiles of auren_llm_call_duration_seconds per agent.', unit: 's', targets: quantiles('auren_llm_call_duration_seconds', 'agent', [A, M]) }),
    series({ title: 'How long do LLM calls take per model (p50, p95, p99)?', description: 'Quantiles of auren_llm_call_duration_seconds per model.', unit: 's', targets: quantiles('auren_llm_call_duration_seconds', 'model', [A, M]) }),
    series({ title: 'How long do executions take per agent (p50, p95, p99)?', description: 'Quantiles of auren_agent_execution_duration_seconds per agent.', unit: 's', targets: quantiles('auren_agent_execution_duration_seconds', 'agent', [A]) }),
    series({ title: 'Which tools are called, and how often do they fail?', description: 'Completed tool calls per second per tool and status (auren_tool_calls_total).', unit: 'reqps', targets: [prom(`sum by (tool, status) (rate(${sel('auren_tool_calls_total', A)}[$__rate_interval]))`, '{{tool}} {{status}}')] }),
    grid({ title: 'Per agent over the range: executions, failures, LLM calls, mean latencies', description: `From ${RT.agent}: executions succeeded and failed, tool calls and failures, LLM calls, mean execution and LLM latency (sum / count, ms; null when nothing was timed).`, w: 24, targets: [sqlTable(`SELECT agent_id AS agent, sum(executions_succeeded) AS "executions ok", sum(executions_failed) AS "executions failed", sum(tool_calls) AS "tool calls", sum(tool_failures) AS "tool failures", sum(llm_calls_succeeded + llm_calls_failed) AS "LLM calls", sum(execution_latency_sum_ms) / NULLIF(sum(execution_latency_count), 0) AS "mean execution ms", sum(llm_latency_sum_ms) / NULLIF(sum(llm_latency_count), 0) AS "mean LLM ms" FROM ${RT.agent} WHERE ${inRange()} AND ${matches('agent_id', 'agent')} AND agent_id <> '' GROUP BY 1 ORDER BY 6 DESC`)] }),
  ],
}
