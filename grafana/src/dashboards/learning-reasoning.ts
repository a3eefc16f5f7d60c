/** Learning and reasoning (seed 003 dashboards): hypotheses, memory operations, decisions. */
import type { DashboardSpec } from '../board.ts'
import { bars, grid, series, single } from '../panels.ts'
import { inRange, matches, prom, sel, sqlSeries, sqlTable, timeOf } from '../queries.ts'
import { RT } from '../../../schemas/rollup-tables.ts'

const A = 'agent=~"$agent"'

/** Payload confidence of an es_events row (`data` = the enriched event as JSON; the payload is the Avro union, one member). */
const confidence = (row: string) => `(jsonb_path_query_first(${row}.data, '$.event.payload.**{0 to 1}.confidence') #>> '{}')::float8`

const REASONING_CHAINS = `
  WITH steps AS (
    SELECT e.stream_id, e.stream_version, e.event_id, e.event_type, e.event_time, e.data->'event'->>'parent_event_id' AS parent_id,
           e.data->'event'->'source_agent'->>'id' AS agent, ${confidence('e')} AS confidence
    FROM es_events e
    WHERE e.event_time BETWEEN to_timestamp($__unixEpochFrom()) AND to_timestamp($__unixEpochTo())
      AND jsonb_path_exists(e.data, '$.event.payload.**{0 to 1}.confidence')
  ), chained AS (
    SELECT s.*, row_number() OVER w AS step, lag(event_type) OVER w AS prev_type, lag(confidence) OVER w AS prev_confidence
    FROM steps s WINDOW w AS (PARTITION BY stream_id ORDER BY stream_version)
  )
  SELECT c.event_time AS time, c.stream_id AS trace, c.step, c.agent,
         coalesce(p.event_type, c.prev_type) AS "follows", CASE WHEN p.event_id IS NOT NULL THEN ${confidence('p')} ELSE c.prev_confidence END AS "its confidence",
         c.event_type AS "step event", c.confidence,
         CASE WHEN p.event_id IS NOT NULL THEN 'parent_event_id' WHEN c.prev_type IS NOT NULL THEN 'trace order' ELSE 'first step' END AS link
  FROM chained c LEFT JOIN es_events p ON p.event_id = c.parent_id
  WHERE ${matches("coalesce(c.agent, '')", 'agent')}
  ORDER BY c.event_time DESC, c.stream_id, c.step
  LIMIT 200`

export const learningReasoning: DashboardSpec = {
  uid: 'auren-learning-reasoning',
  title: 'AUREN / Learning and reasoning',
  description: 'Hypotheses formed, validated and invalidated with the validation rate, memory operations by type, decisions by category and urgency with their confidence, reasoning chains from the event store. Seed 003.',
  variables: ['agent'],
  panels: [
    single({ title: 'What share of tested hypotheses hold?', description: `Hypotheses whose latest status is validated / (validated + invalidated), latest status per hypothesis (${RT.hypothesis_state}) set within the range; pending and formed are not in the denominator.`, unit: 'percentunit', targets: [sqlTable(`SELECT count(*) FILTER (WHERE status = 'validated')::float8 / NULLIF(count(*) FILTER (WHERE status IN ('validated', 'invalidated')), 0) AS "validation rate", count(*) FILTER (WHERE status IN ('validated', 'invalidated')) AS "tested" FROM ${RT.hypothesis_state} WHERE ${inRange('status_time_us')} AND ${matches('agent_id', 'agent')}`)] }),
    bars({ title: 'Where do hypotheses stand now?', description: 'Hypotheses by their latest status (formed, validated, invalidated, pending), latest event within the range.', unit: 'short', x: 'status', targets: [sqlTable(`SELECT status, count(*) AS hypotheses FROM ${RT.hypothesis_state} WHERE ${inRange('status_time_us')} AND ${matches('agent_id', 'agent')} GROUP BY 1 ORDER BY 1`)] }),
    series({ title: 'How many hypotheses are formed, validated, invalidated?', description: 'Hypothesis events per second by the status they set (auren_hypotheses_total).', unit: 'reqps', targets: [prom(`sum by (status) (rate(${sel('auren_hypotheses_total', A)}[$__rate_interval]))`, '{{status}}')] }),
    series({ title: 'Which memory operations do agents perform?', description: 'memory_operation events per second by operation and memory type (auren_memory_operations_total).', unit: 'reqps', targets: [prom(`sum by (operation, memory_type) (rate(${sel('auren_memory_operations_total', A)}[$__rate_interval]))`, '{{operation}} {{memory_type}}')] }),
    series({ title: 'Which decisions are taken, by category and urgency?', description: 'agent_decision events per second by category and urgency (auren_agent_decisions_total; empty label = not given).', unit: 'reqps', targets: [prom(`sum by (category, urgency) (rate(${sel('auren_agent_decisions_total', A)}[$__rate_interval]))`, '{{category}} {{urgency}}')] }),
    series({ title: 'How confident are the decisions, minute by minute?', description: `Mean decision confidence per agent per rollup window of event time (window_ms in ${RT.rollup_window}, 1 min by default): confidence sum / decisions that gave one (${RT.decision}).`, unit: 'percentunit', min: 0, max: 1, targets: [sqlSeries(`SELECT ${timeOf()} AS time, agent_id AS metric, sum(confidence_sum) / NULLIF(sum(confidence_count), 0) AS confidence FROM ${RT.decision} WHERE ${inRange()} AND ${matches('agent_id', 'agent')} AND confidence_count > 0 GROUP BY 1, 2 ORDER BY 1`)] }),
    grid({ title: 'Decisions per agent, category and urgency, with confidence', description: `Over the range (${RT.decision}): decisions, mean confidence (of those that gave one; null when none), mean reasoning steps.`, w: 24, targets: [sqlTable(`SELECT agent_id AS agent, NULLIF(category, '') AS category, NULLIF(urgency, '') AS urgency, sum(decisions) AS decisions, sum(confidence_sum) / NULLIF(sum(confidence_count), 0) AS "mean confidence", sum(reasoning_steps)::float8 / NULLIF(sum(decisions), 0) AS "mean reasoning steps" FROM ${RT.decision} WHERE ${inRange()} AND ${matches('agent_id', 'agent')} GROUP BY 1, 2, 3 ORDER BY 4 DESC LIMIT 100`)] }),
    grid({ title: 'Memory operations per agent and type, with confidence', description: `Over the range (${RT.memory_operation}): operations and mean confidence of the memory items (null when none gave one).`, w: 24, targets: [sqlTable(`SELECT agent_id AS agent, operation, memory_type AS "memory type", sum(operations) AS operations, sum(confidence_sum) / NULLIF(sum(confidence_count), 0) AS "mean confidence" FROM ${RT.memory_operation} WHERE ${inRange()} AND ${matches('agent_id', 'agent')} GROUP BY 1, 2, 3 ORDER BY 4 DESC LIMIT 100`)] }),
    grid({ title: 'How did each reasoning chain unfold, step by step, and how confident was each step?', description: 'From the event store (es_events, every enriched event of a trace in stream order): the steps of each trace that carry a confidence (decisions, hypotheses, memory operations; payload confidence 0–1, null when the agent gave none), each with the step it follows: its parent event (parent_event_id, any event type, with its confidence) when it names one, else the previous confidence-carrying step of the trace (link column says which). Most recent 200 steps of the range.', w: 24, h: 12, targets: [sqlTable(REASONING_CHAINS)] }),
  ],
}
