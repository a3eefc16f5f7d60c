import { describe, expect, it } from 'vitest'
import { frameJson } from '../../../gateway/frame-json.ts'
import type { ServerMessage } from '../../../gateway/protocol.ts'

const event = { event_id: 'e1', tier: 'critical', text: 'quote " and \\ and \u2028 and ünïcode', nested: { a: [1, 2.5, null], b: true } }
const other = { event_id: 'e2', tier: 'operational', n: -0.125 }

describe('frameJson', () => {
  it('equals JSON.stringify for every server frame type', () => {
    const messages: ServerMessage[] = [
      { type: 'welcome', connection_id: 'c', server_time: '2026-01-01T00:00:00.000Z', protocol: 'auren.v1', channels: ['events', 'metrics'] },
      { type: 'subscribed', id: 'x', subscription_id: 's1', channels: ['events'] },
      { type: 'event', subscription_id: 's"1', event },
      { type: 'batch', subscription_id: 's2', tier: 'operational', events: [event, other] },
      { type: 'batch', subscription_id: 's2', tier: 'analytical', events: [] },
      { type: 'metrics', subscription_id: 's3', window: { agent_id: 'a', llm_calls: 3 } },
      { type: 'alert', subscription_id: 's4', alert: { fingerprint: 'f', status: 'firing' } },
      { type: 'recovered', subscription_id: 's1', complete: false },
      { type: 'pong' },
      { type: 'error', id: 'q', code: 'BAD_REQUEST', message: 'no' },
    ]
    for (const m of messages) expect(frameJson(m)).toBe(JSON.stringify(m))
  })

  it('serialises a shared body once and reuses it for every subscriber', () => {
    const body = { event_id: 'e3', get costly() { calls++; return 1 } }
    let calls = 0
    for (let i = 0; i < 100; i++) expect(JSON.parse(frameJson({ type: 'event', subscription_id: `s${i}`, event: body }))).toEqual({ type: 'event', subscription_id: `s${i}`, event: { event_id: 'e3', costly: 1 } })
    expect(calls).toBe(1)
  })
})
