/**
 * The `metrics` channel fed by the real aggregation app: the gateway (stream on) and the
 * aggregation app run as processes on fresh topics and a fresh PostgreSQL schema. An operator
 * client subscribes to `metrics` for two agents; simulator events spanning several minutes of
 * event time are produced to the enriched topic. Every `AgentMetricsWindow` the aggregation app
 * publishes for those agents reaches the client once, as a `metrics` frame whose window equals the
 * record on `auren.agent-metrics.v1` (timestamps as ISO-8601), and nothing for other agents.
 */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { readTopicToEnd } from '../../scripts/lib/read-topic.ts'
import type { AgentMetricsWindow } from '../../schemas/index.ts'
import { dropSchema, enrichAll, produceEnriched, schemaPool, simulatedEvents, startAggregation, waitStoredCaughtUp } from '../bench/aggregation-workload.ts'
import { createTestKafka, type TestKafka } from '../helpers/kafka.ts'
import type { AppProcess } from '../helpers/processes.ts'
import { hs256Token, startStreamGateway } from '../helpers/stream-gateway.ts'
import { waitUntil } from '../helpers/wait-until.ts'
import { waitMetricsStreamReady } from '../helpers/metrics-probe.ts'

const SECRET = randomBytes(32).toString('base64')
type Msg = Record<string, unknown> & { type: string }
/** A window publication: agent, window start (ISO-8601) and late events. */
const revision = (agent: unknown, start: unknown, late: unknown) => `${String(agent)}@${String(start)}#${String(late)}`

function isoFromMicros(us: number): string {
  const ms = Math.floor(us / 1000)
  return `${new Date(ms).toISOString().slice(0, -1)}${String(Math.round(us - ms * 1000)).padStart(3, '0')}Z`
}

describe('gateway metrics channel fed by the aggregation app', () => {
  let kafka: TestKafka
  let gateway: AppProcess
  let aggregation: AppProcess | undefined
  let ws: WebSocket
  const messages: Msg[] = []
  const schema = `agg_m_${randomBytes(6).toString('hex')}`

  beforeAll(async () => {
    kafka = await createTestKafka()
    gateway = await startStreamGateway(kafka.prefix, SECRET, { AUREN_GATEWAY_LOG_LEVEL: 'warn' })
    const token = await hs256Token(SECRET, 'ops', ['operator'])
    ws = new WebSocket(`ws://${gateway.address}/v1/stream`, { headers: { Authorization: `Bearer ${token}` } })
    ws.on('message', (data) => messages.push(JSON.parse(data.toString()) as Msg))
    await new Promise<void>((resolve, reject) => {
      ws.once('error', reject)
      ws.on('message', () => {
        if (messages.some((m) => m.type === 'welcome') && !messages.some((m) => m.type === 'subscribe-sent')) {
          messages.push({ type: 'subscribe-sent' })
          ws.send(JSON.stringify({ type: 'subscribe', channels: ['metrics'], filters: { agent_ids: ['neuroscientist', 'nutritionist'] } }))
        }
        if (messages.some((m) => m.type === 'subscribed')) resolve()
      })
    })
    // kafkajs joins before it has fetched: see a probe window arrive (the fresh group's "latest"
    // positions resolved) before anything is published to the metrics topic.
    await waitMetricsStreamReady(kafka, gateway.address, token, () => gateway.output())
  }, 120_000)

  afterAll(async () => {
    ws?.terminate()
    aggregation?.kill('SIGTERM')
    await aggregation?.exited
    gateway?.kill('SIGTERM')
    await gateway?.exited
    await kafka?.close()
    await dropSchema(schema)
  })

  it('delivers every published window of the subscribed agents once, equal to the topic record', async () => {
    const now = Date.now()
    const events = enrichAll(simulatedEvents(2_000, 5, (now - 2 * 3_600_000) * 1000), now)
    await produceEnriched(kafka, events)
    aggregation = await startAggregation(kafka.prefix, schema, { AUREN_AGGREGATION_EXPECTED_PARTITIONS: '6' })
    const pool = schemaPool(schema)
    try {
      await waitStoredCaughtUp(pool, kafka, kafka.topics.enrichedEvents, { timeoutMs: 120_000, pollMs: 200, alive: () => aggregation!.child.exitCode === null })
    } finally {
      await pool.end()
    }
    const wanted = new Set(['neuroscientist', 'nutritionist'])
    // Windows reach the topic through the outbox publisher: read until the gateway's count stops changing.
    let published: AgentMetricsWindow[] = []
    await waitUntil('a metrics frame for every published window revision', async () => {
      const records = await readTopicToEnd(kafka.driver, kafka.admin, kafka.topics.agentMetrics)
      published = (await Promise.all(records.map(async (r) => (await kafka.serde.decode(r.value!, 'agent-metrics-window')) as AgentMetricsWindow)))
        .filter((w) => wanted.has(w.agent_id))
      const frames = messages.filter((m) => m.type === 'metrics')
      return published.length > 0 && frames.length >= new Set(published.map((w) => revision(w.agent_id, isoFromMicros(w.window_start), w.late_events))).size
    }, { timeoutMs: 60_000, everyMs: 500 }).catch(() => undefined) // the comparisons below say what is missing
    const frames = messages.filter((m) => m.type === 'metrics') as unknown as { subscription_id: string; window: Record<string, unknown> }[]
    console.log(`[gateway metrics channel] ${published.length} windows of the two agents on the topic, ${frames.length} metrics frames received`)
    expect(published.length).toBeGreaterThan(5)
    expect(frames.every((f) => wanted.has(f.window.agent_id as string))).toBe(true)
    // One frame per publication (a window published again after a late event is a new revision;
    // the same publication delivered twice is not sent twice).
    const byKey = new Map(frames.map((f) => [revision(f.window.agent_id, f.window.window_start, f.window.late_events), f.window]))
    expect(byKey.size).toBe(frames.length)
    for (const w of published) {
      const got = byKey.get(revision(w.agent_id, isoFromMicros(w.window_start), w.late_events))
      expect(got, `${w.agent_id}@${w.window_start}`).toBeDefined()
      expect(got).toEqual(JSON.parse(JSON.stringify({ ...w, window_start: isoFromMicros(w.window_start), window_end: isoFromMicros(w.window_end) })))
    }
  }, 240_000)
})
