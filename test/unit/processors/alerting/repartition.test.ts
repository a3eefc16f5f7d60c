/**
 * The two-stage evaluation of the rules that gather a group's events from every trace
 * (processors/alerting/partial-buckets.ts, partial-merge.ts, definition.ts): the enriched topic is
 * keyed by trace, so an agent's, user's or model's events are spread over its partitions; each
 * partition sends its closed buckets, keyed by group, to the repartition topic, where they are
 * added up under the lowest source watermark. Driven as the runner drives the definition
 * (test/helpers/alerting-definition-harness.ts).
 */
import { describe, expect, it } from 'vitest'
import type { Alert, EnrichedAgentEvent } from '../../../../schemas/index.ts'
import { validateRuleFile, type Rule } from '../../../../processors/alerting/rule-schema.ts'
import { partitionForKey } from '../../../../processors/runtime/kafka/murmur2-partitioner.ts'
import { benchRuleFile } from '../../../bench/alerting-rules.ts'
import { alertingHarness } from '../../../helpers/alerting-definition-harness.ts'
import { agentEvent, enriched, llmPayload, randomWorkload } from '../../../helpers/aggregation-events.ts'

const S = 1000
const M = 60 * S
const T0 = Date.UTC(2026, 0, 1, 10) // ms
const IDLE_MS = 10 * S
const LATENESS_MS = 5 * S

function rules(specs: unknown[]): Rule[] {
  const r = validateRuleFile({ rules: specs })
  if (!r.ok) throw new Error(r.errors.join('\n'))
  return r.rules
}

const RATE_LIMITED = rules([{
  id: 'agent-rate-limited', severity: 'warning', group_by: ['agent'],
  selector: { event_types: ['llm_call_completed'], error_types: ['rate_limit_exceeded'] },
  condition: { kind: 'count', window: '5m', threshold: 3 },
  annotations: { summary: '{{ labels.agent }} rate limited', description: 'd' },
}])

let seq = 0
function rateLimit(atMs: number, agent: string, trace: string): EnrichedAgentEvent {
  return enriched(agentEvent('llm_call_completed', llmPayload({ success: false, error_type: 'rate_limit_exceeded', latency_ms: null, output_tokens: 0 }), { id: `e-${++seq}`, timestampUs: atMs * 1000, agent, trace }), { ingest_lag_ms: 0 })
}

type Harness = ReturnType<typeof alertingHarness>

/**
 * Feeds `events` to `sources` enriched partitions (by trace, as the enriched topic is keyed),
 * one per ms of processing time, with a tick and a delivery of the repartition records every
 * `every` events; then lets processing time run on past the idle timeout so that every timer
 * the history implies fires. `restartAt`: every state goes through its codec after that many events.
 */
function run(o: { rules: readonly Rule[]; events: readonly EnrichedAgentEvent[]; sources: number; merges: number; every?: number; duplicate?: boolean; reverse?: boolean; restartAt?: number; streamTime?: boolean }): Harness {
  const h = alertingHarness({ rules: o.rules, sources: o.sources, merges: o.merges, idleTimeoutMs: IDLE_MS, allowedLatenessMs: LATENESS_MS, maxGroupsPerRule: 10_000, streamTime: o.streamTime })
  const order = (n: number) => {
    const xs = Array.from({ length: n }, (_, i) => i)
    return o.reverse ? xs.reverse() : xs
  }
  let now = 0
  o.events.forEach((e, i) => {
    h.record(partitionForKey(e.event.trace_id ?? '', o.sources), e, ++now)
    if ((i + 1) % (o.every ?? 50) === 0) {
      h.tick(now, order(o.sources))
      h.deliver(now, order(o.merges), o.duplicate)
    }
    if (i + 1 === o.restartAt) h.restart()
  })
  for (let k = 0; k < 3; k += 1) {
    now += IDLE_MS + 3 * 24 * 3600 * S
    h.tick(now, order(o.sources))
    h.deliver(now, order(o.merges), o.duplicate)
  }
  return h
}

/** Each fingerprint's state changes in order (status and times; the order among fingerprints depends on the partitions). */
function changesByFingerprint(alerts: readonly Alert[]): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const a of alerts) (out[`${a.rule} ${JSON.stringify(a.labels)}`] ??= []).push(`${a.status} ${a.starts_at} ${a.ends_at}`)
  return out
}

