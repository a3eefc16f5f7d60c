/**
 * Scaling by partitions: enrichment instances join and leave one consumer group mid-stream;
 * the partitions are rebalanced among them, every event still reaches the enriched topic, the
 * group's lag drains to 0, and each instance counts the rebalances it took part in.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createTestKafka, type TestKafka } from '../helpers/kafka.ts'
import { startApp, type AppProcess } from '../helpers/processes.ts'
import { llmCallEvents } from '../helpers/events.ts'
import { readTopicToEnd, waitForGroupCaughtUp } from '../../scripts/lib/read-topic.ts'
import { fromEnrichedRecord, type EnrichedAgentEventRecord } from '../../schemas/index.ts'

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name}\\{[^}]*\\} (\\d+)`, 'm').exec(text)
  return m ? Number(m[1]) : 0
}

describe('rebalance', () => {
  let kafka: TestKafka
  const apps: AppProcess[] = []
  beforeEach(async () => {
    kafka = await createTestKafka()
  })
  afterEach(async () => {
    for (const a of apps) a.kill('SIGTERM')
    await Promise.all(apps.map((a) => a.exited))
    apps.length = 0
    await kafka?.close()
  })

  it('loses nothing while instances join and leave the consumer group mid-stream', async () => {
    const events = llmCallEvents(9000, 90)
    const third = events.length / 3
    const a = await startApp('enrichment', kafka.prefix)
    apps.push(a)
    await a.waitReady()
    await kafka.produceEvents(events.slice(0, third))

    const b = await startApp('enrichment', kafka.prefix)
    apps.push(b)
    await b.waitReady()
    await kafka.produceEvents(events.slice(third, 2 * third))

    const bMetrics = await b.metrics()
    b.kill('SIGTERM')
    expect(await b.exited).toBe(0)
    await kafka.produceEvents(events.slice(2 * third))

    await waitForGroupCaughtUp(kafka.admin, `${kafka.prefix}auren.enrichment`, kafka.topics.agentEvents, 120_000)
    const ids = new Set<string>()
    for (const r of await readTopicToEnd(kafka.driver, kafka.admin, kafka.topics.enrichedEvents)) {
      ids.add(fromEnrichedRecord((await kafka.serde.decode(r.value, 'enriched-agent-event')) as EnrichedAgentEventRecord).event.event_id)
    }
    expect(events.filter((e) => !ids.has(e.event_id))).toHaveLength(0)

    // a joined, then rebalanced when b joined and again when b left.
    expect(metric(await a.metrics(), 'auren_rebalances_total')).toBeGreaterThanOrEqual(3)
    expect(metric(bMetrics, 'auren_rebalances_total')).toBeGreaterThanOrEqual(1)
    const lag = [...(await a.metrics()).matchAll(/^auren_consumer_lag_records\{[^}]*\} (\d+)/gm)].map((m) => Number(m[1]))
    expect(lag.length).toBeGreaterThan(0)
    expect(lag.every((v) => v === 0)).toBe(true)
  })
})
