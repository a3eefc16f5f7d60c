/**
 * The processor conformance suite on the enrichment app, in both delivery modes: at-least-once
 * (the default) and exactly-once (Kafka transactions, read_committed readers).
 */
import { processorConformance } from '../conformance/processor-suite.ts'
import { llmCallEvents } from '../helpers/events.ts'
import { readTopicToEnd } from '../../scripts/lib/read-topic.ts'
import { fromEnrichedRecord, type EnrichedAgentEventRecord } from '../../schemas/index.ts'
import type { TestKafka } from '../helpers/kafka.ts'

async function enrichedEffects(kafka: TestKafka): Promise<Array<{ key: string; eventId: string }>> {
  const records = await readTopicToEnd(kafka.driver, kafka.admin, kafka.topics.enrichedEvents)
  const out: Array<{ key: string; eventId: string }> = []
  for (const r of records) {
    const e = fromEnrichedRecord((await kafka.serde.decode(r.value, 'enriched-agent-event')) as EnrichedAgentEventRecord)
    out.push({ key: r.key?.toString() ?? '', eventId: e.event.event_id })
  }
  return out
}

processorConformance({ app: 'enrichment', makeInputs: (n) => llmCallEvents(n, Math.max(6, Math.floor(n / 100))), readEffects: enrichedEffects, exactlyOnce: false })

processorConformance({
  app: 'enrichment',
  // A stable transactional id per instance, as deployments should set it: a restarted instance
  // fences its predecessor and aborts its open transaction at once.
  env: () => ({ AUREN_DELIVERY: 'exactly-once' }), // transactional ids per partition, from the group id (kafka-topic-sink.ts "Fencing")
  makeInputs: (n) => llmCallEvents(n, Math.max(6, Math.floor(n / 100))),
  readEffects: enrichedEffects,
  exactlyOnce: true,
})
