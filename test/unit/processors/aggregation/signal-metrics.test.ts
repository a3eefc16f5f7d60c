import { describe, expect, it } from 'vitest'
import { Registry } from 'prom-client'
import { createSignalMetrics, recordSignalRows } from '../../../../processors/aggregation/signal-metrics.ts'
import { mergeDeltas } from '../../../../processors/aggregation/rollup-delta.ts'
import { toRollupDelta } from '../../../../processors/aggregation/transform.ts'
import { readFixture } from './fixture-harness.ts'

describe('signal metrics', () => {
  it('count each signal event once, by its bounded labels; biometric readings split by anomaly', async () => {
    const { input } = readFixture('signal-rollups')
    const registry = new Registry()
    const m = createSignalMetrics(registry)
    recordSignalRows(m, mergeDeltas(input.events!.map((e) => toRollupDelta(e))))
    const values = async (name: string) => (await (registry.getSingleMetric(name) as unknown as { get(): Promise<{ values: { labels: Record<string, string>; value: number }[] }> }).get()).values
    expect(await values('auren_biometric_readings_total')).toEqual(expect.arrayContaining([
      { labels: { metric: 'hrv', anomaly: 'true' }, value: 1 },
      { labels: { metric: 'hrv', anomaly: 'false' }, value: 1 },
    ]))
    expect(await values('auren_agent_decisions_total')).toEqual(expect.arrayContaining([
      { labels: { agent: 'sleep', category: 'recommendation', urgency: 'high' }, value: 2 },
      { labels: { agent: 'Chief Executive Officer', category: '', urgency: '' }, value: 1 },
    ]))
    expect(await values('auren_system_health_reports_total')).toEqual([{ labels: { component: 'redis', status: 'degraded' }, value: 1 }])
    expect(await values('auren_memory_operations_total')).toEqual([{ labels: { agent: 'sleep', operation: 'created', memory_type: 'fact' }, value: 2 }])
    expect(await values('auren_conversation_turns_total')).toEqual([{ labels: { agent: 'sleep' }, value: 1 }])
    expect(await values('auren_performance_metric_samples_total')).toEqual([{ labels: { name: 'queue_wait', unit: 'seconds' }, value: 1 }])
  })
})
