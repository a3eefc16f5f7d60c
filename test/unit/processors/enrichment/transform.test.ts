import avro from 'avsc'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { AVSC_OPTIONS, loadSchema, toEnrichedRecord, type AgentEvent, type EnrichedAgentEvent } from '../../../../schemas/index.ts'
import type { Outcome } from '../../../../processors/runtime/outcome.ts'
import { countCommitted, createEnrichmentMetrics } from '../../../../processors/enrichment/metrics.ts'
import { DEFAULT_ENRICHMENT_CONFIG } from '../../../../processors/enrichment/config.ts'
import { DedupWindow } from '../../../../processors/enrichment/dedup.ts'
import { createEnrichmentTransform } from '../../../../processors/enrichment/transform.ts'
import { fixedContext, fixtureNames, readFixture, runFixture } from './fixture-harness.ts'

const names = fixtureNames()

describe('enrichment transform: golden fixtures', () => {
  it('has the fixture cases', () => {
    expect(names.length).toBeGreaterThanOrEqual(30)
  })

  it.each(names)('%s', (name) => {
    const { input, expected } = readFixture(name)
    const { priors, outcome } = runFixture(input)
    for (const prior of priors) expect(prior.kind).toBe('emit')
    expect(outcome).toEqual(expected)
  })

  it('every emitted value encodes with the EnrichedAgentEvent Avro schema', () => {
    const type = avro.Type.forSchema(loadSchema('enriched-agent-event'), AVSC_OPTIONS)
    let emitted = 0
    for (const name of names) {
      const { outcome } = runFixture(readFixture(name).input)
      if (outcome.kind !== 'emit') continue
      for (const record of outcome.records) {
        const wire = toEnrichedRecord(record.value)
        expect(type.isValid(wire, { errorHook: (path) => expect.fail(`${name}: invalid at ${path.join('.')}`) })).toBe(true)
        expect(type.fromBuffer(type.toBuffer(wire))).toEqual(wire)
        emitted += 1
      }
    }
    expect(emitted).toBeGreaterThan(20)
  })
})

const NOW = 1_700_000_000_000
const source = (offset: number, partition = 0) => ({ topic: 'auren.agent-events.v1', partition, offset: String(offset) })

function llmEvent(overrides: Partial<AgentEvent> = {}, payload: Record<string, unknown> = {}): AgentEvent {
  return {
    event_id: '0b7f1c52-2d7e-4c55-8f8e-2b6a0f6d9a11',
    trace_id: 't-1',
    session_id: null,
    parent_event_id: null,
    timestamp: (NOW - 1000) * 1000,
    event_type: 'llm_call_completed',
    source_agent: { id: 'Programmer', role: 'Programmer', domain: null },
    target_agent: null,
    user_id: null,
    source: 'chatdev',
    payload: {
      model: 'gpt-4', provider: 'openai', input_tokens: 1000, output_tokens: 1000, cached_input_tokens: null, reasoning_tokens: null,
      reported_cost_usd: null, latency_ms: 100, success: true, error_type: null, purpose: null, ...payload,
    },
    performance: null,
    attributes: {},
    ...overrides,
  } as AgentEvent
}

async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = registry.getSingleMetric(name)
  if (!metric) throw new Error(`metric ${name} not registered`)
  const { values } = await metric.get()
  const match = values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
  return match?.value ?? 0
}

