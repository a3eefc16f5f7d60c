/**
 * Schema Registry wire format (Confluent): byte 0 = magic 0, bytes 1-4 = schema id (big-endian
 * int32), then the Avro binary body. The registry client (@kafkajs/confluent-schema-registry)
 * registers schemas and fetches writer schemas by id (it caches them); decoding resolves the
 * writer schema into our reader schema (Avro schema resolution), so records written with an
 * older or newer compatible schema decode into the shape of `schemas/generated/types.ts`.
 */
import { SchemaRegistry, SchemaType, COMPATIBILITY } from '@kafkajs/confluent-schema-registry'
import avro from 'avsc'
import { AVSC_OPTIONS, loadSchema, valueSubject, type RootSchemaName } from '../../../schemas/index.ts'
import { projectSchema, type FieldProjection } from '../../../schemas/projection.ts'
import { AurenError } from '../ops/errors.ts'

const MAGIC_BYTE = 0
const HEADER_BYTES = 5

/** Encodes and decodes the values of topics by their schema family. */
export interface Serde {
  /**
   * Registers `schema`'s value schema under `<topic>-value` (compatibility BACKWARD) and
   * returns its id; later calls for the same topic return the cached id.
   * @throws AurenError AUREN_ERR_REGISTRY_UNAVAILABLE (retriable) when the registry is down,
   *   or AUREN_ERR_CONFIG when the registry refuses the schema as incompatible.
   */
  register(topic: string, schema: RootSchemaName): Promise<number>
  /** Encodes value in wire format with the id from `register`. @throws Error when value does not fit the schema. */
  encode(schemaId: number, schema: RootSchemaName, value: unknown): Buffer
  /**
   * Decodes wire-format bytes into the reader schema's shape; with `fields`, into the shape of
   * that projection of the reader schema (schemas/projection.ts: the other fields are skipped).
   * @throws AurenError AUREN_ERR_DECODE (bad magic byte, truncated or corrupt body),
   *   AUREN_ERR_SCHEMA_UNKNOWN (id not in the registry), AUREN_ERR_REGISTRY_UNAVAILABLE (retriable).
   * @throws Error when `fields` is not a valid projection of `schema` (projectSchema).
   */
  decode(bytes: Buffer | null, schema: RootSchemaName, fields?: FieldProjection): Promise<unknown>
}

function readerType(name: RootSchemaName): avro.Type {
  return avro.Type.forSchema(loadSchema(name), { ...AVSC_OPTIONS })
}

function httpStatus(err: unknown): number | undefined {
  const e = err as { status?: number; response?: { status?: number } }
  return e?.status ?? e?.response?.status
}

/** The AurenError of a failed registration: a refusal (409/422) is AUREN_ERR_CONFIG, anything else the registry being unavailable (retriable). */
function registrationError(err: unknown, status: number | undefined, name: RootSchemaName, subject: string): AurenError {
  if (status === 409 || status === 422) return new AurenError('AUREN_ERR_CONFIG', `registry refused schema ${name} for ${subject}: ${(err as Error).message}`, { cause: err })
  return new AurenError('AUREN_ERR_REGISTRY_UNAVAILABLE', `cannot register ${subject}: ${(err as Error).message}`, { retriable: true, cause: err })
}

/** Encoding buffer reused by every encodeWire call (synchronous, so never used by two at once); grows as needed. */
let scratch = Buffer.allocUnsafeSlow(64 * 1024)

/**
 * `value` in wire format: magic byte, `schemaId`, Avro body of `type`. Same bytes and errors as
 * `type.toBuffer(value)` behind the header; header and body are written into one reused scratch
 * buffer and copied out once (toBuffer allocates a zero-filled buffer for the body, then the
 * header needed a second one).
 */
export function encodeWire(type: avro.Type, schemaId: number, value: unknown): Buffer {
  let end = type.encode(value, scratch, HEADER_BYTES)
  while (end < 0) {
    // avsc returns minus the number of missing bytes when the value does not fit
    scratch = Buffer.allocUnsafeSlow(Math.max(scratch.length * 2, scratch.length - end))
    end = type.encode(value, scratch, HEADER_BYTES)
  }
  const out = Buffer.allocUnsafe(end)
  scratch.copy(out, 0, 0, end)
  out.writeUInt8(MAGIC_BYTE, 0)
  out.writeInt32BE(schemaId, 1)
  return out
}

/**
 * The Avro body of wire-format `bytes` (after the 5-byte header) read with `type` (through
 * `resolver` for another writer schema). Reads exactly as `type.fromBuffer(bytes.subarray(5),
 * resolver)`, with fromBuffer's own errors ('truncated buffer', 'trailing data'), without a
 * Buffer view per record.
 */
