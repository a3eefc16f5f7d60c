/**
 * Freshness figures measure the pipeline, not the age of replayed data: auren_event_lag_seconds
 * (runner + the apps' observe functions) and auren_gateway_delivery_latency_seconds (stream items)
 * start from the Kafka record's timestamp when the event time is replayed or synthetic.
 */
import { describe, expect, it } from 'vitest'
import { observeAggregation } from '../../processors/aggregation/definition.ts'
import { observeEnrichment } from '../../processors/enrichment/definition.ts'
import { eventItem } from '../../gateway/event-json.ts'
import { SubscriptionSet } from '../../gateway/subscriptions.ts'
import type { EnrichedAgentEvent } from '../../schemas/index.ts'
import { llmCallEvent } from '../helpers/events.ts'

const OLD_US = Date.parse('2023-10-22T15:41:33Z') * 1000
const NOW_MS = Date.parse('2026-11-30T16:00:00Z')
const enriched = (attributes: Record<string, string>, timestampUs = OLD_US): EnrichedAgentEvent => ({
  event: { ...llmCallEvent({ timestampUs }), attributes }, tier: 'critical', cost_usd: null, cost_source: null, pricing_ref: null,
  agent_domain: null, tool_category: null, input_complexity: null, ingest_lag_ms: 0, enriched_at: 0,
})

describe('freshness of replayed and synthetic times', () => {
  it('the apps measure event lag of replayed or synthetic times from the record time', () => {
    const replayed = enriched({ 'auren.replay.file': 'chatdev/x.log' })
    const synthetic = enriched({ 'auren.time.synthetic': 'history index × 1000000 µs' })
    const live = enriched({}, NOW_MS * 1000)
    expect(observeEnrichment(replayed.event, [replayed])).toEqual({ eventTimeMs: OLD_US / 1000, tier: 'critical', fromRecordTime: true })
    expect(observeAggregation(synthetic)).toMatchObject({ fromRecordTime: true })
    expect(observeAggregation(live)).toMatchObject({ fromRecordTime: false, eventTimeMs: NOW_MS })
  })

  it('the gateway measures delivery latency of a replayed event from its record time, keeps the event time for since-replay', () => {
    const replayed = eventItem(enriched({ 'auren.replay.file': 'chatdev/x.log' }), NOW_MS - 40)
    expect(replayed).toMatchObject({ timeMs: OLD_US / 1000, latencyFromMs: NOW_MS - 40 })
    expect(eventItem(enriched({}, (NOW_MS - 5) * 1000), NOW_MS - 3)).toMatchObject({ latencyFromMs: NOW_MS - 5 })
    const subs = new SubscriptionSet({ userId: 'ops', roles: ['operator'] })
    subs.subscribe({ type: 'subscribe', channels: ['events'] })
    const out = subs.offer(replayed, NOW_MS) // critical: a frame at once
    expect(out.map((o) => o.eventTimesMs)).toEqual([[NOW_MS - 40]])
  })
})
