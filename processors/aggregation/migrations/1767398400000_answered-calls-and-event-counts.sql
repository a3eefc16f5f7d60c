-- Up Migration
-- Answered LLM calls apart from failed attempts, known vs unknown cost, and once-per-event
-- counts (processors/aggregation/README.md "Tables", transform.ts counting rules).
-- agg_agent_minute / agg_user_minute llm_calls* and agg_llm_minute now hold answered calls only
-- (a response came back); failed attempts without an answer (rate-limit retries, timeouts) are
-- llm_failed_attempts here and rows of agg_llm_failure_minute by error_type.
-- priced_events / priced_calls: events whose enriched cost_usd is known (not null), so a cost
-- sum over nothing priced reads as unknown, not as $0.
ALTER TABLE agg_agent_minute
  ADD COLUMN llm_failed_attempts bigint NOT NULL DEFAULT 0,
  ADD COLUMN priced_events bigint NOT NULL DEFAULT 0;
ALTER TABLE agg_user_minute
  ADD COLUMN llm_failed_attempts bigint NOT NULL DEFAULT 0,
  ADD COLUMN priced_events bigint NOT NULL DEFAULT 0;
ALTER TABLE agg_llm_minute
  ADD COLUMN priced_calls bigint NOT NULL DEFAULT 0;

-- Failed LLM attempts without an answer, per agent, model, user ('' = none) and error_type.
CREATE TABLE agg_llm_failure_minute (
  window_start_us  bigint NOT NULL,
  agent_id         text   NOT NULL,
  model            text   NOT NULL,
  user_id          text   NOT NULL,
  error_type       text   NOT NULL,
  attempts         bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (window_start_us, agent_id, model, user_id, error_type)
);

-- Each event once, per window and event type; late_events = events applied after their window
-- had closed in their partition (agg_agent_minute.late_events counts them per agent involved).
CREATE TABLE agg_event_minute (
  window_start_us  bigint NOT NULL,
  event_type       text   NOT NULL,
  events           bigint NOT NULL DEFAULT 0,
  late_events      bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (window_start_us, event_type)
);

-- Down Migration
DROP TABLE agg_event_minute;
DROP TABLE agg_llm_failure_minute;
ALTER TABLE agg_llm_minute DROP COLUMN priced_calls;
ALTER TABLE agg_user_minute DROP COLUMN priced_events, DROP COLUMN llm_failed_attempts;
ALTER TABLE agg_agent_minute DROP COLUMN priced_events, DROP COLUMN llm_failed_attempts;
