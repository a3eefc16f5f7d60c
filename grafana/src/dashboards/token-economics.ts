/** Token economics (seed 001 view 3): where the money goes, per agent, model, user and trace. */
import type { DashboardSpec } from '../board.ts'
import { bars, grid, series, single } from '../panels.ts'
import { inRange, matches, measuredCount, prom, sel, sqlSeries, sqlTable, timeOf } from '../queries.ts'
import { RT } from '../../../schemas/rollup-tables.ts'

const AM = ['agent=~"$agent"', 'model=~"$model"']
const LLM_MATCH = [matches('agent_id', 'agent'), matches('model', 'model')]
const WHY_SQL = 'Read from the PostgreSQL rollups, not Prometheus increase() over the range: a counter series born inside the range (a replay fills it before its first scrape) adds nothing to increase(), while the rollups count each event once by event time.'
const HOURS = 'GREATEST(($__unixEpochTo() - $__unixEpochFrom()) / 3600.0, 1.0 / 60)'

export const tokenEconomics: DashboardSpec = {
  uid: 'auren-token-economics',
  title: 'AUREN / Token economics',
  description: 'Cost per agent, model, user and trace; projections with their basis; top cost drivers; answered LLM calls against failed attempts. Seed 001 view 3.',
  variables: ['agent', 'model', 'user'],
  panels: [
    single({ title: 'How much did LLM calls cost in the range?', description: `Sum of enriched cost_usd of completed LLM calls over the range (${RT.llm}).`, unit: 'currencyUSD', decimals: 4, targets: [sqlTable(`SELECT sum(cost_usd) AS "USD" FROM ${RT.llm} WHERE ${inRange()} AND ${matches('agent_id', 'agent')} AND ${matches('model', 'model')}`)] }),
    single({ title: 'Projected daily cost (basis: mean hourly cost over the range × 24)', description: 'Cost of the selected range divided by its length in hours, times 24. Stands on the range only: no trend, no seasonality.', unit: 'currencyUSD', decimals: 4, targets: [sqlTable(`SELECT sum(cost_usd) / ${HOURS} * 24 AS "USD per day", ${HOURS} AS "basis hours" FROM ${RT.llm} WHERE ${inRange()} AND ${matches('agent_id', 'agent')} AND ${matches('model', 'model')}`)] }),
    single({ title: 'Projected monthly cost (basis: mean hourly cost over the range × 24 × 30)', description: 'Cost of the selected range divided by its length in hours, times 720 (30 days). Stands on the range only.', unit: 'currencyUSD', decimals: 2, targets: [sqlTable(`SELECT sum(cost_usd) / ${HOURS} * 720 AS "USD per 30 days", ${HOURS} AS "basis hours" FROM ${RT.llm} WHERE ${inRange()} AND ${matches('agent_id', 'agent')} AND ${matches('model', 'model')}`)] }),
    single({ title: 'How many LLM calls were answered, and how many attempts failed, in the range?', description: `Over the range (event time): answered LLM calls (a response came back; sum of calls in ${RT.llm}) and failed attempts without an answer (rate-limit retries, timeouts; sum of attempts in ${RT.llm_failure}), which are not calls. 0 when events were processed in the range but none of the kind; null when none were. ${WHY_SQL}`, unit: 'short', targets: [
      sqlTable(`SELECT ${measuredCount(RT.llm, 'calls', LLM_MATCH)} AS "answered calls", ${measuredCount(RT.llm_failure, 'attempts', LLM_MATCH)} AS "failed attempts"`),
    ] }),
    series({ title: 'What does each agent cost per hour?', description: 'USD per hour per agent: rate of auren_llm_cost_usd_total × 3600.', unit: 'currencyUSD', targets: [prom(`sum by (agent) (rate(${sel('auren_llm_cost_usd_total', ...AM)}[$__rate_interval])) * 3600`, '{{agent}}')] }),
    series({ title: 'What does each model cost per hour?', description: 'USD per hour per model: rate of auren_llm_cost_usd_total × 3600.', unit: 'currencyUSD', targets: [prom(`sum by (model) (rate(${sel('auren_llm_cost_usd_total', ...AM)}[$__rate_interval])) * 3600`, '{{model}}')] }),
    series({ title: 'What did each agent cost in each hour (rollups)?', description: `USD per agent per event-time hour, from ${RT.agent} (every event type with a cost).`, unit: 'currencyUSD', w: 24, targets: [sqlSeries(`SELECT ${timeOf('(window_start_us / 3600000000) * 3600000000')} AS time, agent_id AS metric, sum(cost_usd) AS "USD" FROM ${RT.agent} WHERE ${inRange()} AND ${matches('agent_id', 'agent')} AND cost_usd > 0 GROUP BY 1, 2 ORDER BY 1`)] }),
    grid({ title: 'Which users cost the most?', description: `USD, LLM calls and tokens per user over the range (${RT.user}; events with a user_id).`, unit: 'short', targets: [sqlTable(`SELECT user_id AS "user", sum(cost_usd) AS "USD", sum(llm_calls) AS "LLM calls", sum(input_tokens) AS "input tokens", sum(output_tokens) AS "output tokens" FROM ${RT.user} WHERE ${inRange()} AND ${matches('user_id', 'user')} AND ${matches('agent_id', 'agent')} GROUP BY 1 ORDER BY 2 DESC LIMIT 50`)] }),
    grid({ title: 'What did each user query (trace) cost?', description: `USD, LLM calls and tokens per trace over the range, most expensive first (${RT.trace}: completed LLM calls and priced events).`, unit: 'short', targets: [sqlTable(`SELECT trace_id AS "trace", max(user_id) AS "user", sum(cost_usd) AS "USD", sum(llm_calls) AS "LLM calls", sum(input_tokens + output_tokens) AS "tokens" FROM ${RT.trace} WHERE ${inRange()} AND ${matches('user_id', 'user')} GROUP BY 1 ORDER BY 3 DESC LIMIT 20`)] }),
    bars({ title: 'What are the top cost drivers (agent × model)?', description: `The 10 agent and model pairs with the highest USD over the range (${RT.llm}).`, unit: 'currencyUSD', x: 'driver', targets: [sqlTable(`SELECT agent_id || ' / ' || model AS driver, sum(cost_usd) AS "USD" FROM ${RT.llm} WHERE ${inRange()} AND ${matches('agent_id', 'agent')} AND ${matches('model', 'model')} GROUP BY 1 HAVING sum(cost_usd) > 0 ORDER BY 2 DESC LIMIT 10`)] }),
    series({ title: 'How many tokens flow per model, in and out?', description: 'Tokens per second of completed LLM calls per model and direction (auren_llm_tokens_total).', unit: 'short', targets: [prom(`sum by (model, direction) (rate(${sel('auren_llm_tokens_total', ...AM)}[$__rate_interval]))`, '{{model}} {{direction}}')] }),
    series({ title: 'How many LLM calls are answered per second?', description: 'Answered LLM calls (a response came back, success or error) per second per agent (auren_llm_calls_total). Failed attempts without an answer are not calls: see the next panel.', unit: 'reqps', targets: [prom(`sum by (agent) (rate(${sel('auren_llm_calls_total', ...AM)}[$__rate_interval]))`, '{{agent}}')] }),
    series({ title: 'How many LLM calls are answered, and how many attempts fail without an answer?', description: 'Per second: answered calls by status (auren_llm_calls_total: success, error) and failed attempts by error type (auren_llm_call_failures_total: rate-limit retries, timeouts; counted only for attempts that got no answer, never as calls). Attempts = answered calls + failed attempts.', unit: 'reqps', targets: [
      prom(`sum by (status) (rate(${sel('auren_llm_calls_total', ...AM)}[$__rate_interval]))`, 'answered, {{status}}'),
      prom(`sum by (error_type) (rate(${sel('auren_llm_call_failures_total', ...AM)}[$__rate_interval]))`, 'failed attempt, {{error_type}}'),
    ] }),
  ],
}
