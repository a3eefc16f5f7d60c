/**
 * The ingest API's batch check: valid items become Avro records (defaults filled), refused ones
 * carry a reason and a sentence per problem naming the field; the semantic rules are
 * enrichment's own (schemas/validate-event.ts).
 */
import avro from 'avsc'
import { describe, expect, it } from 'vitest'
import { AVSC_OPTIONS, loadSchema } from '../../../schemas/index.ts'
import { BatchShapeError, checkEventBatch } from '../../../gateway/ingest/event-batch.ts'
import { unavailableRetryAfterS } from '../../../gateway/ingest/ingest-routes.ts'

const NOW = Date.parse('2025-03-01T10:00:00Z')
const O = { nowMs: NOW, maxFutureSkewMs: 86_400_000, maxEvents: 10 }
const minimal = (o: Record<string, unknown> = {}) => ({
  event_id: '0b7e6a4c-1f7e-4a51-9a53-1f1f2a3b4c5d', trace_id: 'trace-1', timestamp: NOW * 1000, event_type: 'llm_call_completed',
  source: 'sdk', source_agent: { id: 'planner', role: 'planner' }, payload: { model: 'gpt-4o', input_tokens: 12, output_tokens: 3 }, ...o,
})

describe('checkEventBatch', () => {
  it('accepts a minimal event, filling every default, and the record encodes', () => {
    const { accepted, rejected } = checkEventBatch({ events: [minimal()] }, O)
    expect(rejected).toEqual([])
    expect(accepted[0]!.event).toMatchObject({ session_id: null, user_id: null, attributes: {}, performance: null, source_agent: { id: 'planner', role: 'planner', domain: null }, payload: { model: 'gpt-4o', provider: null, success: true, latency_ms: null } })
    const type = avro.Type.forSchema(loadSchema('agent-event'), { ...AVSC_OPTIONS })
    expect(() => type.toBuffer(accepted[0]!.record)).not.toThrow()
  })

  it('refuses bad items one by one, with the reason and the field, and keeps the good ones', () => {
    const { accepted, rejected } = checkEventBatch([
      minimal(),
      'nope',
      minimal({ event_type: 'made_up' }),
      minimal({ payload: { model: 'gpt-4o', input_tokens: 'many' } }),
      minimal({ colour: 'blue' }),
      minimal({ payload: { model: 'gpt-4o', input_tokens: -5 } }),
      minimal({ timestamp: 1_700_000_000_000 }),
      minimal({ event_id: 'not-a-uuid' }),
    ], O)
    expect(accepted.map((a) => a.index)).toEqual([0])
    expect(rejected.map((r) => [r.index, r.reason])).toEqual([[1, 'not_an_object'], [2, 'unknown_event_type'], [3, 'schema'], [4, 'schema'], [5, 'validation'], [6, 'validation'], [7, 'validation']])
    expect(rejected[2]!.errors.join()).toMatch(/payload\.input_tokens must be an integer, got "many"/)
    expect(rejected[3]!.errors).toEqual(['colour is not a field of AgentEvent'])
    expect(rejected[4]!.errors.join()).toMatch(/payload\.input_tokens must be a finite number >= 0, got -5/)
    expect(rejected[5]!.errors.join()).toMatch(/seconds or milliseconds/)
    expect(rejected[6]!.eventId).toBe('not-a-uuid')
  })

  it('refuses a body that is not a batch, an empty one and one over the limit', () => {
    expect(() => checkEventBatch({ event: [] }, O)).toThrow(BatchShapeError)
    expect(() => checkEventBatch([], O)).toThrow(/no event/)
    expect(() => checkEventBatch(Array.from({ length: 11 }, () => minimal()), O)).toThrow(/11 events, more than 10/)
  })
})

describe('unavailableRetryAfterS', () => {
  it('is half the outage so far, within 5 and 30 s', () => {
    expect([0, 2_000, 10_000, 16_000, 41_000, 59_000, 600_000].map(unavailableRetryAfterS)).toEqual([5, 5, 5, 8, 21, 30, 30])
  })
})
