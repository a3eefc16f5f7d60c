/**
 * Exactly-once delivery (AUREN_DELIVERY=exactly-once): outputs and offset commits go in one
 * Kafka transaction per batch. An enrichment process killed with SIGKILL mid-stream and
 * restarted with the same transactional id leaves every event_id exactly once in the enriched
 * topic, as a read_committed consumer sees it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createTestKafka, type TestKafka } from '../helpers/kafka.ts'
import { startApp } from '../helpers/processes.ts'
import { llmCallEvents } from '../helpers/events.ts'
import { readTopicToEnd, waitForGroupCaughtUp } from '../../scripts/lib/read-topic.ts'
import { fromEnrichedRecord, type EnrichedAgentEventRecord } from '../../schemas/index.ts'
import { waitForMetrics } from '../helpers/metrics-wait.ts'

describe('exactly-once delivery with Kafka transactions', () => {
  let kafka: TestKafka
  beforeEach(async () => {
    kafka = await createTestKafka()
  })
  afterEach(async () => {
    await kafka?.close()
  })

  it('gives every event exactly once after a SIGKILL mid-stream and a restart', async () => {
    const env = { AUREN_DELIVERY: 'exactly-once', AUREN_TRANSACTIONAL_ID: `${kafka.prefix}enrichment-0`, AUREN_MAX_BATCH_BYTES: '16384' }
    const events = llmCallEvents(6000, 60)
    await kafka.produceEvents(events.slice(0, 3000))
    const first = await startApp('enrichment', kafka.prefix, env)
    await first.waitReady()
    const producing = kafka.produceEvents(events.slice(3000))
    await waitForMetrics(first, [{ name: 'more than 500 enriched records produced', test: (text) => Number(/auren_records_produced_total\{[^}]*enriched[^}]*\} (\d+)/.exec(text)?.[1] ?? 0) > 500 }], 60_000)
    first.kill('SIGKILL')
    expect(await first.exited).toBe('SIGKILL')
    await producing

    const second = await startApp('enrichment', kafka.prefix, env)
    await second.waitReady()
    await waitForGroupCaughtUp(kafka.admin, `${kafka.prefix}auren.enrichment`, kafka.topics.agentEvents, 120_000)
    const records = await readTopicToEnd(kafka.driver, kafka.admin, kafka.topics.enrichedEvents)
    second.kill('SIGTERM')
    expect(await second.exited).toBe(0)

    const counts = new Map<string, number>()
    for (const r of records) {
      const id = fromEnrichedRecord((await kafka.serde.decode(r.value, 'enriched-agent-event')) as EnrichedAgentEventRecord).event.event_id
      counts.set(id, (counts.get(id) ?? 0) + 1)
    }
    expect(events.filter((e) => counts.get(e.event_id) !== 1).map((e) => [e.event_id, counts.get(e.event_id) ?? 0])).toEqual([])
    expect(records).toHaveLength(events.length)
  })
})
