-- Up Migration
-- Aggregation rollups (processors/aggregation/README.md "Tables"). Times are UTC epoch
-- microseconds (bigint), as in the events; window_start_us is the start of a tumbling window of
-- AUREN_AGGREGATION_WINDOW_MS. Counters are additive; '' stands for "none" in key columns
-- (a primary key cannot hold NULL). Costs and latency sums are numeric(38, 18): exact sums of
-- values with at most 18 decimals (decimal.ts), one canonical text form whatever the order.

-- Exactly-once state: the next offset of each partition, written in the same transaction as
-- the rollups, with the partition's event clock (max event time applied; the watermark is
-- max_event_us minus the allowed lateness, stored too for inspection).
CREATE TABLE agg_offsets (
  group_id      text    NOT NULL,
  topic         text    NOT NULL,
  "partition"   integer NOT NULL,
  next_offset   bigint  NOT NULL,
  max_event_us  bigint,
  watermark_us  bigint,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, topic, "partition")
);

-- Up to where (group watermark, µs) the windows of a group were published to the outbox.
CREATE TABLE agg_window_emission (
  group_id          text   NOT NULL,
  topic             text   NOT NULL,
  emitted_until_us  bigint,
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, topic)
);

-- Input dedup: an event_id is applied once. Rows older than AUREN_AGGREGATION_SEEN_RETENTION_MS
-- (by seen_at, processing time) are purged.
CREATE TABLE agg_seen_events (
  event_id       uuid   PRIMARY KEY,
  event_time_us  bigint NOT NULL,
  seen_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX agg_seen_events_seen_at ON agg_seen_events (seen_at);

-- Per agent and window: the content of AgentMetricsWindow (CONTRACTS.md 3b).
CREATE TABLE agg_agent_minute (
  window_start_us           bigint  NOT NULL,
  agent_id                  text    NOT NULL,
  events                    bigint  NOT NULL DEFAULT 0,
  executions_started        bigint  NOT NULL DEFAULT 0,
  executions_succeeded      bigint  NOT NULL DEFAULT 0,
  executions_failed         bigint  NOT NULL DEFAULT 0,
  llm_calls_succeeded       bigint  NOT NULL DEFAULT 0,
  llm_calls_failed          bigint  NOT NULL DEFAULT 0,
  input_tokens              bigint  NOT NULL DEFAULT 0,
  output_tokens             bigint  NOT NULL DEFAULT 0,
  cost_usd                  numeric(38, 18) NOT NULL DEFAULT 0,
  tool_calls                bigint  NOT NULL DEFAULT 0,
  tool_failures             bigint  NOT NULL DEFAULT 0,
  errors                    bigint  NOT NULL DEFAULT 0,
  collaborations            bigint  NOT NULL DEFAULT 0,
  execution_latency_count   bigint  NOT NULL DEFAULT 0,
  execution_latency_sum_ms  numeric(38, 18) NOT NULL DEFAULT 0,
  llm_latency_count         bigint  NOT NULL DEFAULT 0,
  llm_latency_sum_ms        numeric(38, 18) NOT NULL DEFAULT 0,
  late_events               bigint  NOT NULL DEFAULT 0,
  PRIMARY KEY (window_start_us, agent_id)
);
CREATE INDEX agg_agent_minute_agent ON agg_agent_minute (agent_id, window_start_us);

-- LLM calls per agent, model, user ('' = none) and status (succeeded | failed).
CREATE TABLE agg_llm_minute (
  window_start_us      bigint  NOT NULL,
  agent_id             text    NOT NULL,
  model                text    NOT NULL,
  user_id              text    NOT NULL,
  status               text    NOT NULL,
  calls                bigint  NOT NULL DEFAULT 0,
  input_tokens         bigint  NOT NULL DEFAULT 0,
  output_tokens        bigint  NOT NULL DEFAULT 0,
  cached_input_tokens  bigint  NOT NULL DEFAULT 0,
  reasoning_tokens     bigint  NOT NULL DEFAULT 0,
  cost_usd             numeric(38, 18) NOT NULL DEFAULT 0,
  latency_count        bigint  NOT NULL DEFAULT 0,
  latency_sum_ms       numeric(38, 18) NOT NULL DEFAULT 0,
  PRIMARY KEY (window_start_us, agent_id, model, user_id, status)
);

-- Completed tool calls per agent, tool and status.
CREATE TABLE agg_tool_minute (
  window_start_us  bigint  NOT NULL,
  agent_id         text    NOT NULL,
  tool             text    NOT NULL,
  status           text    NOT NULL,
  calls            bigint  NOT NULL DEFAULT 0,
  cost_usd         numeric(38, 18) NOT NULL DEFAULT 0,
  latency_count    bigint  NOT NULL DEFAULT 0,
  latency_sum_ms   numeric(38, 18) NOT NULL DEFAULT 0,
  input_bytes      bigint  NOT NULL DEFAULT 0,
  output_bytes     bigint  NOT NULL DEFAULT 0,
  PRIMARY KEY (window_start_us, agent_id, tool, status)
);

-- Per user (events with a user_id only) and agent: tokens and cost of every event type.
CREATE TABLE agg_user_minute (
  window_start_us  bigint  NOT NULL,
  user_id          text    NOT NULL,
  agent_id         text    NOT NULL,
  events           bigint  NOT NULL DEFAULT 0,
  llm_calls        bigint  NOT NULL DEFAULT 0,
  input_tokens     bigint  NOT NULL DEFAULT 0,
  output_tokens    bigint  NOT NULL DEFAULT 0,
  cost_usd         numeric(38, 18) NOT NULL DEFAULT 0,
  PRIMARY KEY (window_start_us, user_id, agent_id)
);

-- Memory tiers: each tier tried is an access (hit or miss, with its latency); served = answered.
CREATE TABLE agg_memory_tier_minute (
  window_start_us  bigint  NOT NULL,
  tier             text    NOT NULL,
  accesses         bigint  NOT NULL DEFAULT 0,
  hits             bigint  NOT NULL DEFAULT 0,
  misses           bigint  NOT NULL DEFAULT 0,
  served           bigint  NOT NULL DEFAULT 0,
  latency_count    bigint  NOT NULL DEFAULT 0,
  latency_sum_ms   numeric(38, 18) NOT NULL DEFAULT 0,
  PRIMARY KEY (window_start_us, tier)
);

-- Edges between agents: kind collaboration (primary → each partner) or handoff (from → to).
-- Consensus rate = consensus_reached / consensus_known; mean resolution = sum / count.
CREATE TABLE agg_edge_minute (
  window_start_us         bigint  NOT NULL,
  from_agent              text    NOT NULL,
  to_agent                text    NOT NULL,
  kind                    text    NOT NULL,
  count                   bigint  NOT NULL DEFAULT 0,
  consensus_known         bigint  NOT NULL DEFAULT 0,
  consensus_reached       bigint  NOT NULL DEFAULT 0,
  resolution_count        bigint  NOT NULL DEFAULT 0,
  resolution_sum_ms       numeric(38, 18) NOT NULL DEFAULT 0,
  knowledge_items_shared  bigint  NOT NULL DEFAULT 0,
  PRIMARY KEY (window_start_us, from_agent, to_agent, kind)
);

-- Hypothesis events per agent, domain and the status they set.
CREATE TABLE agg_hypothesis_minute (
  window_start_us  bigint NOT NULL,
  agent_id         text   NOT NULL,
  domain           text   NOT NULL,
  status           text   NOT NULL,
  events           bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (window_start_us, agent_id, domain, status)
);

-- Latest status of each hypothesis: the event with the greatest (status_time_us, event_id).
CREATE TABLE agg_hypothesis_state (
  hypothesis_id   text   PRIMARY KEY,
  agent_id        text   NOT NULL,
  domain          text   NOT NULL,
  status          text   NOT NULL,
  status_time_us  bigint NOT NULL,
  event_id        uuid   NOT NULL
);

-- Knowledge heatmap: accesses per item and agent.
CREATE TABLE agg_knowledge_minute (
  window_start_us  bigint NOT NULL,
  item_id          text   NOT NULL,
  agent_id         text   NOT NULL,
  domain           text   NOT NULL,
  accesses         bigint NOT NULL DEFAULT 0,
  found            bigint NOT NULL DEFAULT 0,
  items_retrieved  bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (window_start_us, item_id, agent_id, domain)
);

-- Mergeable latency histograms (histogram.ts buckets): metric execution | llm | tool |
-- memory_tier | collaboration_resolution; dim = model, tool, tier or ''.
CREATE TABLE agg_latency_histogram (
  window_start_us  bigint  NOT NULL,
  metric           text    NOT NULL,
  agent_id         text    NOT NULL,
  dim              text    NOT NULL,
  bucket           integer NOT NULL,
  count            bigint  NOT NULL DEFAULT 0,
  PRIMARY KEY (window_start_us, metric, agent_id, dim, bucket)
);
CREATE INDEX agg_latency_histogram_agent ON agg_latency_histogram (metric, agent_id, window_start_us);

-- Activity per agent (active agents, last activity, current load). last_processed_at is
-- processing time (the only column that differs between two runs over the same input).
CREATE TABLE agg_agent_activity (
  agent_id               text   PRIMARY KEY,
  first_seen_us          bigint NOT NULL,
  last_seen_us           bigint NOT NULL,
  last_event_type        text   NOT NULL,
  last_event_id          uuid   NOT NULL,
  events                 bigint NOT NULL DEFAULT 0,
  executions_in_flight   bigint NOT NULL DEFAULT 0,
  llm_calls_in_flight    bigint NOT NULL DEFAULT 0,
  last_processed_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX agg_agent_activity_processed ON agg_agent_activity (last_processed_at);

-- Transactional outbox of AgentMetricsWindow records for auren.agent-metrics.v1 (key agent_id).
-- reason: closed (the group watermark passed the window) or late_update (published again).
CREATE TABLE agg_outbox (
  id               bigserial PRIMARY KEY,
  group_id         text   NOT NULL,
  agent_id         text   NOT NULL,
  window_start_us  bigint NOT NULL,
  reason           text   NOT NULL CHECK (reason IN ('closed', 'late_update')),
  payload          jsonb  NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  published_at     timestamptz
);
CREATE INDEX agg_outbox_pending ON agg_outbox (id) WHERE published_at IS NULL;

-- Down Migration
DROP TABLE agg_outbox;
DROP TABLE agg_agent_activity;
DROP TABLE agg_latency_histogram;
DROP TABLE agg_knowledge_minute;
DROP TABLE agg_hypothesis_state;
DROP TABLE agg_hypothesis_minute;
DROP TABLE agg_edge_minute;
DROP TABLE agg_memory_tier_minute;
DROP TABLE agg_user_minute;
DROP TABLE agg_tool_minute;
DROP TABLE agg_llm_minute;
DROP TABLE agg_agent_minute;
DROP TABLE agg_seen_events;
DROP TABLE agg_window_emission;
DROP TABLE agg_offsets;
