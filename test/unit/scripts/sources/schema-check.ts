/** Shared by the source tests: validates events against the registered AgentEvent Avro schema. */
import avro from 'avsc'
import type { AgentEvent } from '../../../../schemas/index.ts'
import { AVSC_OPTIONS, loadSchema, toAgentEventRecord } from '../../../../schemas/index.ts'

const type = avro.Type.forSchema(loadSchema('agent-event'), AVSC_OPTIONS as unknown as avro.ForSchemaOptions)

/** Paths of the fields that make an event invalid; empty when `type.isValid(record)` holds. */
export function schemaErrors(event: AgentEvent): string[] {
  const errors: string[] = []
  const ok = type.isValid(toAgentEventRecord(event), { errorHook: (path: string[]) => errors.push(path.join('.')) })
  return ok ? [] : errors.length > 0 ? errors : ['(invalid)']
}

/** Events that fail the schema, with their error paths (for readable assertion messages). */
export function invalidEvents(events: AgentEvent[]): Array<{ event_id: string; type: string; errors: string[] }> {
  return events
    .map((e) => ({ event_id: e.event_id, type: e.event_type, errors: schemaErrors(e) }))
    .filter((x) => x.errors.length > 0)
}
