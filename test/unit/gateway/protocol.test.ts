import { describe, expect, it } from 'vitest'
import { AGENT_EVENT_TYPES } from '../../../schemas/index.ts'
import { CHANNELS, channelOf, isProtocolError, parseClientMessage } from '../../../gateway/protocol.ts'

const err = (text: string) => {
  const r = parseClientMessage(text)
  if (!isProtocolError(r)) throw new Error(`accepted: ${text}`)
  return r.error
}

describe('protocol', () => {
  it('maps every event type to an event channel', () => {
    const map = Object.fromEntries(AGENT_EVENT_TYPES.map((t) => [t, channelOf(t)]))
    expect(map).toMatchObject({
      agent_execution_started: 'agent_activity', llm_call_completed: 'llm_usage', tool_usage_started: 'tool_usage',
      agent_collaboration: 'collaboration', agent_handoff: 'collaboration', memory_tier_access: 'memory', memory_operation: 'memory',
      knowledge_access: 'memory', agent_decision: 'intelligence', hypothesis_formed: 'intelligence', hypothesis_validated: 'intelligence',
      system_health: 'system', performance_metric: 'system', biometric_analysis: 'system', conversation_turn: 'system',
    })
    for (const c of Object.values(map)) expect(CHANNELS).toContain(c)
  })

  it('parses valid messages', () => {
    expect(parseClientMessage('{"type":"ping","id":"p1"}')).toEqual({ type: 'ping', id: 'p1' })
    expect(parseClientMessage('{"type":"auth","token":"x.y.z"}')).toEqual({ type: 'auth', token: 'x.y.z' })
    expect(parseClientMessage('{"type":"set_update_interval","interval_ms":250}')).toEqual({ type: 'set_update_interval', interval_ms: 250 })
    expect(parseClientMessage('{"type":"unsubscribe","subscription_id":"s1"}')).toEqual({ type: 'unsubscribe', subscription_id: 's1' })
    expect(parseClientMessage(JSON.stringify({
      type: 'subscribe', id: 'q', channels: ['llm_usage', 'events', 'events'],
      filters: { agent_ids: ['a'], event_types: ['llm_call_completed'], tiers: ['critical'], min_confidence: 0.5 },
      since: { timestamp: '2026-11-21T10:00:00.000Z' },
    }))).toEqual({
      type: 'subscribe', id: 'q', channels: ['llm_usage', 'events'],
      filters: { agent_ids: ['a'], event_types: ['llm_call_completed'], tiers: ['critical'], min_confidence: 0.5 },
      sinceMs: Date.parse('2026-11-21T10:00:00.000Z'),
    })
  })

  it('refuses bad messages with BAD_REQUEST sentences', () => {
    expect(err('nope')).toEqual({ code: 'BAD_REQUEST', message: 'message is not valid JSON' })
    expect(err('[1]').message).toBe('message must be a JSON object')
    expect(err('{"type":"dance"}').message).toMatch(/^'type' must be one of auth, subscribe/)
    expect(err('{"type":"ping","x":1}').message).toBe("ping: unknown field 'x' (known: type, id)")
    expect(err('{"type":"set_update_interval","interval_ms":99}').message).toMatch(/from 100 to 60000 \(got 99\)/)
    expect(err('{"type":"set_update_interval","interval_ms":60001}').code).toBe('BAD_REQUEST')
    expect(err('{"type":"subscribe","id":"q","channels":[]}')).toEqual({ code: 'BAD_REQUEST', id: 'q', message: "subscribe: 'channels' must name at least one channel" })
    expect(err('{"type":"subscribe","channels":["events"],"filters":{"tiers":["urgent"]}}').message).toMatch(/'filters.tiers' has unknown values "urgent"/)
    expect(err('{"type":"subscribe","channels":["events"],"filters":{"min_confidence":2}}').message).toMatch(/min_confidence' must be a number from 0 to 1/)
    expect(err('{"type":"subscribe","channels":["events"],"since":{"timestamp":"yesterday"}}').message).toMatch(/'since' must be/)
    expect(err('{"type":"subscribe","channels":["events"],"filters":{"agent":["a"]}}').message).toMatch(/unknown filter 'agent'/)
  })

  it('refuses unknown channels with UNKNOWN_CHANNEL', () => {
    expect(err('{"type":"subscribe","id":"q","channels":["events","gossip"]}')).toEqual({ code: 'UNKNOWN_CHANNEL', id: 'q', message: expect.stringContaining('"gossip"') })
  })
})
