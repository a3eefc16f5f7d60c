/**
 * The aggregation metrics of CONTRACTS.md section 4, end to end: simulator events of every type
 * put through the real enrichment transform, produced to the enriched topic, consumed by the
 * aggregation app (a child process, fresh PostgreSQL schema), its /metrics scraped by the real
 * Prometheus through file-based discovery. Prometheus returns series for every metric with
 * exactly the contract's names and label sets, and the counters equal the input's totals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type pg from 'pg'
import { createTestKafka, type TestKafka } from '../helpers/kafka.ts'
import type { AppProcess } from '../helpers/processes.ts'
import { registerPromTarget, stackEnv } from '../helpers/stack.ts'
import { AGGREGATION_METRICS_CONTRACT } from '../helpers/metric-contract.ts'
import { dropSchema, schemaForPrefix, enrichAll, produceEnriched, schemaPool, simulatedEvents, startAggregation, waitStoredCaughtUp } from '../bench/aggregation-workload.ts'
import { AGENT_EVENT_TYPES, type AgentMetricsWindow, type EnrichedAgentEvent } from '../../schemas/index.ts'
import { readTopicToEnd } from '../../scripts/lib/read-topic.ts'
import { waitUntil } from '../helpers/wait-until.ts'

/** CONTRACTS.md section 4, aggregation metrics: name → labels (histograms also carry `le` on _bucket). */
const AGGREGATION_METRICS = AGGREGATION_METRICS_CONTRACT
const HISTOGRAMS = new Set(['auren_llm_call_duration_seconds', 'auren_agent_execution_duration_seconds', 'auren_memory_tier_latency_seconds'])
/** Labels Prometheus adds to every scraped series (target labels), and the runner's processor label. */
const TARGET_LABELS = new Set(['__name__', 'instance', 'job', 'auren_target', 'processor'])

type Sample = { metric: Record<string, string>; value: [number, string] }

async function promQuery(expr: string): Promise<Sample[]> {
  const res = await fetch(`${stackEnv().prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`)
  const body = (await res.json()) as { status: string; error?: string; data: { result: Sample[] } }
  expect(body.status, body.error).toBe('success')
  return body.data.result
}


