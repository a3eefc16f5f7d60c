import avro from 'avsc'

/**
 * Keeps a logical type's underlying value as it is (a timestamp stays epoch microseconds as a
 * number, a uuid stays a string) while keeping the `logicalType` attribute in exported schemas.
 * Epoch microseconds stay below 2^53 until the year 2255, so a JS number holds them exactly.
 */
class PassThroughLogicalType extends avro.types.LogicalType {
  override _fromValue(value: unknown): unknown {
    return value
  }
  override _toValue(value: unknown): unknown {
    return value
  }
  /** Reads a writer value of the same underlying Avro type, logical or not. */
  override _resolve(type: avro.Type): ((value: unknown) => unknown) | undefined {
    const underlying = (t: avro.Type) => (t instanceof PassThroughLogicalType ? (t as unknown as { underlyingType: avro.Type }).underlyingType : t)
    return underlying(type).typeName === underlying(this).typeName ? (value: unknown) => value : undefined
  }
}

/**
 * How avsc parses our schemas, shared by the generator, the serde and the tests so that the
 * decoded shape always matches `schemas/generated/types.ts`.
 *
 * `wrapUnions: 'auto'`: a union of null and one type decodes to the plain value or null; the
 * AgentEvent payload union (many record branches) decodes wrapped, `{ 'auren.events.X': {...} }`.
 * `schemas/event-payloads.ts` converts between that and the plain payload keyed by `event_type`.
 */
export const AVSC_OPTIONS = {
  wrapUnions: 'auto',
  logicalTypes: {
    'timestamp-micros': PassThroughLogicalType,
    'timestamp-millis': PassThroughLogicalType,
    uuid: PassThroughLogicalType,
  },
} as const

/**
 * The value schema of each topic family: generated file stem → Avro full name.
 * Each is registered under `<topic>-value` (TopicNameStrategy, CONTRACTS.md section 1).
 */
export const ROOT_SCHEMAS = {
  'agent-event': 'auren.events.AgentEvent',
  'enriched-agent-event': 'auren.events.EnrichedAgentEvent',
  'agent-metrics-window': 'auren.metrics.AgentMetricsWindow',
  alert: 'auren.alerts.Alert',
  'alert-partial': 'auren.alerts.AlertPartial',
} as const

/** Stem of a generated root schema file. */
export type RootSchemaName = keyof typeof ROOT_SCHEMAS
