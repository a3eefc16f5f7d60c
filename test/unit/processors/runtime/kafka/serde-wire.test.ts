import avro from 'avsc'
import { describe, expect, it } from 'vitest'
import { AVSC_OPTIONS, loadSchema, toAgentEventRecord } from '../../../../../schemas/index.ts'
import { createSimulator } from '../../../../../scripts/sources/simulator.ts'
import { decodeBody, encodeWire } from '../../../../../processors/runtime/kafka/serde.ts'

const reader = avro.Type.forSchema(loadSchema('agent-event'), { ...AVSC_OPTIONS })

/** The wire encoding as serde.ts wrote it before encodeWire: toBuffer, then a header in a second buffer. */
function oldEncode(type: avro.Type, schemaId: number, value: unknown): Buffer {
  const body = type.toBuffer(value)
  const out = Buffer.allocUnsafe(5 + body.length)
  out.writeUInt8(0, 0)
  out.writeInt32BE(schemaId, 1)
  body.copy(out, 5)
  return out
}

/** The body decoding as serde.ts did it before decodeBody. */
function oldDecode(type: avro.Type, bytes: Buffer, resolver?: avro.Resolver): unknown {
  const body = bytes.subarray(5)
  return resolver ? type.fromBuffer(body, resolver) : type.fromBuffer(body)
}

function outcome(f: () => unknown): { value: unknown } | { error: string } {
  try {
    return { value: f() }
  } catch (err) {
    return { error: (err as Error).message }
  }
}

describe('wire format encode and decode', () => {
  it('writes the same bytes as toBuffer behind the header, and reads them back the same way', () => {
    const sim = createSimulator({ seed: 11 })
    for (let i = 0; i < 3_000; i++) {
      const record = toAgentEventRecord(sim.next())
      const bytes = encodeWire(reader, 1234 + i, record)
      expect(bytes.equals(oldEncode(reader, 1234 + i, record))).toBe(true)
      expect(decodeBody(reader, bytes)).toEqual(oldDecode(reader, bytes))
    }
  })

  it('grows its buffer for values larger than it, and keeps working for small ones afterwards', () => {
    const record = toAgentEventRecord(createSimulator({ seed: 3 }).next())
    const big = { ...record, attributes: { ...record.attributes, blob: 'x'.repeat(300_000) } }
    const bytes = encodeWire(reader, 7, big)
    expect(bytes.equals(oldEncode(reader, 7, big))).toBe(true)
    expect(decodeBody(reader, bytes)).toEqual(big)
    expect(encodeWire(reader, 7, record).equals(oldEncode(reader, 7, record))).toBe(true)
  })

  it('throws what toBuffer throws for a value that does not fit the schema', () => {
    const bad = { ...toAgentEventRecord(createSimulator({ seed: 5 }).next()), timestamp: 'soon' }
    expect(outcome(() => encodeWire(reader, 1, bad))).toEqual(outcome(() => oldEncode(reader, 1, bad)))
    expect(outcome(() => encodeWire(reader, 1, bad))).toHaveProperty('error')
  })

  it('decodes through a resolver from another writer schema exactly as fromBuffer does', () => {
    const schema = loadSchema('agent-event') as { fields: unknown[] }
    // an older writer: one more field, which the reader ignores
    const writer = avro.Type.forSchema({ ...schema, fields: [...schema.fields, { name: 'legacy_note', type: 'string', default: '' }] } as avro.Schema, { ...AVSC_OPTIONS })
    const resolver = reader.createResolver(writer)
    const sim = createSimulator({ seed: 9 })
    for (let i = 0; i < 500; i++) {
      const bytes = encodeWire(writer, 2, { ...toAgentEventRecord(sim.next()), legacy_note: `n${i}` })
      expect(decodeBody(reader, bytes, resolver)).toEqual(oldDecode(reader, bytes, resolver))
    }
  })

  it("fails on truncated, trailing and corrupt bodies with fromBuffer's messages", () => {
    const good = encodeWire(reader, 1, toAgentEventRecord(createSimulator({ seed: 2 }).next()))
    const cases = [good.subarray(0, good.length - 3), good.subarray(0, 6), Buffer.concat([good, Buffer.from([0, 1])]), Buffer.concat([good.subarray(0, 5), Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f])])]
    for (const bytes of cases) {
      const expected = outcome(() => oldDecode(reader, bytes))
      expect(expected).toHaveProperty('error')
      expect(outcome(() => decodeBody(reader, bytes))).toEqual(expected)
    }
    expect(outcome(() => decodeBody(reader, cases[0]!))).toEqual({ error: 'truncated buffer' })
    expect(outcome(() => decodeBody(reader, cases[2]!))).toEqual({ error: 'trailing data' })
  })
})
