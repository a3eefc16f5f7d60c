/**
 * Checks a JSON batch of `AgentEvent`s posted to `POST /v1/events` (pure; CONTRACTS.md section 2).
 *
 * Body: `{ "events": [AgentEvent, …] }` (or a bare array). Each event is the domain shape
 * (`schemas/agent-event.ts` `AgentEvent`: `payload` unwrapped, typed by `event_type`, timestamps
 * epoch µs); optional fields may be left out and take their Avro default (null, `{}`, the
 * payload's defaults). Every item is checked on its own, with the rules the pipeline applies:
 * 1. shape: a JSON object of the Avro schema `auren.events.AgentEvent` (unknown fields, wrong
 *    types, missing required fields refused; each problem with its path);
 * 2. the semantic rules of enrichment's validation (`schemas/validate-event.ts` `validateEvent`,
 *    the same function enrichment dead-letters with), so what is accepted here is never
 *    dead-lettered as VALIDATION_FAILED later (unless its timestamp drifts past the future skew
 *    in between).
 * Valid items are returned as Avro records ready to encode; rejected ones with their reasons.
 */
import avro from 'avsc'
import { AVSC_OPTIONS, loadSchema, PAYLOAD_RECORD, toAgentEventRecord, type AgentEvent, type AgentEventRecord } from '../../schemas/index.ts'
import { validateEvent } from '../../schemas/validate-event.ts'

/** Why an item was refused (the `reason` label of auren_ingest_events_rejected_total). */
export type RejectReason = 'not_an_object' | 'unknown_event_type' | 'schema' | 'validation'

/** A valid item: its index in the batch and its record. */
export interface AcceptedItem {
  readonly index: number
  readonly event: AgentEvent
  readonly record: AgentEventRecord
}

/** A refused item. */
export interface RejectedItem {
  readonly index: number
  /** The item's event_id when it has a string one (to correlate), else null. */
  readonly eventId: string | null
  readonly reason: RejectReason
  /** One sentence per problem, naming the field. */
  readonly errors: readonly string[]
}

/** Options of {@link checkEventBatch}. */
export interface BatchOptions {
  /** Processing clock, epoch ms. */
  readonly nowMs: number
  /** Max distance an event may be ahead of nowMs, ms (enrichment's AUREN_ENRICHMENT_MAX_FUTURE_SKEW_MS, 24 h by default). */
  readonly maxFutureSkewMs: number
  /** Most events per batch. */
  readonly maxEvents: number
}

/** A body that is not a batch at all (the whole request is a 400). */
export class BatchShapeError extends Error {
  override readonly name = 'BatchShapeError'
}

let agentEventType: avro.types.RecordType | null = null
function eventType(): avro.types.RecordType {
  agentEventType ??= avro.Type.forSchema(loadSchema('agent-event'), { ...AVSC_OPTIONS }) as avro.types.RecordType
  return agentEventType
}

/**
 * Splits a batch into valid and refused items.
 * @param body the parsed JSON body
 * @throws BatchShapeError when the body is not `{ events: [...] }` or an array, is empty, or holds more than `maxEvents`
 */
export function checkEventBatch(body: unknown, o: BatchOptions): { accepted: AcceptedItem[]; rejected: RejectedItem[] } {
  const items = Array.isArray(body) ? body : typeof body === 'object' && body !== null && Array.isArray((body as { events?: unknown }).events) ? (body as { events: unknown[] }).events : null
  if (items === null) throw new BatchShapeError('the body must be a JSON object {"events": [AgentEvent, ...]} or a JSON array of AgentEvents')
  if (items.length === 0) throw new BatchShapeError('the batch holds no event')
  if (items.length > o.maxEvents) throw new BatchShapeError(`the batch holds ${items.length} events, more than ${o.maxEvents}; split it`)
  const accepted: AcceptedItem[] = []
  const rejected: RejectedItem[] = []
  items.forEach((item, index) => {
    const r = checkItem(item, o)
    if ('reason' in r) rejected.push({ index, ...r })
    else accepted.push({ index, ...r })
  })
  return { accepted, rejected }
}

/**
 * Checks one event object (shape, defaults, enrichment's rules): the accepted event and record,
 * or the refusal with its reasons. Used for JSON items and for events mapped from OTLP spans.
 */
export function checkEvent(item: unknown, o: Omit<BatchOptions, 'maxEvents'>): { event: AgentEvent; record: AgentEventRecord } | Omit<RejectedItem, 'index'> {
  return checkItem(item, o)
}

