/**
 * Delivery guarantees of the runner on a real broker: an enrichment process killed with SIGKILL
 * mid-stream and restarted loses nothing; SIGTERM drains, commits every processed offset and
 * exits 0.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createTestKafka, type TestKafka } from '../helpers/kafka.ts'
import { startApp } from '../helpers/processes.ts'
import { llmCallEvents } from '../helpers/events.ts'
import { fromEnrichedRecord, type EnrichedAgentEventRecord } from '../../schemas/index.ts'
import { waitForGroupCaughtUp } from '../../scripts/lib/read-topic.ts'

async function enrichedIds(kafka: TestKafka, expected: number): Promise<Set<string>> {
  const records = await kafka.consumeUntil(kafka.topics.enrichedEvents, (r) => new Set(r.map((x) => x.offset + ':' + x.partition)).size >= expected, 90_000)
  const ids = new Set<string>()
  for (const r of records) ids.add(fromEnrichedRecord((await kafka.serde.decode(r.value, 'enriched-agent-event')) as EnrichedAgentEventRecord).event.event_id)
  return ids
}

describe('runner delivery guarantees', () => {
  let kafka: TestKafka
  beforeEach(async () => {
    kafka = await createTestKafka()
  })
  afterEach(async () => {
    await kafka?.close()
  })

  it('loses no event when the processor is killed with SIGKILL mid-stream and restarted', async () => {
    const events = llmCallEvents(6000, 60)
    await kafka.produceEvents(events.slice(0, 3000))
    const first = await startApp('enrichment', kafka.prefix, { AUREN_MAX_BATCH_BYTES: '16384' })
    await first.waitReady()
    const producing = kafka.produceEvents(events.slice(3000))
    // Kill once it has produced some but (very likely) not all outputs.
    const deadline = Date.now() + 60_000
    while (Date.now() < deadline) {
      const m = (await first.metrics().catch(() => '')).match(/auren_records_produced_total\{[^}]*enriched[^}]*\} (\d+)/)
      if (m && Number(m[1]) > 500) break
      await new Promise((r) => setTimeout(r, 50))
    }
    first.kill('SIGKILL')
    expect(await first.exited).toBe('SIGKILL')
    await producing

    const second = await startApp('enrichment', kafka.prefix)
    await second.waitReady()
    const ids = await enrichedIds(kafka, events.length)
    second.kill('SIGTERM')
    expect(await second.exited).toBe(0)

    const missing = events.filter((e) => !ids.has(e.event_id))
    expect(missing).toHaveLength(0)
  })

  it('SIGTERM drains the batch in progress, commits and exits 0', async () => {
    const events = llmCallEvents(3000, 30)
    await kafka.produceEvents(events)
    const app = await startApp('enrichment', kafka.prefix)
    await app.waitReady()
    await enrichedIds(kafka, events.length)
    app.kill('SIGTERM')
    expect(await app.exited).toBe(0)
    expect(app.output()).toContain('shutdown complete')

    const ends = await kafka.admin.endOffsets(kafka.topics.agentEvents)
    const committed = await kafka.admin.committedOffsets(`${kafka.prefix}auren.enrichment`, kafka.topics.agentEvents)
    for (const [partition, end] of ends) expect(committed.get(partition), `partition ${partition}`).toBe(end)
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