describe('aggregation metrics contract (real Prometheus)', () => {
  let kafka: TestKafka
  let app: AppProcess
  let pool: pg.Pool
  let schema: string
  let removeTarget: (() => void) | undefined
  let enriched: EnrichedAgentEvent[]
  const target = () => `${kafka.prefix}aggregation`

  beforeAll(async () => {
    kafka = await createTestKafka()
    schema = schemaForPrefix('p', kafka.prefix)
    const now = Date.now()
    // every event type, on the simulator's clock, ending before "now" (no future timestamps)
    enriched = enrichAll(simulatedEvents(3_000, 11, (now - 3 * 3_600_000) * 1000), now)
    await produceEnriched(kafka, enriched)
    app = await startAggregation(kafka.prefix, schema, { AUREN_AGGREGATION_EXPECTED_PARTITIONS: '6' })
    removeTarget = registerPromTarget(target(), app.address, { processor_instance: kafka.prefix })
    pool = schemaPool(schema)
    await waitStoredCaughtUp(pool, kafka, kafka.topics.enrichedEvents, { timeoutMs: 120_000, pollMs: 200, alive: () => app.alive() })
  }, 240_000)
  afterAll(async () => {
    removeTarget?.()
    app?.kill('SIGTERM')
    await app?.exited
    await pool?.end()
    if (schema) await dropSchema(schema)
    await kafka?.close()
  })

  it('the input covers every event type', () => {
    const types = new Set(enriched.map((e) => e.event.event_type))
    for (const t of AGENT_EVENT_TYPES) expect(types, t).toContain(t)
  })

  it('Prometheus returns series for every aggregation metric, with exactly the contract labels, and counters equal the input', { timeout: 90_000 }, async () => {
    const sel = `auren_target="${target()}"`
    const inputTokens = enriched.reduce((s, e) => s + (e.event.event_type === 'llm_call_completed' ? e.event.payload.input_tokens : 0), 0)
    const outputTokens = enriched.reduce((s, e) => s + (e.event.event_type === 'llm_call_completed' ? e.event.payload.output_tokens : 0), 0)
    // answered calls (a response came back) vs failed attempts without an answer (the simulator's rate limits, timeouts)
    const completed = enriched.flatMap((e) => (e.event.event_type === 'llm_call_completed' ? [e.event.payload] : []))
    const answered = (p: (typeof completed)[number]) => p.success || p.input_tokens > 0 || p.output_tokens > 0 || p.reported_cost_usd !== null
    const llmCalls = completed.filter(answered).length
    const failedAttempts = completed.filter((p) => !answered(p)).length
    expect(failedAttempts).toBeGreaterThan(0)
    expect(inputTokens).toBeGreaterThan(0)

    // the counters are updated after each commit: wait for a scrape after the last one
    let got = Number.NaN
    await waitUntil(`Prometheus to scrape ${inputTokens} input tokens`, async () => {
      got = Number((await promQuery(`sum(auren_llm_tokens_total{direction="input",${sel}})`))[0]?.value[1])
      return got === inputTokens
    }, { timeoutMs: 60_000, everyMs: 500 }).catch(() => undefined) // asserted below, with the value
    expect(got).toBe(inputTokens)
    expect(Number((await promQuery(`sum(auren_llm_tokens_total{direction="output",${sel}})`))[0]?.value[1])).toBe(outputTokens)
    expect(Number((await promQuery(`sum(auren_llm_calls_total{${sel}})`))[0]?.value[1])).toBe(llmCalls)
    expect(Number((await promQuery(`sum(auren_llm_call_duration_seconds_count{${sel}})`))[0]?.value[1])).toBe(llmCalls)
    expect(Number((await promQuery(`sum(auren_llm_call_failures_total{${sel}})`))[0]?.value[1])).toBe(failedAttempts)
    expect((await promQuery(`auren_llm_calls_total{${sel}}`)).map((r) => r.metric.status).every((st) => st === 'success' || st === 'error')).toBe(true)

    for (const [name, labels] of Object.entries(AGGREGATION_METRICS)) {
      const series = await promQuery(`${HISTOGRAMS.has(name) ? `${name}_bucket` : name}{${sel}}`)
      expect(series.length, name).toBeGreaterThan(0)
      const expected = HISTOGRAMS.has(name) ? [...labels, 'le'].sort() : [...labels].sort()
      for (const s of series) {
        const own = Object.keys(s.metric).filter((k) => !TARGET_LABELS.has(k) && k !== 'processor_instance').sort()
        expect(own, `${name} ${JSON.stringify(s.metric)}`).toEqual(expected)
        for (const k of labels) expect(s.metric[k], `${name}.${k}`).not.toBe('')
      }
      if (HISTOGRAMS.has(name)) {
        const p95 = await promQuery(`histogram_quantile(0.95, sum by (le) (${name}_bucket{${sel}}))`)
        expect(Number(p95[0]?.value[1]), `${name} p95`).toBeGreaterThan(0)
      }
    }
    const active = await promQuery(`auren_agents_active{${sel}}`)
    expect(Number(active[0]?.value[1])).toBeGreaterThan(0)
    // the PostgreSQL rollups say the same as the counters
    const db = await pool.query<{ i: string }>('SELECT sum(input_tokens)::text AS i FROM agg_llm_window')
    expect(Number(db.rows[0]!.i)).toBe(inputTokens)
    // no per-event or per-user label anywhere
    const all = await promQuery(`{__name__=~"auren_.*",${sel}}`)
    for (const s of all) for (const k of ['user_id', 'trace_id', 'event_id', 'user']) expect(s.metric[k], `${s.metric.__name__} ${k}`).toBeUndefined()
  })

  it('publishes closed windows to auren.agent-metrics.v1 as AgentMetricsWindow records that match the rollups', { timeout: 90_000 }, async () => {
    const topic = kafka.topics.agentMetrics
    const records = await waitUntil(`closed windows on ${topic}`, async () => {
      const read = await readTopicToEnd(kafka.driver, kafka.admin, topic)
      return read.length > 0 && read
    }, { timeoutMs: 60_000, everyMs: 500 })
    expect(records.length).toBeGreaterThan(0)
    const latest = new Map<string, AgentMetricsWindow>()
    for (const r of records) {
      const w = (await kafka.serde.decode(r.value, 'agent-metrics-window')) as AgentMetricsWindow
      expect(r.key?.toString()).toBe(w.agent_id)
      expect(w.window_end - w.window_start).toBe(60_000_000)
      latest.set(`${w.agent_id}/${w.window_start}`, w) // the latest record per (agent, window) wins
    }
    for (const w of latest.values()) {
      const res = await pool.query<{ input_tokens: string; output_tokens: string }>(
        'SELECT input_tokens::text, output_tokens::text FROM agg_agent_window WHERE agent_id = $1 AND window_start_us = $2',
        [w.agent_id, w.window_start],
      )
      expect(res.rows[0], `${w.agent_id} ${w.window_start}`).toBeDefined()
      expect({ input: w.input_tokens, output: w.output_tokens }).toEqual({ input: Number(res.rows[0]!.input_tokens), output: Number(res.rows[0]!.output_tokens) })
    }
  })
})
