/**
 * The tier latency budgets of the stream (CONTRACTS.md section 3), timed end to end on the real
 * pipeline: the enrichment app and the gateway run as processes on fresh topics, one operator
 * client subscribes to every channel, and a steady mix of critical, operational and analytical
 * events is produced for ~10 s. For each delivered event the delay is the frame's receive time
 * minus the event's `enriched_at` (both clocks are this machine's). The client runs in a process
 * of its own (test/helpers/gateway-client-worker.ts): timed on the test's event loop, which also
 * produces the load and has run every integration file before this one, a pause of the test
 * process counted as the stream's (a fresh-clone run: one operational event "delivered" 144 ms
 * after enrichment while the critical events' maximum was 31 ms). The issue's acceptance
 * criterion: critical p99 under 50 ms, operational never later than 120 ms, analytical never later
 * than 550 ms. The rate is modest (30 events/s) so that a noisy 2-core machine measures the
 * gateway's batching, not CPU starvation; the figures are printed.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AgentEvent } from '../../schemas/index.ts'
import { agentEvent } from '../helpers/aggregation-events.ts'
import { ClientProcess } from '../helpers/gateway-client-process.ts'
import { llmCallEvent } from '../helpers/events.ts'
import type { AppProcess } from '../helpers/processes.ts'
import { useRunningApp } from '../helpers/running-app.ts'
import { hs256Token, startStreamGateway } from '../helpers/stream-gateway.ts'
import { pause, waitUntil } from '../helpers/wait-until.ts'

const SECRET = randomBytes(32).toString('base64')
const RUN_MS = 10_000
const TICK_MS = 100
type Tier = 'critical' | 'operational' | 'analytical'

const token = (sub: string, roles: string[]) => hs256Token(SECRET, sub, roles)

/** An LLM call: failed ones are critical, successful ones operational. */
function llm(agent: string, failed: boolean): AgentEvent {
  const e = llmCallEvent({ agent, userId: 'u1', eventId: randomUUID(), timestampUs: Date.now() * 1000 })
  return { ...e, payload: { ...e.payload, success: !failed, error_type: failed ? 'timeout' : null } }
}
/** A knowledge access (analytical). */
function knowledge(agent: string): AgentEvent {
  return agentEvent('knowledge_access', { knowledge_item_id: 'k1', domain: null, access_type: 'read', items_retrieved: 1, found: true }, { id: randomUUID(), timestampUs: Date.now() * 1000, agent, user: 'u1', trace: `t-${randomUUID()}` })
}

/** ms since the epoch of an ISO-8601 string with microseconds (`…T14:11:16.123456Z`). */

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1] ?? Number.NaN
}

describe('gateway tier budgets on the real pipeline', () => {
  const pipeline = useRunningApp('enrichment')
  let gateway: AppProcess
  let client: ClientProcess

  beforeAll(async () => {
    gateway = await startStreamGateway(pipeline.kafka.prefix, SECRET, {
      AUREN_GATEWAY_LOG_LEVEL: 'warn',
    })
    client = new ClientProcess()
    const { welcomed } = await client.request<{ welcomed: number }>({ type: 'open', url: `ws://${gateway.address}/v1/stream`, token: await token('ops', ['operator']), count: 1 })
    if (welcomed !== 1) throw new Error(`the client was not welcomed:\n${gateway.output().slice(-4000)}`)
    await client.request({ type: 'subscribe', keep: 1 })
    // The fan-out starts at the latest offsets once it joined its group: produce probes until one arrives.
    await waitUntil('a probe event delivered by the stream', async () => {
      await pipeline.kafka.produceEvents([{ ...llm('probe', true), source: 'bench-probe' }])
      return waitUntil('the probe', async () => (await client.request<{ probes: number }>({ type: 'probes' })).probes > 0, { timeoutMs: 2_000, everyMs: 100 })
    }, { timeoutMs: 60_000 }).catch((err: unknown) => {
      throw new Error(`stream never delivered (${(err as Error).message}):\n${gateway.output().slice(-4000)}`)
    })
  })

  afterAll(async () => {
    await client?.close()
    gateway?.kill('SIGTERM')
    await gateway?.exited
  })

  it('delivers critical events at once (p99 < 50 ms), operational within 120 ms and analytical within 550 ms of enrichment', async () => {
    // From now on the client times every event (receive time − enriched_at, per tier).
    await client.request({ type: 'measure', fromUs: Date.now() * 1000 })
    // 1 critical, 1 operational and 1 analytical event every 100 ms: 30 events/s for 10 s.
    const sent: Record<Tier, number> = { critical: 0, operational: 0, analytical: 0 }
    const started = Date.now()
    for (let tick = 0; Date.now() - started < RUN_MS; tick++) {
      await pipeline.kafka.produceEvents([llm('load', true), llm('load', false), knowledge('load')])
      sent.critical++
      sent.operational++
      sent.analytical++
      const wait = started + (tick + 1) * TICK_MS - Date.now()
      if (wait > 0) await pause(wait)
    }
    const total = sent.critical + sent.operational + sent.analytical
    const report = () => client.request<{ delivered: number; frames: number; latencies: Record<Tier, number[]> }>({ type: 'report' })
    // Up to 30 s for every event; what is missing after that is asserted below, with the figures.
    await waitUntil('every sent event delivered', async () => (await report()).delivered >= total, { timeoutMs: 30_000, everyMs: 100 }).catch(() => undefined)
    const { latencies, frames } = await report()
    const summary = Object.fromEntries((['critical', 'operational', 'analytical'] as const).map((t) => {
      const s = [...latencies[t]].sort((a, b) => a - b)
      return [t, { sent: sent[t], delivered: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s.at(-1) ?? Number.NaN }]
    })) as Record<Tier, { sent: number; delivered: number; p50: number; p99: number; max: number }>
    const fmt = (n: number) => n.toFixed(1)
    for (const [t, s] of Object.entries(summary)) {
      console.log(`[gateway budgets] ${t.padEnd(11)} ${s.delivered}/${s.sent} delivered; enriched_at → frame received: p50 ${fmt(s.p50)} ms, p99 ${fmt(s.p99)} ms, max ${fmt(s.max)} ms`)
    }
    console.log(`[gateway budgets] ${frames} frames with events`)

    for (const t of ['critical', 'operational', 'analytical'] as const) expect(summary[t].delivered, t).toBe(sent[t])
    expect(summary.critical.p99).toBeLessThan(50)
    expect(summary.operational.max).toBeLessThan(120)
    expect(summary.analytical.max).toBeLessThan(550)
    // Nothing was dropped and the gateway's own histogram saw every frame.
    const metrics = await gateway.metrics()
    expect(metrics).toMatch(/auren_gateway_delivery_latency_seconds_count\{tier="critical"\} \d+/)
    expect(metrics).not.toMatch(/auren_gateway_dropped_messages_total\{reason="(slow_client|buffer_full)"\} [1-9]/)
  })
})
