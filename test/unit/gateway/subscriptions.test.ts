import { describe, expect, it } from 'vitest'
import { SubscriptionSet, TIER_BUDGETS } from '../../../gateway/subscriptions.ts'
import type { Channel, SubscriptionFilters } from '../../../gateway/protocol.ts'
import { item } from './stream-fixtures.ts'

const operator = { userId: 'op', roles: ['operator'] as const }
const viewer = { userId: 'u1', roles: ['viewer'] as const }

function subscribed(set: SubscriptionSet, channels: Channel[], filters?: SubscriptionFilters): string {
  const r = set.subscribe({ type: 'subscribe', channels, ...(filters ? { filters } : {}) })
  if ('error' in r) throw new Error(r.error.message)
  return r.subscriptionId
}
const types = (outs: { message: { type: string } }[]) => outs.map((o) => o.message.type)

describe('SubscriptionSet', () => {
  it('sends critical events at once as event frames', () => {
    const s = new SubscriptionSet(operator)
    const id = subscribed(s, ['events'])
    const out = s.offer(item({ tier: 'critical', key: 'k', json: { event_id: 'k' } }), 0)
    expect(out.map((o) => o.message)).toEqual([{ type: 'event', subscription_id: id, event: { event_id: 'k' } }])
    expect(s.nextDeadline()).toBeNull()
  })

  it('batches operational events within 100 ms or 50 events, analytical within 500 ms or 200', () => {
    const s = new SubscriptionSet(operator)
    subscribed(s, ['events'])
    expect(s.offer(item({ tier: 'operational' }), 1000)).toEqual([])
    expect(s.offer(item({ tier: 'analytical' }), 1010)).toEqual([])
    // Written ahead of the budget (TIER_BUDGETS.flushAfterMs), leaving room for timer lateness and the write.
    expect(s.nextDeadline()).toBe(1060)
    expect(s.due(1059)).toEqual([])
    const op = s.due(1060)
    expect(op).toHaveLength(1)
    expect(op[0]!.message).toMatchObject({ type: 'batch', tier: 'operational', events: [expect.any(Object)] })
    expect(s.nextDeadline()).toBe(1460)
    expect(s.due(1460)[0]!.message).toMatchObject({ type: 'batch', tier: 'analytical' })
    // size triggers
    const outs = []
    for (let i = 0; i < TIER_BUDGETS.operational.maxEvents; i++) outs.push(...s.offer(item({ tier: 'operational' }), 2000))
    expect(outs).toHaveLength(1)
    expect((outs[0]!.message as { events: unknown[] }).events).toHaveLength(50)
  })

  it('counts the budget from enriched_at, and writes events that arrive overdue on the next timer turn in one frame', () => {
    const s = new SubscriptionSet(operator)
    subscribed(s, ['events'])
    const enrichedAt = (ms: number) => ({ enriched_at: new Date(ms).toISOString() })
    // 30 ms in Kafka: written 60 ms after enrichment, 30 ms after it arrived.
    expect(s.offer(item({ tier: 'operational', json: enrichedAt(10_000) }), 10_030)).toEqual([])
    expect(s.nextDeadline()).toBe(10_060)
    expect(s.due(10_060)).toHaveLength(1)
    // Arrived 150 ms after enrichment (a lagging fetch of three): none is written inline, all are due now.
    for (let i = 0; i < 3; i++) expect(s.offer(item({ tier: 'operational', json: enrichedAt(20_000 + i) }), 20_150)).toEqual([])
    expect(s.nextDeadline()).toBe(20_150)
    const late = s.due(20_150)
    expect(late).toHaveLength(1)
    expect((late[0]!.message as { events: unknown[] }).events).toHaveLength(3)
    // An enriched_at in this host's future (clock skew) starts the budget on arrival.
    s.offer(item({ tier: 'analytical', json: enrichedAt(40_000) }), 30_000)
    expect(s.nextDeadline()).toBe(30_450)
  })

  it('flushes at most once per client update interval, in frames of at most the batch size', () => {
    const s = new SubscriptionSet(operator)
    subscribed(s, ['events'])
    s.setUpdateInterval(1000)
    s.offer(item(), 0)
    expect(s.due(100)).toHaveLength(1) // first flush: nothing flushed before
    for (let i = 0; i < 120; i++) expect(s.offer(item(), 200)).toEqual([])
    expect(s.nextDeadline()).toBe(1100)
    const out = s.due(1100)
    expect(out.map((o) => (o.message as { events: unknown[] }).events.length)).toEqual([50, 50, 20])
  })

  it('applies channel, agent, event type, tier and confidence filters', () => {
    const s = new SubscriptionSet(operator)
    subscribed(s, ['tool_usage'])
    subscribed(s, ['events'], { agent_ids: ['a2'] })
    subscribed(s, ['events'], { event_types: ['agent_decision'], tiers: ['critical'], min_confidence: 0.8 })
    const ids = (o: ReturnType<typeof s.offer>) => o.map((x) => x.message.type === 'event' ? x.message.subscription_id : '')
    expect(ids(s.offer(item({ tier: 'critical', eventType: 'tool_usage_completed' }), 0))).toEqual(['s1'])
    expect(ids(s.offer(item({ tier: 'critical', agentIds: ['a1', 'a2'] }), 0))).toEqual(['s2'])
    expect(ids(s.offer(item({ tier: 'critical', eventType: 'agent_decision', confidence: 0.9 }), 0))).toEqual(['s3'])
    expect(ids(s.offer(item({ tier: 'critical', eventType: 'agent_decision', confidence: 0.7 }), 0))).toEqual([])
    expect(ids(s.offer(item({ tier: 'critical', eventType: 'agent_decision', confidence: null }), 0))).toEqual([])
  })

  it('scopes viewers to their own events and refuses them metrics and alerts', () => {
    const s = new SubscriptionSet(viewer)
    subscribed(s, ['events'])
    expect(s.offer(item({ tier: 'critical', userId: 'u2' }), 0)).toEqual([])
    expect(s.offer(item({ tier: 'critical', userId: null }), 0)).toEqual([])
    expect(s.offer(item({ tier: 'critical', userId: 'u1' }), 0)).toHaveLength(1)
    expect(s.subscribe({ type: 'subscribe', id: 'm', channels: ['metrics'] })).toEqual({ error: { code: 'FORBIDDEN', id: 'm', message: expect.stringContaining('operator or admin') } })
    expect(new SubscriptionSet({ userId: 'x', roles: [] }).subscribe({ type: 'subscribe', channels: ['events'] })).toMatchObject({ error: { code: 'FORBIDDEN' } })
  })

  it('delivers an event at most once per subscription', () => {
    const s = new SubscriptionSet(operator)
    subscribed(s, ['events', 'llm_usage'])
    const e = item({ tier: 'critical' })
    expect(s.offer(e, 0)).toHaveLength(1)
    expect(s.offer(e, 1)).toEqual([])
  })

  it('limits subscriptions and unsubscribes', () => {
    const s = new SubscriptionSet(operator, { maxSubscriptions: 2, dedupCapacity: 10, maxBufferedEvents: 10 })
    subscribed(s, ['events'])
    const id = subscribed(s, ['alerts'])
    expect(s.subscribe({ type: 'subscribe', channels: ['events'] })).toMatchObject({ error: { code: 'TOO_MANY_SUBSCRIPTIONS' } })
    expect(s.unsubscribe(id)).toBe(true)
    expect(s.unsubscribe(id)).toBe(false)
    expect(s.size).toBe(1)
  })

  it('replays history, flushes at once and ends with recovered', () => {
    const s = new SubscriptionSet(operator)
    const id = subscribed(s, ['events'])
    const out = s.replay(id, [item({ tier: 'critical' }), item(), item({ tier: 'analytical' })], false, 0)
    expect(types(out)).toEqual(['event', 'batch', 'batch', 'recovered'])
    expect(out.at(-1)!.message).toEqual({ type: 'recovered', subscription_id: id, complete: false })
    expect(s.nextDeadline()).toBeNull()
  })

  it('routes metrics and alerts', () => {
    const s = new SubscriptionSet(operator)
    subscribed(s, ['metrics', 'alerts'], { agent_ids: ['a1'] })
    expect(types(s.offer({ kind: 'metrics', key: 'm', json: {}, agentIds: ['a1'], timeMs: 0 }, 0))).toEqual(['metrics'])
    expect(types(s.offer({ kind: 'alert', key: 'x', json: {}, agentIds: ['a9'], timeMs: 0 }, 0))).toEqual([])
    expect(types(s.offer(item({ tier: 'critical' }), 0))).toEqual([])
  })
})
