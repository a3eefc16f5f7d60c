/**
 * Poison records never stop the pipeline and never disappear: N valid records plus k poison
 * records (undecodable bytes, an unknown schema id, invalid values) give N enriched and k
 * dead-lettered records with the right reason and source coordinates, and the processor goes on.
 */
import { describe, expect, it } from 'vitest'
import { useRunningApp } from '../helpers/running-app.ts'
import { waitForMetrics } from '../helpers/metrics-wait.ts'
import { llmCallEvent, llmCallEvents } from '../helpers/events.ts'
import { DLQ_HEADERS, fromEnrichedRecord, toAgentEventRecord, type EnrichedAgentEventRecord } from '../../schemas/index.ts'

describe('enrichment dead-letters poison records and keeps going', () => {
  const fixture = useRunningApp('enrichment')

  it('enriches N valid records and dead-letters k poison records with reason and coordinates', async () => {
    const { kafka, app } = fixture
    const { topics, producer, serde } = kafka
    const valid = llmCallEvents(40)
    await kafka.produceEvents(valid.slice(0, 20))

    const schemaId = await serde.register(topics.agentEvents, 'agent-event')
    const negative = llmCallEvent({ input: -5, trace: 'poison-negative' })
    const noModel = llmCallEvent({ model: '', trace: 'poison-no-model' })
    const mismatched = { ...toAgentEventRecord(llmCallEvent({ trace: 'poison-mismatch' })), event_type: 'agent_decision' }
    const poison = [
      { key: 'poison-bytes', value: Buffer.from('{"not":"avro"}'), reason: 'DESERIALIZATION_FAILED' },
      { key: 'poison-truncated', value: serde.encode(schemaId, 'agent-event', toAgentEventRecord(valid[0]!)).subarray(0, 12), reason: 'DESERIALIZATION_FAILED' },
      { key: 'poison-unknown-id', value: Buffer.concat([Buffer.from([0, 0x0f, 0x42, 0x40, 0x99]), Buffer.from('abc')]), reason: 'SCHEMA_UNKNOWN' },
      { key: 'poison-negative', value: serde.encode(schemaId, 'agent-event', toAgentEventRecord(negative)), reason: 'VALIDATION_FAILED' },
      { key: 'poison-no-model', value: serde.encode(schemaId, 'agent-event', toAgentEventRecord(noModel)), reason: 'VALIDATION_FAILED' },
      { key: 'poison-mismatch', value: serde.encode(schemaId, 'agent-event', mismatched), reason: 'VALIDATION_FAILED' },
    ]
    await producer.send(poison.map((p) => ({ topic: topics.agentEvents, key: p.key, value: p.value })))
    await kafka.produceEvents(valid.slice(20))

    const dlq = await kafka.consumeUntil(topics.deadLetter, (r) => r.length >= poison.length)
    const enriched = await kafka.consumeUntil(topics.enrichedEvents, (r) => r.length >= valid.length)

    expect(enriched).toHaveLength(valid.length)
    const enrichedIds = new Set(
      await Promise.all(enriched.map(async (r) => fromEnrichedRecord((await serde.decode(r.value, 'enriched-agent-event')) as EnrichedAgentEventRecord).event.event_id)),
    )
    expect(enrichedIds).toEqual(new Set(valid.map((e) => e.event_id)))

    expect(dlq).toHaveLength(poison.length)
    const sourceOffsets = await kafka.consumeUntil(topics.agentEvents, (r) => r.length >= valid.length + poison.length)
    for (const p of poison) {
      const rec = dlq.find((r) => r.key?.toString() === p.key)
      expect(rec, `DLQ record for ${p.key}`).toBeDefined()
      expect(rec!.headers[DLQ_HEADERS.reason]).toBe(p.reason)
      expect(rec!.value!.equals(p.value)).toBe(true)
      const original = sourceOffsets.find((r) => r.key?.toString() === p.key)!
      expect(rec!.headers[DLQ_HEADERS.sourceTopic]).toBe(topics.agentEvents)
      expect(rec!.headers[DLQ_HEADERS.sourcePartition]).toBe(String(original.partition))
      expect(rec!.headers[DLQ_HEADERS.sourceOffset]).toBe(original.offset)
      expect(rec!.headers[DLQ_HEADERS.processor]).toBe('enrichment')
      expect(rec!.headers[DLQ_HEADERS.message]!.length).toBeGreaterThan(10)
      expect(Date.parse(rec!.headers[DLQ_HEADERS.failedAt]!)).toBeGreaterThan(Date.now() - 300_000)
    }
    expect(dlq.find((r) => r.key?.toString() === 'poison-negative')!.headers[DLQ_HEADERS.message]).toContain('input_tokens')

    await waitForMetrics(app, [
      /auren_records_dead_lettered_total\{processor="enrichment",reason="VALIDATION_FAILED"\} 3$/m,
      /auren_records_dead_lettered_total\{processor="enrichment",reason="DESERIALIZATION_FAILED"\} 2$/m,
      /auren_records_dead_lettered_total\{processor="enrichment",reason="SCHEMA_UNKNOWN"\} 1$/m,
      new RegExp(`auren_records_produced_total\\{processor="enrichment",topic="${kafka.topics.enrichedEvents}"\\} 40$`, 'm'),
    ])
  })
})