function checkItem(item: unknown, o: Omit<BatchOptions, 'maxEvents'>): { event: AgentEvent; record: AgentEventRecord } | Omit<RejectedItem, 'index'> {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return { eventId: null, reason: 'not_an_object', errors: ['an event must be a JSON object'] }
  const raw = item as Record<string, unknown>
  const eventId = typeof raw.event_id === 'string' ? raw.event_id : null
  const eventTypeName = raw.event_type
  if (typeof eventTypeName !== 'string' || !Object.hasOwn(PAYLOAD_RECORD, eventTypeName)) {
    return { eventId, reason: 'unknown_event_type', errors: [`event_type must be one of ${Object.keys(PAYLOAD_RECORD).join(', ')}, got ${JSON.stringify(eventTypeName)}`] }
  }
  const type = eventType()
  let record: AgentEventRecord
  try {
    record = toAgentEventRecord(raw as unknown as AgentEvent)
  } catch (err) {
    return { eventId, reason: 'unknown_event_type', errors: [(err as Error).message] }
  }
  const errors: string[] = []
  const filled = fillDefaults(type, record, '', errors) as AgentEventRecord
  if (errors.length === 0) {
    type.isValid(filled, {
      errorHook: (path, value, t) => errors.push(`${path.join('.').replace(/\.auren\.events\.\w+Payload/, '') || '(event)'} must be ${describeType(t)}, got ${JSON.stringify(value)?.slice(0, 80)}`),
    })
  }
  if (errors.length > 0) return { eventId, reason: 'schema', errors }
  const event = { ...filled, payload: (filled.payload as Record<string, unknown>)[PAYLOAD_RECORD[eventTypeName as AgentEvent['event_type']]] } as unknown as AgentEvent
  const violations = validateEvent(event, { nowMs: o.nowMs, maxFutureSkewMs: o.maxFutureSkewMs })
  if (violations.length > 0) return { eventId, reason: 'validation', errors: violations.map((v) => v.message) }
  return { event, record: filled }
}

function describeType(t: avro.Type): string {
  const name = t.typeName
  if (name === 'union:unwrapped' || name === 'union:wrapped') return (t as unknown as { types: avro.Type[] }).types.map(describeType).join(' or ')
  if (name === 'logical:timestamp-micros') return 'epoch microseconds (long)'
  if (name === 'logical:uuid') return 'a UUID string'
  if (name === 'enum') return `one of ${(t as avro.types.EnumType).symbols.join(', ')}`
  if (name === 'record') return 'an object'
  return name === 'long' || name === 'int' ? 'an integer' : name
}

/**
 * A copy of `value` with missing (undefined) fields of every record set to their Avro default;
 * fields the schema does not declare are reported in `errors` (with their path).
 */
function fillDefaults(type: avro.Type, value: unknown, path: string, errors: string[]): unknown {
  if (value === undefined || value === null) return value
  const at = (name: string) => (path === '' ? name : `${path}.${name}`)
  switch (type.typeName) {
    case 'record':
    case 'error': {
      if (typeof value !== 'object' || Array.isArray(value)) return value
      const rec = type as avro.types.RecordType
      const v = value as Record<string, unknown>
      const out: Record<string, unknown> = {}
      for (const name of Object.keys(v)) if (!rec.fields.some((f) => f.name === name)) errors.push(`${at(name)} is not a field of ${rec.name?.replace(/^auren\.events\./, '') ?? 'the record'}`)
      for (const f of rec.fields) {
        const given = v[f.name]
        const filled = given === undefined ? f.defaultValue() : fillDefaults(f.type, given, at(f.name), errors)
        if (filled !== undefined) out[f.name] = filled
      }
      return out
    }
    case 'union:unwrapped': {
      const branches = (type as unknown as { types: avro.Type[] }).types.filter((t) => t.typeName !== 'null')
      return branches.length === 1 ? fillDefaults(branches[0]!, value, path, errors) : value
    }
    case 'union:wrapped': {
      if (typeof value !== 'object' || Array.isArray(value)) return value
      const [branch, inner] = Object.entries(value as Record<string, unknown>)[0] ?? []
      const t = (type as unknown as { types: avro.Type[] }).types.find((x) => x.branchName === branch)
      return t && branch ? { [branch]: fillDefaults(t, inner, path, errors) } : value
    }
    case 'array':
      return Array.isArray(value) ? value.map((x, i) => fillDefaults((type as avro.types.ArrayType).itemsType, x, `${path}[${i}]`, errors)) : value
    case 'map':
      return typeof value === 'object' && !Array.isArray(value)
        ? Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, x]) => [k, fillDefaults((type as avro.types.MapType).valuesType, x, at(k), errors)]))
        : value
    default:
      return value
  }
}
