/**
 * Schema evolution against the real registry: our value schemas are registered under
 * `<topic>-value` with compatibility BACKWARD (CONTRACTS.md section 1). A next version that adds
 * an optional field is accepted and old records decode with it; a version that adds a required
 * field (no default) is refused, since a reader on it could not read existing records.
 * Removing a required field is BACKWARD-compatible in Avro (the new reader ignores it); the
 * registry refuses it once the subject is FULL (readers on the old schema must still work).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import avro from 'avsc'
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry'
import { createTestKafka, type TestKafka } from '../helpers/kafka.ts'
import { stackEnv } from '../helpers/stack.ts'
import { llmCallEvent } from '../helpers/events.ts'
import { AVSC_OPTIONS, loadSchema, toAgentEventRecord, valueSubject } from '../../schemas/index.ts'

type RecordSchema = { type: 'record'; name: string; fields: Array<Record<string, unknown>> }

async function putCompatibility(subject: string, level: string): Promise<void> {
  const res = await fetch(`${stackEnv().schemaRegistryUrl}/config/${encodeURIComponent(subject)}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ compatibility: level }),
  })
  expect(res.status).toBe(200)
}

async function tryRegister(subject: string, schema: RecordSchema): Promise<{ status: number; body: string }> {
  const res = await fetch(`${stackEnv().schemaRegistryUrl}/subjects/${encodeURIComponent(subject)}/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema: JSON.stringify(schema), schemaType: 'AVRO' }),
  })
  return { status: res.status, body: await res.text() }
}

describe('AgentEvent schema evolution on the real registry', () => {
  let kafka: TestKafka
  let subject: string
  let v1: RecordSchema
  beforeAll(async () => {
    kafka = await createTestKafka(1)
    subject = valueSubject(kafka.topics.agentEvents)
    await kafka.serde.register(kafka.topics.agentEvents, 'agent-event')
    v1 = loadSchema('agent-event') as unknown as RecordSchema
  })
  afterAll(async () => {
    await kafka?.close()
  })

  it('registers v1 with compatibility BACKWARD', async () => {
    const res = await fetch(`${stackEnv().schemaRegistryUrl}/config/${encodeURIComponent(subject)}?defaultToGlobal=true`)
    expect(((await res.json()) as { compatibilityLevel: string }).compatibilityLevel).toBe('BACKWARD')
  })

  it('accepts a next version that adds an optional field, and old records decode with it', async () => {
    const v2: RecordSchema = { ...v1, fields: [...v1.fields, { name: 'region', type: ['null', 'string'], default: null, doc: 'Deployment region.' }] }
    const res = await tryRegister(subject, v2)
    expect(res.status, res.body).toBe(200)

    const event = llmCallEvent()
    const bytes = kafka.serde.encode(await kafka.serde.register(kafka.topics.agentEvents, 'agent-event'), 'agent-event', toAgentEventRecord(event))
    const registry = new SchemaRegistry({ host: stackEnv().schemaRegistryUrl }, { [SchemaType.AVRO]: { ...AVSC_OPTIONS } })
    const decoded = await registry.decode(bytes, { [SchemaType.AVRO]: { readerSchema: { ...v2, fields: v2.fields } as never } })
    expect(decoded.region).toBeNull()
    expect(decoded.event_id).toBe(event.event_id)
  })

  it('decodes, with our reader schema, records a newer producer wrote with the added field', async () => {
    const v2: RecordSchema = { ...v1, fields: [...v1.fields, { name: 'region', type: ['null', 'string'], default: null, doc: 'Deployment region.' }] }
    const registry = new SchemaRegistry({ host: stackEnv().schemaRegistryUrl }, { [SchemaType.AVRO]: { ...AVSC_OPTIONS } })
    const v2Id = await registry.getRegistryIdBySchema(subject, { type: SchemaType.AVRO, schema: JSON.stringify(v2) })
    const event = llmCallEvent()
    const body = avro.Type.forSchema(v2 as unknown as avro.Schema, { ...AVSC_OPTIONS }).toBuffer({ ...toAgentEventRecord(event), region: 'eu-west' })
    const header = Buffer.alloc(5)
    header.writeInt32BE(v2Id, 1)
    const decoded = (await kafka.serde.decode(Buffer.concat([header, body]), 'agent-event')) as Record<string, unknown>
    expect(decoded.event_id).toBe(event.event_id)
    expect(decoded).not.toHaveProperty('region')
  })

  it('refuses a version that adds a required field without a default', async () => {
    const bad: RecordSchema = { ...v1, fields: [...v1.fields, { name: 'tenant', type: 'string', doc: 'Tenant id.' }] }
    const res = await tryRegister(subject, bad)
    expect(res.status).toBe(409)
  })

  it('refuses a version that removes a required field once the subject is FULL', async () => {
    const withoutTraceId: RecordSchema = { ...v1, fields: v1.fields.filter((f) => f.name !== 'trace_id') }
    await putCompatibility(subject, 'FULL')
    const res = await tryRegister(subject, withoutTraceId)
    expect(res.status).toBe(409)
    expect(res.body).toMatch(/incompatib/i)
  })

  it('refuses changing a field type incompatibly under BACKWARD', async () => {
    await putCompatibility(subject, 'BACKWARD')
    const retyped: RecordSchema = { ...v1, fields: v1.fields.map((f) => (f.name === 'source' ? { ...f, type: 'int' } : f)) }
    const res = await tryRegister(subject, retyped)
    expect(res.status).toBe(409)
  })
})
