/**
 * Reader-schema projections (schemas/projection.ts): a value written with the full schema decodes,
 * through Avro schema resolution, into the kept fields alone; a projection with a mistake is
 * refused with the mistake named.
 */
import avro from 'avsc'
import { describe, expect, it } from 'vitest'
import type { Schema } from 'avsc'
import { AVSC_OPTIONS, loadSchema } from '../../../schemas/index.ts'
import { projectSchema } from '../../../schemas/projection.ts'

const FULL: Schema = {
  type: 'record',
  name: 'x.Outer',
  fields: [
    { name: 'id', type: 'string' },
    // defines x.Ref inside a field the projections below drop
    { name: 'first', type: ['null', { type: 'record', name: 'x.Ref', fields: [{ name: 'id', type: 'string' }, { name: 'note', type: 'string' }] }], default: null },
    { name: 'second', type: ['null', 'x.Ref'], default: null },
    { name: 'tags', type: { type: 'map', values: 'string' } },
    { name: 'kind', type: { type: 'enum', name: 'x.Kind', symbols: ['a', 'b'] } },
    { name: 'n', type: 'long' },
  ],
} as unknown as Schema

const value = { id: 'e-1', first: { id: 'r-1', note: 'dropped' }, second: { id: 'r-2', note: 'kept' }, tags: { k: 'v' }, kind: 'b', n: 7 }

function decodeWith(projection: Schema): unknown {
  const writer = avro.Type.forSchema(FULL, { ...AVSC_OPTIONS })
  const reader = avro.Type.forSchema(projection, { ...AVSC_OPTIONS })
  return reader.fromBuffer(writer.toBuffer(value), reader.createResolver(writer))
}

describe('projectSchema', () => {
  it('keeps the listed fields, in the writer order, and skips the others when decoding', () => {
    const p = projectSchema(FULL, { 'x.Outer': ['n', 'kind', 'second'], 'x.Ref': ['note'] })
    expect(decodeWith(p)).toEqual({ second: { note: 'kept' }, kind: 'b', n: 7 })
  })

  it('defines a named type at its first use in the projection when the full schema defined it in a dropped field', () => {
    const p = projectSchema(FULL, { 'x.Outer': ['second'], 'x.Ref': ['id'] }) as unknown as { fields: { name: string; type: unknown }[] }
    expect(p.fields.map((f) => f.name)).toEqual(['second'])
    expect(JSON.stringify(p.fields[0]!.type)).toContain('"name":"x.Ref"')
    expect(decodeWith(p as unknown as Schema)).toEqual({ second: { id: 'r-2' } })
  })

  it('keeps a record with no fields (read for its union branch)', () => {
    expect(decodeWith(projectSchema(FULL, { 'x.Outer': ['first'], 'x.Ref': [] }))).toEqual({ first: {} })
  })

  it('refuses a reached record not listed, a field the record lacks and a record never reached', () => {
    expect(() => projectSchema(FULL, { 'x.Outer': ['first'] })).toThrow(/x\.Ref is reached but not listed/)
    expect(() => projectSchema(FULL, { 'x.Outer': ['id', 'nope'] })).toThrow(/x\.Outer has no field nope/)
    expect(() => projectSchema(FULL, { 'x.Outer': ['id'], 'x.Ref': ['id'] })).toThrow(/x\.Ref is not reached/)
  })

  it('projects the generated contract schemas', () => {
    const p = projectSchema(loadSchema('agent-metrics-window'), { 'auren.metrics.AgentMetricsWindow': ['agent_id'] })
    expect((p as unknown as { fields: unknown[] }).fields).toHaveLength(1)
  })
})
