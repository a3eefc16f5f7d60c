import { describe, expect, it } from 'vitest'
import { alertItem, enrichedEventJson, eventItem, isoFromMicros, metricsItem } from '../../../gateway/event-json.ts'
import { SubscriptionSet } from '../../../gateway/subscriptions.ts'
import type { AgentMetricsWindow, Alert, EnrichedAgentEvent } from '../../../schemas/index.ts'
import { llmCallEvent } from '../../helpers/events.ts'

describe('event-json', () => {
  it('writes microseconds as ISO-8601 UTC', () => {
    expect(isoFromMicros(Date.parse('2026-11-21T14:11:16.123Z') * 1000 + 456)).toBe('2026-11-21T14:11:16.123456Z')
    expect(isoFromMicros(0)).toBe('1970-01-01T00:00:00.000000Z')
  })

  it('flattens an enriched event with ISO timestamps and an unwrapped payload', () => {
    const event = llmCallEvent({ timestampUs: 1_700_000_000_000_001, userId: 'u1' })
    const e: EnrichedAgentEvent = {
      event, tier: 'operational', cost_usd: 0.01, cost_source: 'computed', pricing_ref: 'p', agent_domain: null,
      tool_category: null, input_complexity: null, ingest_lag_ms: 5, enriched_at: 1_700_000_000_005_000,
    }
    const json = enrichedEventJson(e)
    expect(json).toMatchObject({ event_id: event.event_id, event_type: 'llm_call_completed', timestamp: '2023-11-14T22:13:20.000001Z', enriched_at: '2023-11-14T22:13:20.005000Z', tier: 'operational', cost_usd: 0.01, user_id: 'u1' })
    expect(json.payload).toEqual(event.payload)
    expect(json).not.toHaveProperty('event')
    const it = eventItem(e)
    expect(it).toMatchObject({ kind: 'event', key: event.event_id, agentIds: ['neuroscientist'], userId: 'u1', confidence: null, timeMs: 1_700_000_000_000.001 })
  })

  it('shapes alerts', () => {
    const a = { fingerprint: 'f', rule: 'r', severity: 'critical', status: 'firing', labels: { agent: 'a1' }, annotations: {}, value: 1, threshold: 0, starts_at: 1_000_000, ends_at: null, source_window: null } as unknown as Alert
    expect(alertItem(a)).toMatchObject({ kind: 'alert', key: 'f:firing:1000000', agentIds: ['a1'], json: { starts_at: '1970-01-01T00:00:01.000000Z', ends_at: null } })
  })

  it('sends a window again when it is re-published after a late event, but not the same publication twice', () => {
    const latency = { count: 0, sum_ms: 0, p50_ms: null, p95_ms: null, p99_ms: null }
    const w = {
      agent_id: 'a1', window_start: 1_700_000_040_000_000, window_end: 1_700_000_100_000_000, executions: { started: 0, completed: 0, failed: 0 },
      llm_calls: { succeeded: 2, failed: 0 }, input_tokens: 10, output_tokens: 5, cost_usd: 0.5, tool_calls: 0, errors: 0,
      execution_latency: latency, llm_latency: latency, collaborations: 0, late_events: 0,
    } as unknown as AgentMetricsWindow
    const subs = new SubscriptionSet({ userId: 'ops', roles: ['operator'] })
    subs.subscribe({ type: 'subscribe', channels: ['metrics'] })
    const frames = [metricsItem(w), metricsItem({ ...w }), metricsItem({ ...w, input_tokens: 17, late_events: 1 })].flatMap((i) => subs.offer(i, 0))
    expect(frames.map((f) => f.message)).toEqual([
      { type: 'metrics', subscription_id: 's1', window: expect.objectContaining({ window_start: '2023-11-14T22:14:00.000000Z', input_tokens: 10, late_events: 0 }) },
      { type: 'metrics', subscription_id: 's1', window: expect.objectContaining({ input_tokens: 17, late_events: 1 }) },
    ])
  })
})