describe('enrichment transform: behaviour', () => {
  it('keys by trace_id, keeps the event unchanged and stamps lag and enriched_at', () => {
    const transform = createEnrichmentTransform(DEFAULT_ENRICHMENT_CONFIG)
    const event = llmEvent()
    const before = structuredClone(event)
    const out = transform(event, fixedContext(NOW, source(1)))
    expect(out.kind).toBe('emit')
    if (out.kind !== 'emit') return
    expect(out.records).toHaveLength(1)
    expect(out.records[0]?.key).toBe('t-1')
    expect(out.records[0]?.value.event).toEqual(before)
    expect(out.records[0]?.value.ingest_lag_ms).toBe(1000)
    expect(out.records[0]?.value.enriched_at).toBe(NOW * 1000)
    expect(out.records[0]?.value.cost_usd).toBeCloseTo(0.09, 12)
  })

  it('does not remember a dead-lettered event, so a later valid copy is emitted', () => {
    const transform = createEnrichmentTransform(DEFAULT_ENRICHMENT_CONFIG)
    expect(transform(llmEvent({}, { input_tokens: -1 }), fixedContext(NOW, source(1))).kind).toBe('dead-letter')
    expect(transform(llmEvent(), fixedContext(NOW, source(2))).kind).toBe('emit')
    expect(transform(llmEvent(), fixedContext(NOW, source(3))).kind).toBe('skip')
  })

  it('treats the same offset on another partition as a duplicate', () => {
    const transform = createEnrichmentTransform(DEFAULT_ENRICHMENT_CONFIG)
    expect(transform(llmEvent(), fixedContext(NOW, source(7, 0))).kind).toBe('emit')
    expect(transform(llmEvent(), fixedContext(NOW, source(7, 1)))).toEqual({ kind: 'skip', reason: 'duplicate' })
  })

  it('uses an injected dedup window', () => {
    const dedup = new DedupWindow({ maxEntries: 1, maxAgeMs: 60_000 })
    const transform = createEnrichmentTransform(DEFAULT_ENRICHMENT_CONFIG, { dedup })
    transform(llmEvent(), fixedContext(NOW, source(1)))
    expect(dedup.size).toBe(1)
    transform(llmEvent({ event_id: '0b7f1c52-2d7e-4c55-8f8e-2b6a0f6d9a12' }), fixedContext(NOW, source(2)))
    expect(dedup.size).toBe(1)
    // the first id was evicted by the count bound, so its copy at another offset passes
    expect(transform(llmEvent(), fixedContext(NOW, source(3))).kind).toBe('emit')
  })

  it('counts domain metrics once per committed batch (afterCommit), not in the transform', async () => {
    const registry = new Registry()
    const metrics = createEnrichmentMetrics(registry)
    const a = createEnrichmentTransform(DEFAULT_ENRICHMENT_CONFIG, { metrics })
    const b = createEnrichmentTransform(DEFAULT_ENRICHMENT_CONFIG, { metrics })
    const results: { input: AgentEvent; outcome: Outcome<EnrichedAgentEvent> }[] = []
    const run = (t: typeof a, input: AgentEvent, offset: number) => results.push({ input, outcome: t(input, fixedContext(NOW, source(offset), registry)) })
    run(a, llmEvent(), 1)
    run(a, llmEvent(), 1) // redelivery
    run(a, llmEvent(), 2) // duplicate
    run(b, llmEvent({}, { reported_cost_usd: 0.5 }), 9)
    run(b, llmEvent({ event_id: 'x', trace_id: '' }), 10)
    run(b, llmEvent({ event_id: '0b7f1c52-2d7e-4c55-8f8e-2b6a0f6d9a13' }, { model: 'nope-1', success: false }), 11)
    // the transform counted nothing: a batch that fails and is retried must not count twice
    expect(await metricValue(registry, 'auren_enrichment_events_total', { event_type: 'llm_call_completed', tier: 'operational' })).toBe(0)
    countCommitted(metrics, { partition: { input: 'agentEvents', topic: 'in', partition: 0 }, cause: 'records', results, punctuated: [], nowMs: NOW })

    expect(await metricValue(registry, 'auren_enrichment_redeliveries_total')).toBe(1)
    expect(await metricValue(registry, 'auren_enrichment_duplicates_total')).toBe(1)
    expect(await metricValue(registry, 'auren_enrichment_cost_usd_total', { source: 'computed' })).toBeCloseTo(0.18, 12)
    expect(await metricValue(registry, 'auren_enrichment_cost_usd_total', { source: 'reported' })).toBe(0.5)
    expect(await metricValue(registry, 'auren_enrichment_validation_failures_total', { rule: 'uuid' })).toBe(1)
    expect(await metricValue(registry, 'auren_enrichment_validation_failures_total', { rule: 'required' })).toBe(1)
    expect(await metricValue(registry, 'auren_enrichment_unpriced_llm_calls_total')).toBe(1)
    expect(await metricValue(registry, 'auren_enrichment_quality_warnings_total', { rule: 'failure_without_error_type' })).toBe(1)
    expect(await metricValue(registry, 'auren_enrichment_events_total', { event_type: 'llm_call_completed', tier: 'operational' })).toBe(3)
    expect(await metricValue(registry, 'auren_enrichment_events_total', { event_type: 'llm_call_completed', tier: 'critical' })).toBe(1)
    // b's window holds its two emitted ids (a's window is separate; b set the gauge last)
    expect(await metricValue(registry, 'auren_enrichment_dedup_window_entries')).toBe(2)
  })
})
