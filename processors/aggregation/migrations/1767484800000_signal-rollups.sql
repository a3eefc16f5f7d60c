-- Up Migration
-- Rollups of the event types the first migration left out, and cost per trace
-- (signal-tables.ts; processors/aggregation/README.md "Tables"). Same conventions: epoch µs
-- windows, '' for "none" in key columns, additive counters, numeric(38, 18) exact sums.

-- agent_decision per agent, category and urgency; mean confidence = confidence_sum / confidence_count.
CREATE TABLE agg_decision_minute (
  window_start_us   bigint NOT NULL,
  agent_id          text   NOT NULL,
  category          text   NOT NULL,
  urgency           text   NOT NULL,
  decisions         bigint NOT NULL DEFAULT 0,
  confidence_count  bigint NOT NULL DEFAULT 0,
  confidence_sum    numeric(38, 18) NOT NULL DEFAULT 0,
  reasoning_steps   bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (window_start_us, agent_id, category, urgency)
);

-- memory_operation per agent, operation (created | updated | deleted | retrieved) and memory type.
CREATE TABLE agg_memory_operation_minute (
  window_start_us   bigint NOT NULL,
  agent_id          text   NOT NULL,
  operation         text   NOT NULL,
  memory_type       text   NOT NULL,
  operations        bigint NOT NULL DEFAULT 0,
  confidence_count  bigint NOT NULL DEFAULT 0,
  confidence_sum    numeric(38, 18) NOT NULL DEFAULT 0,
  PRIMARY KEY (window_start_us, agent_id, operation, memory_type)
);

-- biometric_analysis per user ('' = none), metric and unit; mean = value_sum / samples.
CREATE TABLE agg_biometric_minute (
  window_start_us  bigint NOT NULL,
  user_id          text   NOT NULL,
  metric           text   NOT NULL,
  unit             text   NOT NULL,
  samples          bigint NOT NULL DEFAULT 0,
  value_sum        numeric(38, 18) NOT NULL DEFAULT 0,
  anomalies        bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (window_start_us, user_id, metric, unit)
);

-- system_health reports per component and status (healthy | degraded | unhealthy).
CREATE TABLE agg_system_health_minute (
  window_start_us  bigint NOT NULL,
  component        text   NOT NULL,
  status           text   NOT NULL,
  reports          bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (window_start_us, component, status)
);

-- conversation_turn per agent: turns and message bytes.
CREATE TABLE agg_conversation_minute (
  window_start_us  bigint NOT NULL,
  agent_id         text   NOT NULL,
  turns            bigint NOT NULL DEFAULT 0,
  message_bytes    bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (window_start_us, agent_id)
);

-- performance_metric per agent, name and unit; mean = value_sum / samples.
CREATE TABLE agg_performance_metric_minute (
  window_start_us  bigint NOT NULL,
  agent_id         text   NOT NULL,
  name             text   NOT NULL,
  unit             text   NOT NULL,
  samples          bigint NOT NULL DEFAULT 0,
  value_sum        numeric(38, 18) NOT NULL DEFAULT 0,
  PRIMARY KEY (window_start_us, agent_id, name, unit)
);

-- Cost per trace (one user query): LLM calls, tokens and USD of the trace's completed LLM calls
-- and priced events, per window; sum over windows GROUP BY trace_id.
CREATE TABLE agg_trace_minute (
  window_start_us  bigint NOT NULL,
  trace_id         text   NOT NULL,
  user_id          text   NOT NULL,
  events           bigint NOT NULL DEFAULT 0,
  llm_calls        bigint NOT NULL DEFAULT 0,
  input_tokens     bigint NOT NULL DEFAULT 0,
  output_tokens    bigint NOT NULL DEFAULT 0,
  cost_usd         numeric(38, 18) NOT NULL DEFAULT 0,
  PRIMARY KEY (window_start_us, trace_id, user_id)
);
CREATE INDEX agg_trace_minute_trace ON agg_trace_minute (trace_id);

-- Down Migration
DROP TABLE agg_trace_minute;
DROP TABLE agg_performance_metric_minute;
DROP TABLE agg_conversation_minute;
DROP TABLE agg_system_health_minute;
DROP TABLE agg_biometric_minute;
DROP TABLE agg_memory_operation_minute;
DROP TABLE agg_decision_minute;
