import { describe, expect, it } from 'vitest'
import { AGENT_EVENT_TYPES, type AgentEvent } from '../../../../schemas/index.ts'
import { AUREN_SPECIALISTS, createSimulator } from '../../../../scripts/sources/simulator.ts'
import { invalidEvents } from './schema-check.ts'

const take = (n: number, seed = 7, users?: string[]): AgentEvent[] => {
  const sim = createSimulator({ seed, users, startTimeUs: 1_750_000_000_000_000 })
  return Array.from({ length: n }, () => sim.next())
}

describe('createSimulator', () => {
  const events = take(3000)
  it('is deterministic for a seed and differs across seeds', () => {
    expect(take(200)).toEqual(events.slice(0, 200))
    expect(take(200, 8).map((e) => e.event_id)).not.toEqual(events.slice(0, 200).map((e) => e.event_id))
  })
  it('covers every event type of the schema, all schema-valid', () => {
    expect(AGENT_EVENT_TYPES.filter((t) => !events.some((e) => e.event_type === t))).toEqual([])
    expect(invalidEvents(events)).toEqual([])
  })
  it('uses the six specialists, the user pool, unique ids and resolvable parents', () => {
    const ids = new Set(events.map((e) => e.event_id))
    expect(ids.size).toBe(events.length)
    expect(events.every((e) => e.parent_event_id === null || ids.has(e.parent_event_id))).toBe(true)
    expect(new Set(events.flatMap((e) => (e.source_agent ? [e.source_agent.id] : []))).size).toBe(6)
    expect(events.every((e) => !e.source_agent || AUREN_SPECIALISTS.some((a) => a.id === e.source_agent!.id && a.domain === e.source_agent!.domain))).toBe(true)
    expect(new Set(take(300, 1, ['a', 'b']).flatMap((e) => (e.user_id ? [e.user_id] : [])))).toEqual(new Set(['a', 'b']))
  })
  it('has plausible payloads with occasional anomalies and failures', () => {
    const bio = events.filter((e) => e.event_type === 'biometric_analysis')
    expect(bio.some((e) => e.payload.anomaly)).toBe(true)
    expect(bio.filter((e) => e.payload.anomaly).length).toBeLessThan(bio.length / 4)
    const calls = events.filter((e) => e.event_type === 'llm_call_completed')
    expect(calls.some((e) => !e.payload.success)).toBe(true)
    expect(calls.every((e) => (e.payload.latency_ms ?? 0) > 0)).toBe(true)
    expect(calls.filter((e) => e.payload.success).every((e) => e.payload.input_tokens > 0)).toBe(true)
    // a rate limit, timeout or server error returns no usage: nothing to count or price
    expect(calls.filter((e) => !e.payload.success).every((e) => e.payload.input_tokens === 0 && e.payload.output_tokens === 0)).toBe(true)
    const mem = events.filter((e) => e.event_type === 'memory_tier_access')
    expect(mem.every((e) => e.payload.tier_latencies[0]?.tier === 'redis_immediate')).toBe(true)
  })
  it('stamps events with its own non-decreasing clock, or with the time given', () => {
    expect(events.every((e, i) => i === 0 || events[i - 1]!.timestamp <= e.timestamp)).toBe(true)
    expect(events[0]!.timestamp).toBeGreaterThanOrEqual(1_750_000_000_000_000)
    expect(createSimulator({ seed: 1 }).next(42).timestamp).toBe(42)
  })
  it('marks its own clock as synthetic time, and live time not', () => {
    expect(events.every((e) => e.attributes['auren.time.synthetic'] === 'simulator clock')).toBe(true)
    expect(createSimulator({ seed: 1 }).next(42).attributes['auren.time.synthetic']).toBeUndefined()
  })
  it('stamps a completion at its start + its latency, in clock and in live mode', () => {
    const live = createSimulator({ seed: 3 })
    const t0 = 1_750_000_000_000_000
    const liveEvents: AgentEvent[] = []
    for (let now = t0; liveEvents.length < 3000; now += 5_000) liveEvents.push(live.next(now)) // 200 events/s
    for (const stream of [events, liveEvents]) {
      const byId = new Map(stream.map((e) => [e.event_id, e]))
      let pairs = 0
      for (const e of stream) {
        const started = e.parent_event_id === null ? undefined : byId.get(e.parent_event_id)
        if (!started) continue
        const latencyMs = e.event_type === 'llm_call_completed' ? e.payload.latency_ms
          : e.event_type === 'tool_usage_completed' ? e.payload.execution_time_ms
            : e.event_type === 'agent_execution_completed' ? e.payload.latency_ms : null
        if (latencyMs === null) continue
        pairs += 1
        expect(Math.abs((e.timestamp - started.timestamp) / 1000 - latencyMs), `${e.event_type} ${e.event_id}`).toBeLessThan(0.01)
      }
      expect(pairs).toBeGreaterThan(300)
    }
    // live: never stamped after the time asked for, and in time order
    expect(liveEvents.every((e, i) => i === 0 || liveEvents[i - 1]!.timestamp <= e.timestamp)).toBe(true)
  })
})
