/**
 * Exactly-once delivery (AUREN_DELIVERY=exactly-once): outputs and offset commits go in one
 * Kafka transaction per batch. An enrichment process killed with SIGKILL mid-stream and
 * restarted with the same transactional id leaves every event_id exactly once in the enriched
 * topic, as a read_committed consumer sees it. An instance paused mid-stream while another takes
 * its partitions cannot commit after it resumes (per-partition transactional ids fence it). A
 * batch whose transaction the broker committed while the client saw the commit fail (its answer
 * lost) is not produced again on retry.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createTestKafka, type TestKafka } from '../helpers/kafka.ts'
import { startApp } from '../helpers/processes.ts'
import { llmCallEvents } from '../helpers/events.ts'
import { readTopicToEnd, waitForGroupCaughtUp } from '../../scripts/lib/read-topic.ts'
import { fromEnrichedRecord, type AgentEvent, type EnrichedAgentEventRecord } from '../../schemas/index.ts'
import { waitForMetrics } from '../helpers/metrics-wait.ts'
import { waitUntil } from '../helpers/wait-until.ts'
import { createRunner } from '../../processors/runtime/runner.ts'
import { createRunnerRegistry } from '../../processors/runtime/ops/metrics.ts'
import { createLogger } from '../../processors/runtime/ops/logger.ts'
import type { ConsumedRecord, KafkaDriver } from '../../processors/runtime/kafka/kafka-client.ts'
import { enrichmentDefinition } from '../../processors/enrichment/definition.ts'
import { createEnrichmentTransform } from '../../processors/enrichment/transform.ts'
import { DEFAULT_ENRICHMENT_CONFIG } from '../../processors/enrichment/config.ts'

/** Every input event's event_id is on the enriched topic exactly once, and nothing else is. */
async function expectEachEventOnce(kafka: TestKafka, records: readonly ConsumedRecord[], events: readonly AgentEvent[]): Promise<void> {
  const counts = new Map<string, number>()
  for (const r of records) {
    const id = fromEnrichedRecord((await kafka.serde.decode(r.value, 'enriched-agent-event')) as EnrichedAgentEventRecord).event.event_id
    counts.set(id, (counts.get(id) ?? 0) + 1)
  }
  expect(events.filter((e) => counts.get(e.event_id) !== 1).map((e) => [e.event_id, counts.get(e.event_id) ?? 0])).toEqual([])
  expect(records).toHaveLength(events.length)
}

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

    await expectEachEventOnce(kafka, records, events)
  })

  it('fences an instance paused while another took its partitions: what it tries to commit after resuming is refused, every event once', async () => {
    // Default transactional ids: one per input partition, from the group id, the same in both processes.
    const env = { AUREN_DELIVERY: 'exactly-once', AUREN_MAX_BATCH_BYTES: '16384' }
    const events = llmCallEvents(9000, 60)
    await kafka.produceEvents(events.slice(0, 6000))
    const a = await startApp('enrichment', kafka.prefix, env)
    const b = await startApp('enrichment', kafka.prefix, env)
    try {
      await Promise.all([a.waitReady(), b.waitReady()])
      const produced = (text: string) => Number(/auren_records_produced_total\{[^}]*enriched[^}]*\} (\d+)/.exec(text)?.[1] ?? 0)
      await waitForMetrics(a, [{ name: 'instance a producing', test: (text) => produced(text) > 300 }], 60_000)
      // A zombie: paused in the middle of its backlog (a long GC pause, a frozen VM). After the
      // session timeout (10 s) the group gives its partitions to b, which initializes their
      // transactional ids before reading their committed offsets.
      a.kill('SIGSTOP')
      await waitForGroupCaughtUp(kafka.admin, `${kafka.prefix}auren.enrichment`, kafka.topics.agentEvents, 120_000)
      a.kill('SIGCONT')
      // a resumes where it was: its batch in flight, or the next one it fetches from the input
      // that goes on arriving before it hears of the rebalance, tries to commit with a producer b fenced.
      await kafka.produceEvents(events.slice(6000))
      await waitUntil('the paused instance logs its refused commit', () => /fenced|epoch/i.test(a.output()), { timeoutMs: 30_000 })
      // Both go on: a rejoins the group and the rest of the input is processed.
      await waitForGroupCaughtUp(kafka.admin, `${kafka.prefix}auren.enrichment`, kafka.topics.agentEvents, 120_000)
    } finally {
      a.kill('SIGCONT')
      a.kill('SIGTERM')
      b.kill('SIGTERM')
      await Promise.all([a.exited, b.exited])
    }
    const records = await readTopicToEnd(kafka.driver, kafka.admin, kafka.topics.enrichedEvents)
    await expectEachEventOnce(kafka, records, events)
  })

  it('does not produce again a batch whose transaction committed while the client saw its commit fail', async () => {
    const events = llmCallEvents(600, 60)
    await kafka.produceEvents(events)
    // The real broker commits the transaction; its answer is then lost on the way back, as when
    // the broker dies during EndTxn and comes back having completed it.
    let answersToLose = 2
    const driver: KafkaDriver = {
      ...kafka.driver,
      producer: async (opts) => {
        const p = await kafka.driver.producer(opts)
        return {
          ...p,
          sendAndCommit: async (records, commit) => {
            await p.sendAndCommit(records, commit)
            if (answersToLose-- > 0) throw Object.assign(new Error('Connection error: read ECONNRESET (EndTxn answer lost)'), { name: 'KafkaJSConnectionError' })
          },
        }
      },
    }
    const { registry, metrics } = createRunnerRegistry()
    const runner = createRunner(enrichmentDefinition(createEnrichmentTransform(DEFAULT_ENRICHMENT_CONFIG)), {
      driver, serde: kafka.serde, log: createLogger('test', 'error'), registry, metrics,
      topicPrefix: kafka.prefix, groupIdPrefix: `${kafka.prefix}auren.`, fromBeginning: true,
      delivery: 'exactly-once', transactionalId: `${kafka.prefix}enrichment-lost-answer`,
    })
    await runner.start()
    try {
      await waitForGroupCaughtUp(kafka.admin, `${kafka.prefix}auren.enrichment`, kafka.topics.agentEvents, 60_000)
    } finally {
      await runner.stop()
    }
    expect(answersToLose).toBeLessThan(0) // both lost answers happened

    const records = await readTopicToEnd(kafka.driver, kafka.admin, kafka.topics.enrichedEvents)
    await expectEachEventOnce(kafka, records, events)
  })
})
