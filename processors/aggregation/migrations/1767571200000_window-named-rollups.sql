-- Up Migration
-- The windowed rollups are named for what they hold, windows of the schema's window size
-- (`agg_<what>_window`), not for one size ("minute") that AUREN_AGGREGATION_WINDOW_MS can change;
-- the size itself is stored with the data in agg_rollup_window, so readers (the gateway, Grafana)
-- read it from there (schemas/rollup-tables.ts is the contract of names and columns).
--
-- agg_rollup_window holds one row: window_ms, the size (ms) of every window in this schema.
-- Aggregation inserts it before its first rollup write and refuses to run on a schema that records
-- another size, so rows of two window sizes never share a schema. Rows written before this
-- migration are of the size the aggregation was configured with; the first aggregation start after
-- it records its configured size (the same setting the gateway had to be given until now).
ALTER TABLE agg_agent_minute RENAME TO agg_agent_window;
ALTER INDEX agg_agent_minute_pkey RENAME TO agg_agent_window_pkey;
ALTER INDEX agg_agent_minute_agent RENAME TO agg_agent_window_agent;
ALTER TABLE agg_event_minute RENAME TO agg_event_window;
ALTER INDEX agg_event_minute_pkey RENAME TO agg_event_window_pkey;
ALTER TABLE agg_llm_minute RENAME TO agg_llm_window;
ALTER INDEX agg_llm_minute_pkey RENAME TO agg_llm_window_pkey;
ALTER TABLE agg_llm_failure_minute RENAME TO agg_llm_failure_window;
ALTER INDEX agg_llm_failure_minute_pkey RENAME TO agg_llm_failure_window_pkey;
ALTER TABLE agg_tool_minute RENAME TO agg_tool_window;
ALTER INDEX agg_tool_minute_pkey RENAME TO agg_tool_window_pkey;
ALTER TABLE agg_user_minute RENAME TO agg_user_window;
ALTER INDEX agg_user_minute_pkey RENAME TO agg_user_window_pkey;
ALTER TABLE agg_memory_tier_minute RENAME TO agg_memory_tier_window;
ALTER INDEX agg_memory_tier_minute_pkey RENAME TO agg_memory_tier_window_pkey;
ALTER TABLE agg_edge_minute RENAME TO agg_edge_window;
ALTER INDEX agg_edge_minute_pkey RENAME TO agg_edge_window_pkey;
ALTER TABLE agg_hypothesis_minute RENAME TO agg_hypothesis_window;
ALTER INDEX agg_hypothesis_minute_pkey RENAME TO agg_hypothesis_window_pkey;
ALTER TABLE agg_knowledge_minute RENAME TO agg_knowledge_window;
ALTER INDEX agg_knowledge_minute_pkey RENAME TO agg_knowledge_window_pkey;
ALTER TABLE agg_decision_minute RENAME TO agg_decision_window;
ALTER INDEX agg_decision_minute_pkey RENAME TO agg_decision_window_pkey;
ALTER TABLE agg_memory_operation_minute RENAME TO agg_memory_operation_window;
ALTER INDEX agg_memory_operation_minute_pkey RENAME TO agg_memory_operation_window_pkey;
ALTER TABLE agg_biometric_minute RENAME TO agg_biometric_window;
ALTER INDEX agg_biometric_minute_pkey RENAME TO agg_biometric_window_pkey;
ALTER TABLE agg_system_health_minute RENAME TO agg_system_health_window;
ALTER INDEX agg_system_health_minute_pkey RENAME TO agg_system_health_window_pkey;
ALTER TABLE agg_conversation_minute RENAME TO agg_conversation_window;
ALTER INDEX agg_conversation_minute_pkey RENAME TO agg_conversation_window_pkey;
ALTER TABLE agg_performance_metric_minute RENAME TO agg_performance_metric_window;
ALTER INDEX agg_performance_metric_minute_pkey RENAME TO agg_performance_metric_window_pkey;
ALTER TABLE agg_trace_minute RENAME TO agg_trace_window;
ALTER INDEX agg_trace_minute_pkey RENAME TO agg_trace_window_pkey;
ALTER INDEX agg_trace_minute_trace RENAME TO agg_trace_window_trace;

