import avro from 'avsc'
import { describe, expect, it } from 'vitest'
import { AGENT_EVENT_TYPES, AVSC_OPTIONS, PAYLOAD_RECORD, fromAgentEventRecord, loadSchema, toAgentEventRecord, PayloadMismatchError } from '../../../schemas/index.ts'
import { createSimulator } from '../../../scripts/sources/simulator.ts'
import { generate } from '../../../scripts/gen-schemas.ts'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

const type = avro.Type.forSchema(loadSchema('agent-event'), { ...AVSC_OPTIONS })

describe('AgentEvent wire shape', () => {
  it('maps every event type to a payload branch of the schema', () => {
    const branches = new Set((type as unknown as { fields: Array<{ name: string; type: { types: Array<{ branchName: string }> } }> }).fields.find((f) => f.name === 'payload')!.type.types.map((t) => t.branchName))
    for (const t of AGENT_EVENT_TYPES) expect(branches.has(PAYLOAD_RECORD[t]), t).toBe(true)
  })

  it('round-trips simulated events of every type through Avro binary', () => {
    const sim = createSimulator({ seed: 7 })
    const seen = new Set<string>()
    for (let i = 0; i < 3000 && seen.size < AGENT_EVENT_TYPES.length; i++) {
      const event = sim.next()
      seen.add(event.event_type)
      const decoded = fromAgentEventRecord(type.fromBuffer(type.toBuffer(toAgentEventRecord(event))))
      expect(decoded).toEqual(event)
    }
    expect([...seen].sort()).toEqual([...AGENT_EVENT_TYPES].sort())
  })

  it('refuses a record whose payload branch does not match its event_type', () => {
    const event = createSimulator({ seed: 1 }).next()
    const record = { ...toAgentEventRecord(event), event_type: event.event_type === 'agent_decision' ? 'system_health' : 'agent_decision' } as ReturnType<typeof toAgentEventRecord>
    expect(() => fromAgentEventRecord(record)).toThrow(PayloadMismatchError)
  })
})

describe('generated schema files', () => {
  it('are what the .avsc sources generate (drift check)', () => {
    const root = join(import.meta.dirname, '..', '..', '..')
    for (const [rel, content] of generate()) expect(readFileSync(join(root, rel), 'utf8'), rel).toBe(content)
  })
})
