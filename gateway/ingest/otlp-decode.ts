/**
 * Decodes OTLP/HTTP trace export requests (OTLP specification 1.x, `ExportTraceServiceRequest`)
 * into flat spans, from protobuf (`application/x-protobuf`) or the OTLP JSON encoding
 * (`application/json`: lowerCamelCase fields, trace and span ids as hex, 64-bit integers as
 * strings or numbers, enums as integers), and encodes the response in the request's encoding.
 *
 * Protobuf is decoded with maintained code: the protobufjs static module generated from the
 * OTLP .proto files that `@opentelemetry/otlp-transformer` 0.200.0 ships (installed under the
 * alias `otlp-proto-root`; later versions dropped the request decoder, see RECIPES.md "OTLP").
 */
import { createRequire } from 'node:module'

/** An attribute value as decoded (AnyValue flattened: arrays and maps as JS arrays and objects). */
export type AttrValue = string | number | boolean | null | AttrValue[] | { [k: string]: AttrValue }

/** One span with its resource's attributes. Times are epoch µs (the nanoseconds divided by 1000). */
export interface OtlpSpan {
  /** 32 lower-case hex digits. */
  readonly traceId: string
  /** 16 lower-case hex digits. */
  readonly spanId: string
  /** 16 hex digits, or '' for a root span. */
  readonly parentSpanId: string
  readonly name: string
  readonly startUs: number
  readonly endUs: number
  readonly attributes: Readonly<Record<string, AttrValue>>
  /** 0 unset, 1 ok, 2 error. */
  readonly statusCode: number
  readonly statusMessage: string
  readonly links: readonly { readonly traceId: string; readonly spanId: string; readonly attributes: Readonly<Record<string, AttrValue>> }[]
  readonly resource: Readonly<Record<string, AttrValue>>
}

/** A request that does not decode (the answer is 400). */
export class OtlpDecodeError extends Error {
  override readonly name = 'OtlpDecodeError'
}

interface ProtoType {
  decode(buf: Uint8Array): unknown
  toObject(msg: unknown, o: Record<string, unknown>): Record<string, unknown>
  encode(msg: unknown): { finish(): Uint8Array }
  fromObject(o: Record<string, unknown>): unknown
}
const require = createRequire(import.meta.url)
const proto = (require('otlp-proto-root/build/src/generated/root.js') as { opentelemetry: { proto: { collector: { trace: { v1: Record<string, ProtoType> } } } } }).opentelemetry.proto.collector.trace.v1

const hex = (v: unknown): string => {
  if (v === undefined || v === null || v === '') return ''
  if (typeof v === 'string') return v.toLowerCase() // JSON: hex already
  return Buffer.from(v as Uint8Array).toString('hex')
}
const usOfNanos = (v: unknown): number => {
  if (v === undefined || v === null || v === '') return 0
  return Number(BigInt(String(v)) / 1000n)
}

function anyValue(v: Record<string, unknown> | undefined): AttrValue {
  if (!v) return null
  if ('stringValue' in v) return String(v.stringValue)
  if ('boolValue' in v) return Boolean(v.boolValue)
  if ('intValue' in v) return Number(v.intValue)
  if ('doubleValue' in v) return Number(v.doubleValue)
  if ('arrayValue' in v) return ((v.arrayValue as { values?: Record<string, unknown>[] }).values ?? []).map(anyValue)
  if ('kvlistValue' in v) return attributes((v.kvlistValue as { values?: unknown[] }).values)
  if ('bytesValue' in v) return hex(v.bytesValue)
  return null
}

function attributes(list: unknown): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {}
  for (const kv of (Array.isArray(list) ? list : []) as { key?: unknown; value?: Record<string, unknown> }[]) {
    if (typeof kv?.key === 'string') out[kv.key] = anyValue(kv.value)
  }
  return out
}

/** Flattens a request object (protobufjs toObject output or parsed OTLP JSON). */
function flatten(req: Record<string, unknown>): OtlpSpan[] {
  const rs = req.resourceSpans
  if (rs !== undefined && !Array.isArray(rs)) throw new OtlpDecodeError('resourceSpans must be an array')
  const out: OtlpSpan[] = []
  for (const r of (rs ?? []) as Record<string, unknown>[]) {
    const resource = attributes((r.resource as { attributes?: unknown } | undefined)?.attributes)
    for (const ss of ((r.scopeSpans ?? []) as Record<string, unknown>[])) {
      for (const s of ((ss.spans ?? []) as Record<string, unknown>[])) {
        const status = (s.status ?? {}) as { code?: unknown; message?: unknown }
        out.push({
          traceId: hex(s.traceId),
          spanId: hex(s.spanId),
          parentSpanId: hex(s.parentSpanId),
          name: typeof s.name === 'string' ? s.name : '',
          startUs: usOfNanos(s.startTimeUnixNano),
          endUs: usOfNanos(s.endTimeUnixNano),
          attributes: attributes(s.attributes),
          statusCode: typeof status.code === 'number' ? status.code : status.code === 'STATUS_CODE_ERROR' ? 2 : status.code === 'STATUS_CODE_OK' ? 1 : 0,
          statusMessage: typeof status.message === 'string' ? status.message : '',
          links: ((s.links ?? []) as Record<string, unknown>[]).map((l) => ({ traceId: hex(l.traceId), spanId: hex(l.spanId), attributes: attributes(l.attributes) })),
          resource,
        })
      }
    }
  }
  return out
}

/**
 * The spans of a request body.
 * @param body a Buffer (protobuf) or the parsed JSON object
 * @throws OtlpDecodeError when the body is not an ExportTraceServiceRequest
 */
export function decodeTraceRequest(body: unknown, encoding: 'protobuf' | 'json'): OtlpSpan[] {
  try {
    if (encoding === 'protobuf') {
      if (!Buffer.isBuffer(body)) throw new OtlpDecodeError('a protobuf body is required')
      const T = proto.ExportTraceServiceRequest!
      return flatten(T.toObject(T.decode(body), { longs: String, defaults: false }))
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new OtlpDecodeError('the JSON body must be an ExportTraceServiceRequest object')
    return flatten(body as Record<string, unknown>)
  } catch (err) {
    if (err instanceof OtlpDecodeError) throw err
    throw new OtlpDecodeError(`not an OTLP ExportTraceServiceRequest: ${(err as Error).message}`)
  }
}

/** The ExportTraceServiceResponse, with `partialSuccess` when spans were rejected, in the request's encoding. */
export function encodeTraceResponse(rejectedSpans: number, errorMessage: string, encoding: 'protobuf' | 'json'): Buffer | Record<string, unknown> {
  const body = rejectedSpans > 0 || errorMessage !== '' ? { partialSuccess: { rejectedSpans, errorMessage } } : {}
  if (encoding === 'json') return body
  const T = proto.ExportTraceServiceResponse!
  return Buffer.from(T.encode(T.fromObject(body)).finish())
}
