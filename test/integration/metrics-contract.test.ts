/**
 * The runner metrics of CONTRACTS.md section 4 are served on /metrics by a running processor,
 * and the real Prometheus, scraping it through file-based discovery, returns series for them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestKafka, type TestKafka } from '../helpers/kafka.ts'
import { startApp, type AppProcess } from '../helpers/processes.ts'
import { llmCallEvents } from '../helpers/events.ts'
import { waitForMetrics } from '../helpers/metrics-wait.ts'
import { registerPromTarget, stackEnv } from '../helpers/stack.ts'
import { waitUntil } from '../helpers/wait-until.ts'

/** Every runner metric of CONTRACTS.md section 4 (histograms appear as _bucket/_sum/_count). */
const RUNNER_METRICS = [
  'auren_records_consumed_total',
  'auren_records_produced_total',
  'auren_records_dead_lettered_total',
  'auren_processing_duration_seconds',
  'auren_event_lag_seconds',
  'auren_consumer_lag_records',
  'auren_rebalances_total',
]

async function promQuery(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const res = await fetch(`${stackEnv().prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`)
  const body = (await res.json()) as { status: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }
  expect(body.status).toBe('success')
  return body.data.result
}

describe('runner metrics contract', () => {
  let kafka: TestKafka
  let app: AppProcess
  let removeTarget: () => void
  beforeAll(async () => {
    kafka = await createTestKafka()
    app = await startApp('enrichment', kafka.prefix)
    await app.waitReady()
    removeTarget = registerPromTarget(`${kafka.prefix}enrichment`, app.address, { processor_instance: kafka.prefix })
    await kafka.produceEvents(llmCallEvents(200))
    await kafka.producer.send([{ topic: kafka.topics.agentEvents, key: 'poison', value: Buffer.from('not avro') }])
    await kafka.consumeUntil(kafka.topics.deadLetter, (r) => r.length >= 1)
    await waitForMetrics(app, [/^auren_records_dead_lettered_total\{[^}]*\} 1$/m, /^auren_records_produced_total\{[^}]*\} 200$/m])
  })
  afterAll(async () => {
    removeTarget?.()
    app?.kill('SIGTERM')
    await app?.exited
    await kafka?.close()
  })

  it('serves every runner metric with the processor label on /metrics', async () => {
    const text = await app.metrics()
    for (const name of RUNNER_METRICS) {
      expect(text, name).toMatch(new RegExp(`^${name}(_bucket|_sum|_count)?\\{[^}]*processor="enrichment"`, 'm'))
    }
    expect(text).toMatch(/auren_event_lag_seconds_count\{processor="enrichment",tier="operational"\} 200/)
    expect(text).not.toMatch(/(user_id|trace_id|event_id)=/)
  })

  it('is scraped by the real Prometheus, which returns series for every runner metric', async () => {
    const selector = `{auren_target="${kafka.prefix}enrichment"}`
    let consumed: Awaited<ReturnType<typeof promQuery>> = []
    await waitUntil('Prometheus to scrape 201 consumed records', async () => {
      consumed = await promQuery(`auren_records_consumed_total${selector}`)
      return consumed.length > 0 && Number(consumed[0]!.value[1]) >= 201
    }, { timeoutMs: 45_000, everyMs: 500 })
    expect(Number(consumed[0]?.value[1])).toBe(201)
    for (const name of RUNNER_METRICS) {
      const series = await promQuery(`{__name__=~"${name}(_count)?"}` .replace('}', `,auren_target="${kafka.prefix}enrichment"}`))
      expect(series.length, name).toBeGreaterThan(0)
    }
    const p99 = await promQuery(`histogram_quantile(0.99, sum by (le) (auren_processing_duration_seconds_bucket${selector}))`)
    expect(p99.length).toBe(1)
  })
})
