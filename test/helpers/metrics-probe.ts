/**
 * Readiness of the gateway's stream on the metrics topic: its consumer starts at the latest
 * offsets once it joined its group and fetched, so a test that publishes windows must first see
 * one arrive. A probe window (agent `probe`) is produced to `auren.agent-metrics.v1` until a
 * separate client, subscribed to `metrics` for that agent alone, receives one; the test's own
 * connections see nothing of it.
 */
import WebSocket from 'ws'
import type { AgentMetricsWindow } from '../../schemas/index.ts'
import type { TestKafka } from './kafka.ts'
import { waitUntil } from './wait-until.ts'

const NO_LATENCY = { count: 0, sum_ms: 0, p50_ms: null, p95_ms: null, p99_ms: null }

/** A window of agent `probe` with nothing counted, starting at `startUs` (UTC µs). */
function probeWindow(startUs: number): AgentMetricsWindow {
  return {
    agent_id: 'probe', window_start: startUs, window_end: startUs + 60_000_000, executions: { started: 0, succeeded: 0, failed: 0 },
    llm_calls: { succeeded: 0, failed: 0 }, input_tokens: 0, output_tokens: 0, cost_usd: 0, tool_calls: 0, errors: 0,
    execution_latency: NO_LATENCY, llm_latency: NO_LATENCY, collaborations: 0, late_events: 0,
  }
}

/**
 * Produces probe windows (one every 2 s, each a new window so none is deduplicated) until the
 * gateway at `address` delivers one on the `metrics` channel.
 * @param token an operator's bearer token
 * @throws Error after 60 s, with the gateway's output from `output()`
 */
export async function waitMetricsStreamReady(kafka: TestKafka, address: string, token: string, output: () => string): Promise<void> {
  const ws = new WebSocket(`ws://${address}/v1/stream`, { headers: { Authorization: `Bearer ${token}` } })
  let subscribed = false
  let delivered = false
  ws.on('error', () => {})
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString()) as { type: string }
    if (m.type === 'welcome') ws.send(JSON.stringify({ type: 'subscribe', channels: ['metrics'], filters: { agent_ids: ['probe'] } }))
    if (m.type === 'subscribed') subscribed = true
    if (m.type === 'metrics') delivered = true
  })
  try {
    await waitUntil('the probe client subscribed', () => subscribed, { timeoutMs: 20_000 })
    const topic = kafka.topics.agentMetrics
    const schemaId = await kafka.serde.register(topic, 'agent-metrics-window')
    let n = 0
    await waitUntil('a probe window delivered on the metrics channel', async () => {
      const value = kafka.serde.encode(schemaId, 'agent-metrics-window', probeWindow(Date.UTC(2000, 0, 1) * 1000 + n++ * 60_000_000))
      await kafka.producer.send([{ topic, key: 'probe', value }])
      return waitUntil('the probe window', () => delivered, { timeoutMs: 2_000, everyMs: 50 })
    }, { timeoutMs: 60_000 }).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}:\n${output().slice(-4000)}`)
    })
  } finally {
    ws.terminate()
  }
}
