/**
 * The Parquet schema of the archive (contract between the archival processor, `auren query`
 * and any external reader such as DuckDB, pyarrow or Spark). Documented for humans in
 * `schemas/archive-parquet.md`; a unit test keeps the two in step.
 *
 * One row per archived record: an enriched event (`record_kind = 'event'`) from
 * `auren.agent-events.enriched.v1` or an alert (`record_kind = 'alert'`) from `auren.alerts.v1`.
 *
 * Type choices:
 * - times are `TIMESTAMP(MICROS, isAdjustedToUTC=true)`: the Avro input is `timestamp-micros`,
 *   so nothing is lost; DuckDB reads them as `TIMESTAMP WITH TIME ZONE`.
 * - token counts are INT64 (sums over a long archive exceed 2^31).
 * - cost is DOUBLE (USD), not DECIMAL: enrichment computes it as an IEEE double
 *   (`cost_usd` is an Avro `double`), so a DECIMAL column would claim a precision the source
 *   does not have; the exact ledgers are the PostgreSQL rollups (NUMERIC).
 * - the payload is JSON text (UTF8) so that every event type fits one schema; attributes are a
 *   `MAP<STRING, STRING>`.
 * - `date`, `hour` and `tier` are also the hive partition keys of the object key
 *   (`events/date=YYYY-MM-DD/hour=HH/tier=<tier>/…`); `tier` is also a column, `date` and
 *   `hour` come from the path (typed DATE and INTEGER by the `events` view).
 */

/** Parquet physical/logical type of an archive column, as written. */
export type ArchiveColumnType =
  | 'STRING'
  | 'INT32'
  | 'INT64'
  | 'DOUBLE'
  | 'BOOLEAN'
  | 'TIMESTAMP(MICROS, UTC)'
  | 'MAP<STRING, STRING>'

/** One column of the archive schema. */
export interface ArchiveColumn {
  readonly name: string
  readonly type: ArchiveColumnType
  /** False when every row has a value. */
  readonly nullable: boolean
  readonly doc: string
}

/** The columns in file order. */
export const ARCHIVE_COLUMNS = [
  { name: 'record_kind', type: 'STRING', nullable: false, doc: "'event' (enriched agent event) or 'alert'" },
  { name: 'event_id', type: 'STRING', nullable: false, doc: "unique id: the event's UUID; for an alert 'alert:<fingerprint>:<status>:<starts_at µs>'" },
  { name: 'event_time', type: 'TIMESTAMP(MICROS, UTC)', nullable: false, doc: "event time (an alert's starts_at, or ends_at once resolved); decides date and hour" },
  { name: 'event_type', type: 'STRING', nullable: false, doc: "the AgentEvent event_type, or 'alert'" },
  { name: 'tier', type: 'STRING', nullable: false, doc: 'critical, operational or analytical (alerts: critical → critical, warning → operational, info → analytical)' },
  { name: 'trace_id', type: 'STRING', nullable: true, doc: 'trace (run, request, conversation); null for alerts' },
  { name: 'session_id', type: 'STRING', nullable: true, doc: 'session of the agent system' },
  { name: 'parent_event_id', type: 'STRING', nullable: true, doc: 'causing event' },
  { name: 'agent_id', type: 'STRING', nullable: true, doc: "source agent id (alerts: the 'agent' label)" },
  { name: 'agent_role', type: 'STRING', nullable: true, doc: 'source agent role' },
  { name: 'agent_domain', type: 'STRING', nullable: true, doc: 'domain from the event or enrichment' },
  { name: 'target_agent_id', type: 'STRING', nullable: true, doc: 'target agent id (handoffs, delegations)' },
  { name: 'user_id', type: 'STRING', nullable: true, doc: 'end user the work is for' },
  { name: 'source', type: 'STRING', nullable: true, doc: 'origin system (chatdev, simulator, ...); null for alerts' },
  { name: 'model', type: 'STRING', nullable: true, doc: "LLM model of llm_call_* events (alerts: the 'model' label)" },
  { name: 'provider', type: 'STRING', nullable: true, doc: 'LLM provider' },
  { name: 'input_tokens', type: 'INT64', nullable: true, doc: 'prompt tokens of llm_call_* events' },
  { name: 'output_tokens', type: 'INT64', nullable: true, doc: 'completion tokens of llm_call_* events' },
  { name: 'cost_usd', type: 'DOUBLE', nullable: true, doc: 'cost in USD from enrichment (DOUBLE, see above); null when nothing was priced' },
  { name: 'cost_source', type: 'STRING', nullable: true, doc: 'reported, computed or unknown_model' },
  { name: 'pricing_ref', type: 'STRING', nullable: true, doc: 'which price and version was used' },
  { name: 'latency_ms', type: 'DOUBLE', nullable: true, doc: 'latency in ms (performance.latency_ms, or the payload latency)' },
  { name: 'success', type: 'BOOLEAN', nullable: true, doc: 'performance.success, or the payload success' },
  { name: 'error_type', type: 'STRING', nullable: true, doc: 'error class when not successful' },
  { name: 'severity', type: 'STRING', nullable: true, doc: 'alerts only: critical, warning, info' },
  { name: 'enriched_at', type: 'TIMESTAMP(MICROS, UTC)', nullable: true, doc: 'when enrichment processed the event; null for alerts' },
  { name: 'payload', type: 'STRING', nullable: false, doc: 'JSON text: the event payload without the Avro union wrapper, or the whole alert' },
  { name: 'attributes', type: 'MAP<STRING, STRING>', nullable: false, doc: 'event attributes (alerts: labels)' },
  { name: 'source_topic', type: 'STRING', nullable: false, doc: 'Kafka topic the record was read from' },
  { name: 'source_partition', type: 'INT32', nullable: false, doc: 'its partition' },
  { name: 'source_offset', type: 'INT64', nullable: false, doc: 'its offset' },
] as const satisfies readonly ArchiveColumn[]

/** Name of an archive column. */
export type ArchiveColumnName = (typeof ARCHIVE_COLUMNS)[number]['name']

/** Hive partition keys of the object key, in path order, with the type the `events` view gives them. */
export const ARCHIVE_PARTITION_KEYS = [
  { name: 'date', duckdbType: 'DATE', doc: 'UTC date of event_time, YYYY-MM-DD' },
  { name: 'hour', duckdbType: 'INTEGER', doc: 'UTC hour of event_time, 00–23 (zero-padded in the path)' },
  { name: 'tier', duckdbType: 'VARCHAR', doc: 'the tier column' },
] as const
