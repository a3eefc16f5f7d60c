/** Agent performance: executions, success rate, latency percentiles, tools, per agent and model. */
import type { DashboardSpec } from '../board.ts'
import { grid, series, single } from '../panels.ts'
import { inRange, matches, measuredCount, prom, sel, sqlTable } from '../queries.ts'
import { HIGH_RATIO_STEPS } from '../thresholds.ts'
import { RT } from '../../../schemas/rollup-tables.ts'

const A = 'agent=~"$agent"'
const WHY_SQL = 'Read from the PostgreSQL rollups, not Prometheus increase() over the range: a counter series born inside the range (a replay fills it before its first scrape) adds nothing to increase(), while the rollups count each event once by event time.'
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
    single({ title: 'What share of executions succeed?', description: `Succeeded / (succeeded + failed) executions over the range (event time, ${RT.agent}); the denominator is completed executions; null when none completed. ${WHY_SQL}`, unit: 'percentunit', thresholds: HIGH_RATIO_STEPS, targets: [sqlTable(`SELECT sum(executions_succeeded)::float8 / NULLIF(sum(executions_succeeded + executions_failed), 0) AS "success rate" FROM ${RT.agent} WHERE ${inRange()} AND ${matches('agent_id', 'agent')}`)] }),
    single({ title: 'What share of tool calls succeed?', description: `Succeeded / completed tool calls over the range (event time, ${RT.tool}); the denominator is completed tool calls; null when none completed. ${WHY_SQL}`, unit: 'percentunit', thresholds: HIGH_RATIO_STEPS, targets: [sqlTable(`SELECT (sum(calls) FILTER (WHERE status = 'succeeded'))::float8 / NULLIF(sum(calls), 0) AS "tool success rate" FROM ${RT.tool} WHERE ${inRange()} AND ${matches('agent_id', 'agent')}`)] }),
    single({ title: 'How many executions started in the range?', description: `agent_execution_started events over the range (event time, sum of executions_started in ${RT.agent}); 0 when events were processed but no execution started, null when none were. ${WHY_SQL}`, unit: 'short', targets: [sqlTable(`SELECT ${measuredCount(RT.agent, 'executions_started', [matches('agent_id', 'agent')])} AS "started"`)] }),
    series({ title: 'How many executions per agent and status?', description: 'Executions per second by agent and status (started, succeeded, failed).', unit: 'reqps', targets: [prom(`sum by (agent, status) (rate(${sel('auren_agent_executions_total', A)}[$__rate_interval]))`, '{{agent}} {{status}}')] }),
    series({ title: 'What share of each agent\'s executions succeed?', description: 'Per agent: succeeded / (succeeded + failed) executions per rate interval.', unit: 'percentunit', min: 0, max: 1, thresholds: HIGH_RATIO_STEPS, targets: [prom(`sum by (agent) (rate(${sel('auren_agent_executions_total', A, 'status="succeeded"')}[$__rate_interval])) / sum by (agent) (rate(${sel('auren_agent_executions_total', A, 'status=~"succeeded|failed"')}[$__rate_interval]))`, '{{agent}}')] }),
    series({ title: 'How long do LLM calls take per agent (p50, p95, p99)?', description: 'Quantiles of auren_llm_call_duration_seconds per agent.', unit: 's', targets: quantiles('auren_llm_call_duration_seconds', 'agent', [A, M]) }),
    series({ title: 'How long do LLM calls take per model (p50, p95, p99)?', description: 'Quantiles of auren_llm_call_duration_seconds per model.', unit: 's', targets: quantiles('auren_llm_call_duration_seconds', 'model', [A, M]) }),
    series({ title: 'How long do executions take per agent (p50, p95, p99)?', description: 'Quantiles of auren_agent_execution_duration_seconds per agent.', unit: 's', targets: quantiles('auren_agent_execution_duration_seconds', 'agent', [A]) }),
    series({ title: 'Which tools are called, and how often do they fail?', description: 'Completed tool calls per second per tool and status (auren_tool_calls_total).', unit: 'reqps', targets: [prom(`sum by (tool, status) (rate(${sel('auren_tool_calls_total', A)}[$__rate_interval]))`, '{{tool}} {{status}}')] }),
    grid({ title: 'Per agent over the range: executions, failures, LLM calls, mean latencies', description: `From ${RT.agent}: executions succeeded and failed, tool calls and failures, LLM calls, mean execution and LLM latency (sum / count, ms; null when nothing was timed).`, w: 24, targets: [sqlTable(`SELECT agent_id AS agent, sum(executions_succeeded) AS "executions ok", sum(executions_failed) AS "executions failed", sum(tool_calls) AS "tool calls", sum(tool_failures) AS "tool failures", sum(llm_calls_succeeded + llm_calls_failed) AS "LLM calls", sum(execution_latency_sum_ms) / NULLIF(sum(execution_latency_count), 0) AS "mean execution ms", sum(llm_latency_sum_ms) / NULLIF(sum(llm_latency_count), 0) AS "mean LLM ms" FROM ${RT.agent} WHERE ${inRange()} AND ${matches('agent_id', 'agent')} AND agent_id <> '' GROUP BY 1 ORDER BY 6 DESC`)] }),
  ],
}