CREATE TABLE agg_rollup_window (
  single       boolean PRIMARY KEY DEFAULT true CHECK (single),
  window_ms    bigint  NOT NULL CHECK (window_ms > 0),
  recorded_at  timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE agg_rollup_window;
ALTER TABLE agg_trace_window RENAME TO agg_trace_minute;
ALTER INDEX agg_trace_window_pkey RENAME TO agg_trace_minute_pkey;
ALTER INDEX agg_trace_window_trace RENAME TO agg_trace_minute_trace;
ALTER TABLE agg_performance_metric_window RENAME TO agg_performance_metric_minute;
ALTER INDEX agg_performance_metric_window_pkey RENAME TO agg_performance_metric_minute_pkey;
ALTER TABLE agg_conversation_window RENAME TO agg_conversation_minute;
ALTER INDEX agg_conversation_window_pkey RENAME TO agg_conversation_minute_pkey;
ALTER TABLE agg_system_health_window RENAME TO agg_system_health_minute;
ALTER INDEX agg_system_health_window_pkey RENAME TO agg_system_health_minute_pkey;
ALTER TABLE agg_biometric_window RENAME TO agg_biometric_minute;
ALTER INDEX agg_biometric_window_pkey RENAME TO agg_biometric_minute_pkey;
ALTER TABLE agg_memory_operation_window RENAME TO agg_memory_operation_minute;
ALTER INDEX agg_memory_operation_window_pkey RENAME TO agg_memory_operation_minute_pkey;
ALTER TABLE agg_decision_window RENAME TO agg_decision_minute;
ALTER INDEX agg_decision_window_pkey RENAME TO agg_decision_minute_pkey;
ALTER TABLE agg_knowledge_window RENAME TO agg_knowledge_minute;
ALTER INDEX agg_knowledge_window_pkey RENAME TO agg_knowledge_minute_pkey;
ALTER TABLE agg_hypothesis_window RENAME TO agg_hypothesis_minute;
ALTER INDEX agg_hypothesis_window_pkey RENAME TO agg_hypothesis_minute_pkey;
ALTER TABLE agg_edge_window RENAME TO agg_edge_minute;
ALTER INDEX agg_edge_window_pkey RENAME TO agg_edge_minute_pkey;
ALTER TABLE agg_memory_tier_window RENAME TO agg_memory_tier_minute;
ALTER INDEX agg_memory_tier_window_pkey RENAME TO agg_memory_tier_minute_pkey;
ALTER TABLE agg_user_window RENAME TO agg_user_minute;
ALTER INDEX agg_user_window_pkey RENAME TO agg_user_minute_pkey;
ALTER TABLE agg_tool_window RENAME TO agg_tool_minute;
ALTER INDEX agg_tool_window_pkey RENAME TO agg_tool_minute_pkey;
ALTER TABLE agg_llm_failure_window RENAME TO agg_llm_failure_minute;
ALTER INDEX agg_llm_failure_window_pkey RENAME TO agg_llm_failure_minute_pkey;
ALTER TABLE agg_llm_window RENAME TO agg_llm_minute;
ALTER INDEX agg_llm_window_pkey RENAME TO agg_llm_minute_pkey;
ALTER TABLE agg_event_window RENAME TO agg_event_minute;
ALTER INDEX agg_event_window_pkey RENAME TO agg_event_minute_pkey;
ALTER TABLE agg_agent_window RENAME TO agg_agent_minute;
ALTER INDEX agg_agent_window_pkey RENAME TO agg_agent_minute_pkey;
ALTER INDEX agg_agent_window_agent RENAME TO agg_agent_minute_agent;
