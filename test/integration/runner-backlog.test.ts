/**
 * The runner under a backlog: a full fetch per partition gives more outputs to one partition
 * than the broker takes in one record batch, so sends are split (kafka-client.ts chunkBySize).
 * Restart, SIGTERM and rebalance behaviour is in the conformance suite
 * (test/conformance/processor-suite.ts, run by enrichment-conformance.test.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createTestKafka, type TestKafka } from '../helpers/kafka.ts'
import { startApp } from '../helpers/processes.ts'
import { llmCallEvents } from '../helpers/events.ts'
import { waitForGroupCaughtUp } from '../../scripts/lib/read-topic.ts'

describe('runner under a backlog', () => {
  let kafka: TestKafka
  beforeEach(async () => {
    kafka = await createTestKafka()
  })
  afterEach(async () => {
    await kafka?.close()
  })

  it('drains a backlog whose outputs exceed one produce request, with default settings', async () => {
    // One full 1 MiB fetch per partition gives more than 1 MiB of outputs to one output
    // partition; the runner must split its sends below the broker's message.max.bytes.
    const events = llmCallEvents(30_000, 6)
    for (let i = 0; i < events.length; i += 5000) await kafka.produceEvents(events.slice(i, i + 5000))
    const app = await startApp('enrichment', kafka.prefix)
    await app.waitReady()
    await Promise.race([
      waitForGroupCaughtUp(kafka.admin, `${kafka.prefix}auren.enrichment`, kafka.topics.agentEvents, 150_000),
      app.exited.then((code) => {
        throw new Error(`enrichment exited (${code}) before draining the backlog:\n${app.output().slice(-3000)}`)
      }),
    ])
    const ends = await kafka.admin.endOffsets(kafka.topics.enrichedEvents)
    expect([...ends.values()].reduce((n, o) => n + Number(o), 0)).toBe(events.length)
    app.kill('SIGTERM')
    expect(await app.exited).toBe(0)
  })
})
