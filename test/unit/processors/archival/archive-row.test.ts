import { describe, expect, it } from 'vitest'
import type { Alert, EnrichedAgentEvent } from '../../../../schemas/index.ts'
import { alertRow, eventRow, partitionOf } from '../../../../processors/archival/archive-row.ts'
import { batchObjectKey, compactedObjectKey, hourStartMs, parseObjectKey } from '../../../../processors/archival/object-key.ts'
import { llmCallEvent } from '../../../helpers/events.ts'

const at = { topic: 'auren.agent-events.enriched.v1', partition: 3, offset: '1200' }
const tsUs = Date.parse('2026-11-30T05:59:59.999Z') * 1000 + 999

function enriched(): EnrichedAgentEvent {
  return {
    event: { ...llmCallEvent({ agent: 'nutritionist', input: 1500, output: 300, timestampUs: tsUs, userId: 'u1' }), attributes: { 'gen_ai.system': 'openai' } },
    tier: 'operational',
    cost_usd: 0.0123,
    cost_source: 'computed',
    pricing_ref: 'genai-prices@0.1.8 openai/gpt-4o',
    agent_domain: 'nutrition',
    tool_category: null,
    input_complexity: null,
    ingest_lag_ms: 12,
    enriched_at: tsUs + 12_000,
  }
}

describe('archive rows', () => {
  it('maps an enriched LLM call to typed columns, payload as JSON text and its source position', () => {
    const e = enriched()
    const row = eventRow(e, at)
    expect(row).toMatchObject({
      record_kind: 'event', event_id: e.event.event_id, event_time: tsUs, event_type: 'llm_call_completed', tier: 'operational',
      agent_id: 'nutritionist', agent_domain: 'nutrition', user_id: 'u1', model: 'gpt-4o', provider: 'openai',
      input_tokens: 1500n, output_tokens: 300n, cost_usd: 0.0123, cost_source: 'computed', latency_ms: 850, success: true,
      enriched_at: tsUs + 12_000, attributes: { 'gen_ai.system': 'openai' },
      source_topic: at.topic, source_partition: 3, source_offset: 1200n,
    })
    expect(JSON.parse(row.payload)).toEqual(e.event.payload)
  })

  it('gives non-LLM events null tokens and model', () => {
    const e = enriched()
    const ev = { ...e.event, event_type: 'agent_handoff', payload: { from_agent: 'a', to_agent: 'b', topic: null, reason: null } }
    const row = eventRow({ ...e, event: ev } as unknown as EnrichedAgentEvent, at)
    expect([row.model, row.input_tokens, row.output_tokens]).toEqual([null, null, null])
  })

  it('maps an alert with a deterministic id and a tier from its severity', () => {
    const alert: Alert = {
      fingerprint: 'f1', rule: 'cost_spike', severity: 'warning', status: 'firing', labels: { agent: 'sleep' },
      annotations: { summary: 's', description: 'd', runbook: 'r' } as Alert['annotations'], value: 2, threshold: 1,
      starts_at: tsUs, ends_at: null, source_window: null,
    }
    const row = alertRow(alert, { ...at, topic: 'auren.alerts.v1' })
    expect(row).toMatchObject({ record_kind: 'alert', event_id: `alert:f1:firing:${tsUs}`, tier: 'operational', agent_id: 'sleep', severity: 'warning' })
    expect(alertRow({ ...alert, severity: 'critical' }, at).tier).toBe('critical')
    expect(alertRow({ ...alert, severity: 'info' }, at).tier).toBe('analytical')
  })

  it('partitions by UTC date and hour of the event time', () => {
    expect(partitionOf({ event_time: tsUs, tier: 'critical' })).toEqual({ date: '2026-11-30', hour: 5, tier: 'critical' })
    expect(partitionOf({ event_time: tsUs + 1, tier: 'critical' })).toEqual({ date: '2026-11-30', hour: 6, tier: 'critical' })
  })
})

describe('object keys', () => {
  const p = { date: '2026-11-30', hour: 5, tier: 'critical' } as const
  it('are a function of hive partition, topic, partition and first offset', () => {
    const key = batchObjectKey(p, 'auren.agent-events.enriched.v1', 3, '1200')
    expect(key).toBe('events/date=2026-11-30/hour=05/tier=critical/auren.agent-events.enriched.v1+p3+o000000000000001200.parquet')
    expect(batchObjectKey(p, 'auren.agent-events.enriched.v1', 3, '1200')).toBe(key)
    expect(batchObjectKey(p, 'auren.agent-events.enriched.v1', 3, '1201')).not.toBe(key)
    expect(parseObjectKey(key)).toEqual(p)
    expect(() => batchObjectKey(p, 't', 0, '-1')).toThrow(/invalid offset/)
  })
  it('name a compaction by its inputs, whatever their order', () => {
    expect(compactedObjectKey(p, ['b', 'a'])).toBe(compactedObjectKey(p, ['a', 'b']))
    expect(compactedObjectKey(p, ['a'])).not.toBe(compactedObjectKey(p, ['a', 'b']))
    expect(parseObjectKey(compactedObjectKey(p, ['a']))).toEqual(p)
    expect(parseObjectKey('elsewhere/x.parquet')).toBeNull()
    expect(hourStartMs(p)).toBe(Date.parse('2026-11-30T05:00:00Z'))
  })
})