describe('repartitioned rules', () => {
  it('fire on a group whose events are spread over partitions: 2 + 1 rate limits of one agent in 5 minutes', () => {
    const events = [rateLimit(T0, 'Programmer', 'trace-a'), rateLimit(T0 + M, 'Programmer', 'trace-b'), rateLimit(T0 + 2 * M, 'Programmer', 'trace-a')]
    const h = alertingHarness({ rules: RATE_LIMITED, sources: 2, merges: 3, idleTimeoutMs: IDLE_MS })
    h.record(0, events[0]!, 1)
    h.record(1, events[1]!, 2)
    h.record(0, events[2]!, 3)
    h.tick(4)
    h.deliver(4)
    expect(h.mergedAlerts()).toEqual([]) // partition 1's bucket is open yet: its clock is at T0 + 1m
    // Both idle: their clocks move on by processing time (partition 1's from T0 + 1m to T0 + 2m38s),
    // so every bucket closes and the merge's watermark passes T0 + 2m30s.
    h.tick(100 * S)
    h.deliver(100 * S)
    // The third rate limit's bucket [T0 + 2m, T0 + 2m30s) closes on partition 0 at T0 + 2m30s.
    expect(h.mergedAlerts()).toEqual([`agent-rate-limited Programmer firing starts=${new Date(T0 + 2 * M + 30 * S).toISOString()} ends=-`])
    // Neither partition alone reached 3.
    expect(h.sent.flatMap((r) => r.buckets.map((b) => `${r.source} ${(b.start - T0) / S}s n=${b.n}`)).sort()).toEqual(['t.enriched:0 0s n=1', 't.enriched:0 120s n=1', 't.enriched:1 60s n=1'])
  })

  it('completes a replay whose partitions end at different event times once they are idle', () => {
    // Run A (weeks earlier) on partition 0, run B on partition 1; both end, then both are idle.
    const T1 = T0 + 21 * 24 * 60 * M
    const h = alertingHarness({ rules: RATE_LIMITED, sources: 2, merges: 2, idleTimeoutMs: IDLE_MS, allowedLatenessMs: LATENESS_MS })
    let now = 0
    for (const t of [T1, T1 + M, T1 + 2 * M]) h.record(1, rateLimit(t, 'Reviewer', 'trace-b'), ++now)
    for (const t of [T0, T0 + M, T0 + 2 * M]) h.record(0, rateLimit(t, 'Programmer', 'trace-a'), ++now)
    h.tick(++now)
    h.deliver(now)
    // Both active: the merge waits for partition 0, whose watermark is T0 + 2m - 5 s.
    expect(h.mergedAlerts()).toEqual([])
    h.tick(now + IDLE_MS)
    h.deliver(now + IDLE_MS)
    // Both idle, every bucket sent: the merge moves to the highest watermark, and each run's alert
    // fires at the end of its third rate limit's bucket (Programmer's also resolves: T1 is weeks later).
    expect([...h.mergedAlerts()].sort()).toEqual([
      `agent-rate-limited Programmer firing starts=${new Date(T0 + 2 * M + 30 * S).toISOString()} ends=-`,
      `agent-rate-limited Programmer resolved starts=${new Date(T0 + 2 * M + 30 * S).toISOString()} ends=${new Date(T0 + 5 * M + 30 * S).toISOString()}`,
      `agent-rate-limited Reviewer firing starts=${new Date(T1 + 2 * M + 30 * S).toISOString()} ends=-`,
    ])
  })

  it('counts an event later than the allowed lateness once, as a further partial of its bucket', () => {
    const h = alertingHarness({ rules: RATE_LIMITED, sources: 1, merges: 1, idleTimeoutMs: IDLE_MS, allowedLatenessMs: LATENESS_MS })
    h.record(0, rateLimit(T0, 'Programmer', 'a'), 1)
    h.record(0, rateLimit(T0 + 2 * M, 'Programmer', 'a'), 2)
    h.tick(3) // the watermark (T0 + 1m55s) closes [T0, T0 + 30s)
    h.record(0, rateLimit(T0 + 10 * S, 'Programmer', 'a'), 4) // 110 s late: its bucket was sent
    h.tick(5)
    h.deliver(5)
    const sent = h.sent.flatMap((r) => r.buckets.map((b) => [b.start - T0, b.n]))
    expect(sent).toEqual([[0, 1], [0, 1]])
    // 3 rate limits in 5 minutes once the T0 + 2m bucket closes
    h.tick(100 * S)
    h.deliver(100 * S)
    expect(h.mergedAlerts()).toEqual([`agent-rate-limited Programmer firing starts=${new Date(T0 + 2 * M + 30 * S).toISOString()} ends=-`])
  })

  describe('a source with records left to read (its lag > 0) is not idle, however long since its last record', () => {
    // Programmer's 3rd rate limit in 5 minutes is on partition 1, which is behind (a backlog, as
    // after a restart or on a consumer busy with other partitions) while partition 0 reads on
    // through 20 minutes of history. Were partition 1 idle after the idle timeout, the merge
    // would pass Programmer's window before that event's bucket came, and the alert be lost.
    const programmerFired = `agent-rate-limited Programmer firing starts=${new Date(T0 + 2 * M + 30 * S).toISOString()} ends=-`
    /** Reviewer's rate limits, one a minute from T0 + 3m to T0 + 40m, for partition 0 to read. */
    const reviewer = () => Array.from({ length: 38 }, (_, i) => rateLimit(T0 + (3 + i) * M, 'Reviewer', 'trace-r'))
    /** Each second from `fromMs` to `toMs`: partition 0 reads its next event (while any is left), a tick, a delivery. */
    const flow = (h: Harness, fromMs: number, toMs: number, zero: EnrichedAgentEvent[]) => {
      for (let t = fromMs; t <= toMs; t += S) {
        const e = zero.shift()
        if (e) h.record(0, e, t)
        h.tick(t)
        h.deliver(t)
      }
    }

    /**
     * Programmer's rate limits at T0 (partition 0) and T0 + 1m (partition 1); then partition 1
     * has `lagRecords` left to read while partition 0 reads on for 3 idle timeouts; then partition
     * 1 reads its T0 + 2m rate limit and both run on until idle. Returns the harness and what the
     * merge had raised, and whether partition 1 had sent an idle mark, at the end of the gap.
     */
    /** Partial buckets the merges applied after their clock had passed the bucket's end. */
    const lateBuckets = (h: Harness) => h.merges.reduce((n, m) => n + (m.state.get().merge?.engine.stats().lateBuckets ?? 0), 0)

    const thirdOnPartitionOneAfterGap = (lagRecords: number) => {
      const h = alertingHarness({ rules: RATE_LIMITED, sources: 2, merges: 1, idleTimeoutMs: IDLE_MS, allowedLatenessMs: LATENESS_MS })
      h.record(0, rateLimit(T0, 'Programmer', 'trace-a'), 1)
      h.record(1, rateLimit(T0 + M, 'Programmer', 'trace-b'), 2)
      const zero = reviewer()
      flow(h, S, 2 * S, [])
      h.sources[1]!.lagRecords = lagRecords
      flow(h, 3 * S, 3 * IDLE_MS, zero) // partition 1: no record for 3 idle timeouts
      const gap = { alerts: [...h.mergedAlerts()], idleSent: h.sent.some((r) => r.source === 't.enriched:1' && r.idle) }
      h.record(1, rateLimit(T0 + 2 * M, 'Programmer', 'trace-b'), 3 * IDLE_MS + 1)
      h.sources[1]!.lagRecords = 0
      flow(h, 3 * IDLE_MS + S, 8 * IDLE_MS, zero) // both catch up, then are idle: every bucket applied
      return { h, gap }
    }

    it('one whose clock the merge knows: it holds the merge at its watermark', () => {
      const { h, gap } = thirdOnPartitionOneAfterGap(1) // its next record waits to be fetched
      expect(gap.idleSent).toBe(false)
      expect(gap.alerts).toEqual([]) // held at partition 1's watermark, T0 + 1m - 5 s
      expect(h.mergedAlerts()).toContain(programmerFired)
      expect(lateBuckets(h)).toBe(0)
    })

    it('one that has read nothing since it was assigned (lag not measured, then > 0): it holds the merge from the start', () => {
      const h = alertingHarness({ rules: RATE_LIMITED, sources: 2, merges: 1, idleTimeoutMs: IDLE_MS, allowedLatenessMs: LATENESS_MS })
      h.sources[1]!.lagRecords = null
      h.record(0, rateLimit(T0, 'Programmer', 'trace-a'), 1)
      h.record(0, rateLimit(T0 + M, 'Programmer', 'trace-a'), 2)
      const zero = reviewer()
      flow(h, S, 2 * S, [])
      h.sources[1]!.lagRecords = 40 // measured: a backlog
      flow(h, 3 * S, 3 * IDLE_MS, zero)
      expect(h.mergedAlerts()).toEqual([])
      h.record(1, rateLimit(T0 + 2 * M, 'Programmer', 'trace-b'), 3 * IDLE_MS + 1)
      h.sources[1]!.lagRecords = 0
      flow(h, 3 * IDLE_MS + S, 8 * IDLE_MS, zero)
      expect(h.mergedAlerts()).toContain(programmerFired)
    })

    it('and the same source caught up is idle after the idle timeout: its late bucket misses the alert (the reason for the rule)', () => {
      const { h, gap } = thirdOnPartitionOneAfterGap(0) // caught up (lag 0) and quiet: idle
      expect(gap.idleSent).toBe(true)
      expect(h.mergedAlerts()).not.toContain(programmerFired)
      expect(lateBuckets(h)).toBe(1) // and it is counted (auren_alert_late_buckets_total)
    })
  })

  describe('with the shipped and the 50 bench rules over a random workload', () => {
    const all = rules(benchRuleFile().rules)
    // Events up to 3 s out of order within a trace: within the allowed lateness.
    const events = randomWorkload(7, 6000, { startUs: T0 * 1000, stepMs: 400, jitterMs: 1500 })
    const reference = run({ rules: all, events, sources: 1, merges: 1 })
    const expected = changesByFingerprint(reference.all)

    it('raises alerts of every kind of rule that is repartitioned', () => {
      const ruleKinds = new Map(all.map((r) => [r.id, r.condition.kind]))
      const kinds = new Set(reference.all.map((a) => ruleKinds.get(a.rule)))
      for (const kind of ['count', 'ratio', 'latency', 'budget', 'absence']) expect(kinds, kind).toContain(kind)
      expect(reference.all.filter((a) => a.status === 'resolved').length).toBeGreaterThan(10)
    })

    it.each([
      [3, 2],
      [6, 4],
      [4, 1],
    ])('gives every group the same alerts with %i enriched and %i repartition partitions as with one of each', (sources, merges) => {
      expect(changesByFingerprint(run({ rules: all, events, sources, merges }).all)).toEqual(expected)
    })

    it('gives the same alerts whatever the order of ticks and deliveries and the delivery cadence', () => {
      expect(changesByFingerprint(run({ rules: all, events, sources: 3, merges: 2, reverse: true, every: 7 }).all)).toEqual(expected)
    })

    it('gives the same alerts whether the closed buckets go at the end of each batch (stream time) or only at ticks', () => {
      const ticksOnly = run({ rules: all, events, sources: 3, merges: 2, streamTime: false })
      expect(changesByFingerprint(ticksOnly.all)).toEqual(expected)
      expect(run({ rules: all, events, sources: 3, merges: 2 }).sent.length).toBeGreaterThan(ticksOnly.sent.length) // the stream-time flushes did run
    })

    it('counts each bucket once when the outbox publishes every record twice', () => {
      expect(changesByFingerprint(run({ rules: all, events, sources: 3, merges: 2, duplicate: true }).all)).toEqual(expected)
    })

    it('continues exactly when every partition\'s state is saved and restored mid-stream', () => {
      const h = run({ rules: all, events, sources: 3, merges: 2, restartAt: 2500 })
      expect(changesByFingerprint(h.all)).toEqual(expected)
    })

    it('sends each bucket of each group once per source, and leaves none waiting at the end', () => {
      const h = run({ rules: all, events, sources: 3, merges: 2 })
      const buckets = h.sent.flatMap((r) => r.buckets.map((b) => `${r.source} ${b.aggregation} ${b.group_key} ${b.start}`))
      expect(buckets.length).toBeGreaterThan(1000)
      expect(new Set(buckets).size).toBe(buckets.length)
      expect(h.merges.every((m) => m.state.get().merge!.pendingBuckets() === 0)).toBe(true)
    })
  })
})
