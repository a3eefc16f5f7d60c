/**
 * Pure mapping of an input record (enriched event or alert) to one archive row
 * (schemas/archive-parquet.ts) and of a row to its hive partition.
 */
import type { Alert, EnrichedAgentEvent, Tier } from '../../schemas/index.ts'

/**
 * Where a record was read: topic, partition, offset (Kafka's decimal string). The archive writer
 * sets these columns from the flushed record's coordinates (io/archive-writer.ts).
 */
export interface SourcePosition {
  readonly topic: string
  readonly partition: number
  readonly offset: string
}

/**
 * One archive row, the columns of ARCHIVE_COLUMNS. Times are UTC epoch microseconds (exact
 * in a double until year 2255); token counts and offsets are bigint (INT64).
 */
export interface ArchiveRow {
  record_kind: 'event' | 'alert'
  event_id: string
  event_time: number
  event_type: string
  tier: Tier
  trace_id: string | null
  session_id: string | null
  parent_event_id: string | null
  agent_id: string | null
  agent_role: string | null
  agent_domain: string | null
  target_agent_id: string | null
  user_id: string | null
  source: string | null
  model: string | null
  provider: string | null
  input_tokens: bigint | null
  output_tokens: bigint | null
  cost_usd: number | null
  cost_source: string | null
  pricing_ref: string | null
  latency_ms: number | null
  success: boolean | null
  error_type: string | null
  severity: string | null
  enriched_at: number | null
  payload: string
  attributes: Record<string, string>
  source_topic: string
  source_partition: number
  source_offset: bigint
}

/** What the archival transform emits for one input record: its archive row. */
export interface ArchiveOutput {
  readonly row: ArchiveRow
}

/** Hive partition of a row: UTC date `YYYY-MM-DD`, hour 0–23, tier. */
export interface ArchivePartition {
  readonly date: string
  readonly hour: number
  readonly tier: Tier
}

/** Source position of a row not yet placed (the writer fills it in). */
const UNPLACED: SourcePosition = { topic: '', partition: -1, offset: '0' }

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)
const big = (v: unknown): bigint | null => (typeof v === 'number' && Number.isFinite(v) ? BigInt(Math.trunc(v)) : null)

/** An enriched event as an archive row. */
export function eventRow(e: EnrichedAgentEvent, at: SourcePosition = UNPLACED): ArchiveRow {
  const ev = e.event
  const p = ev.payload as unknown as Record<string, unknown>
  const isLlm = ev.event_type === 'llm_call_started' || ev.event_type === 'llm_call_completed'
  return {
    record_kind: 'event',
    event_id: ev.event_id,
    event_time: ev.timestamp,
    event_type: ev.event_type,
    tier: e.tier,
    trace_id: ev.trace_id,
    session_id: ev.session_id,
    parent_event_id: ev.parent_event_id,
    agent_id: ev.source_agent?.id ?? null,
    agent_role: ev.source_agent?.role ?? null,
    agent_domain: e.agent_domain ?? ev.source_agent?.domain ?? null,
    target_agent_id: ev.target_agent?.id ?? null,
    user_id: ev.user_id,
    source: ev.source,
    model: isLlm ? str(p.model) : null,
    provider: isLlm ? str(p.provider) : null,
    input_tokens: isLlm ? big(p.input_tokens) : null,
    output_tokens: isLlm ? big(p.output_tokens) : null,
    cost_usd: e.cost_usd,
    cost_source: e.cost_source,
    pricing_ref: e.pricing_ref,
    latency_ms: ev.performance?.latency_ms ?? num(p.latency_ms),
    success: ev.performance?.success ?? (typeof p.success === 'boolean' ? p.success : null),
    error_type: ev.performance?.error_type ?? str(p.error_type),
    severity: null,
    enriched_at: e.enriched_at,
    payload: JSON.stringify(ev.payload),
    attributes: { ...ev.attributes },
    source_topic: at.topic,
    source_partition: at.partition,
    source_offset: BigInt(at.offset),
  }
}

/** Tier of an alert: severity critical → critical, warning → operational, info → analytical. */
export function alertTier(severity: Alert['severity']): Tier {
  return severity === 'critical' ? 'critical' : severity === 'warning' ? 'operational' : 'analytical'
}

/** An alert as an archive row; its id is `alert:<fingerprint>:<status>:<starts_at>`. */
export function alertRow(a: Alert, at: SourcePosition = UNPLACED): ArchiveRow {
  return {
    record_kind: 'alert',
    event_id: `alert:${a.fingerprint}:${a.status}:${a.starts_at}`,
    event_time: a.status === 'resolved' && a.ends_at !== null ? a.ends_at : a.starts_at,
    event_type: 'alert',
    tier: alertTier(a.severity),
    trace_id: null,
    session_id: null,
    parent_event_id: null,
    agent_id: a.labels.agent ?? null,
    agent_role: null,
    agent_domain: null,
    target_agent_id: null,
    user_id: a.labels.user_id ?? null,
    source: null,
    model: a.labels.model ?? null,
    provider: null,
    input_tokens: null,
    output_tokens: null,
    cost_usd: null,
    cost_source: null,
    pricing_ref: null,
    latency_ms: null,
    success: null,
    error_type: null,
    severity: a.severity,
    enriched_at: null,
    payload: JSON.stringify(a),
    attributes: { ...a.labels },
    source_topic: at.topic,
    source_partition: at.partition,
    source_offset: BigInt(at.offset),
  }
}

/** The hive partition of a row, from its event time (UTC). */
export function partitionOf(row: Pick<ArchiveRow, 'event_time' | 'tier'>): ArchivePartition {
  const d = new Date(Math.floor(row.event_time / 1000))
  return { date: d.toISOString().slice(0, 10), hour: d.getUTCHours(), tier: row.tier }
}

/**
 * Rough in-memory size of a row in bytes (payload, attributes and fixed columns), for the
 * flush-by-bytes policy; not the Parquet size.
 */
export function rowBytes(row: ArchiveRow): number {
  let n = 200 + row.payload.length + row.event_id.length + (row.trace_id?.length ?? 0)
  for (const [k, v] of Object.entries(row.attributes)) n += k.length + v.length + 8
  return n
}