export function decodeBody(type: avro.Type, bytes: Buffer, resolver?: avro.Resolver): unknown {
  const { value, offset } = resolver ? type.decode(bytes, HEADER_BYTES, resolver) : type.decode(bytes, HEADER_BYTES)
  if (offset < 0) throw new Error('truncated buffer')
  if (offset < bytes.length) throw new Error('trailing data')
  return value as unknown
}

/**
 * Creates a Serde over a Confluent-compatible registry at `url` (e.g. Apicurio's
 * `/apis/ccompat/v7`).
 */
export function createSerde(url: string): Serde {
  const registry = new SchemaRegistry({ host: url, retry: { retries: 3 } }, { [SchemaType.AVRO]: { ...AVSC_OPTIONS } })
  const readers = new Map<RootSchemaName, avro.Type>()
  const projected = new WeakMap<FieldProjection, avro.Type>()
  /** Reader type → writer schema id → the reader itself (same schema) or its resolver. */
  const resolvers = new Map<avro.Type, Map<number, avro.Type | avro.Resolver>>()
  const registered = new Map<string, number>()

  const reader = (name: RootSchemaName): avro.Type => {
    let t = readers.get(name)
    if (!t) readers.set(name, (t = readerType(name)))
    return t
  }

  const projection = (name: RootSchemaName, fields: FieldProjection): avro.Type => {
    let t = projected.get(fields)
    if (!t) projected.set(fields, (t = avro.Type.forSchema(projectSchema(loadSchema(name), fields), { ...AVSC_OPTIONS })))
    return t
  }

  async function resolverFor(id: number, r: avro.Type): Promise<avro.Resolver | avro.Type> {
    let byId = resolvers.get(r)
    if (!byId) resolvers.set(r, (byId = new Map()))
    const cached = byId.get(id)
    if (cached) return cached
    let writer: avro.Type
    try {
      writer = (await registry.getSchema(id)) as unknown as avro.Type
    } catch (err) {
      const status = httpStatus(err)
      if (status === 404) throw new AurenError('AUREN_ERR_SCHEMA_UNKNOWN', `schema id ${id} is not in the registry`, { cause: err, context: { schemaId: id } })
      throw new AurenError('AUREN_ERR_REGISTRY_UNAVAILABLE', `cannot fetch schema id ${id}: ${(err as Error).message}`, { retriable: true, cause: err })
    }
    const resolved = r.equals(writer) ? r : r.createResolver(writer)
    byId.set(id, resolved)
    return resolved
  }

  return {
    async register(topic, name) {
      const subject = valueSubject(topic)
      const known = registered.get(subject)
      if (known !== undefined) return known
      // Two instances registering one new subject at once race on setting its compatibility, and
      // the loser gets a 409 ("A rule named 'COMPATIBILITY' already exists", "Compatibility does
      // not match"): one more attempt finds the subject set up. A schema refused again is refused for good.
      for (let attempt = 1; ; attempt++) {
        try {
          const { id } = await registry.register(
            { type: SchemaType.AVRO, schema: JSON.stringify(loadSchema(name)) },
            { subject, compatibility: COMPATIBILITY.BACKWARD },
          )
          registered.set(subject, id)
          return id
        } catch (err) {
          const status = httpStatus(err)
          if ((status === 409 || status === 422) && attempt < 2) continue
          throw registrationError(err, status, name, subject)
        }
      }
    },

    encode(schemaId, name, value) {
      return encodeWire(reader(name), schemaId, value)
    },

    async decode(bytes, name, fields) {
      if (!bytes || bytes.length < HEADER_BYTES) {
        throw new AurenError('AUREN_ERR_DECODE', `value is ${bytes ? `${bytes.length} bytes` : 'null'}, shorter than the 5-byte wire-format header`)
      }
      if (bytes.readUInt8(0) !== MAGIC_BYTE) {
        throw new AurenError('AUREN_ERR_DECODE', `magic byte is ${bytes.readUInt8(0)}, expected 0 (not Schema Registry wire format)`)
      }
      const id = bytes.readInt32BE(1)
      const r = fields ? projection(name, fields) : reader(name)
      const resolved = await resolverFor(id, r)
      try {
        return decodeBody(r, bytes, resolved === r ? undefined : (resolved as avro.Resolver))
      } catch (err) {
        throw new AurenError('AUREN_ERR_DECODE', `Avro body does not decode with schema id ${id}: ${(err as Error).message}`, { cause: err, context: { schemaId: id } })
      }
    },
  }
}
