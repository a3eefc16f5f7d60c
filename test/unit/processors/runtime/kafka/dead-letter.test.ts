import { describe, expect, it } from 'vitest'
import { deadLetterRecord, MAX_DLQ_MESSAGE_CHARS } from '../../../../../processors/runtime/kafka/dead-letter.ts'
import { DLQ_HEADERS } from '../../../../../schemas/index.ts'

const source = {
  topic: 'auren.agent-events.v1',
  partition: 4,
  offset: '1234',
  key: Buffer.from('trace-1'),
  value: Buffer.from([0, 0, 0, 0, 7, 1, 2, 3]),
  headers: { 'x-origin': 'sdk' },
  timestampMs: 0,
}

describe('deadLetterRecord', () => {
  it('keeps the original key, bytes and headers and adds every auren.dlq header', () => {
    const r = deadLetterRecord('auren.agent-events.dlq.v1', source, 'VALIDATION_FAILED', 'payload.input_tokens must be >= 0', 'enrichment', Date.UTC(2026, 0, 2, 3, 4, 5))
    expect(r.topic).toBe('auren.agent-events.dlq.v1')
    expect(r.key).toBe(source.key)
    expect(r.value).toBe(source.value)
    expect(r.headers).toEqual({
      'x-origin': 'sdk',
      [DLQ_HEADERS.reason]: 'VALIDATION_FAILED',
      [DLQ_HEADERS.message]: 'payload.input_tokens must be >= 0',
      [DLQ_HEADERS.sourceTopic]: 'auren.agent-events.v1',
      [DLQ_HEADERS.sourcePartition]: '4',
      [DLQ_HEADERS.sourceOffset]: '1234',
      [DLQ_HEADERS.processor]: 'enrichment',
      [DLQ_HEADERS.failedAt]: '2026-01-02T03:04:05.000Z',
    })
  })

  it('cuts very long messages so headers stay small', () => {
    const r = deadLetterRecord('dlq', source, 'PROCESSING_FAILED', 'x'.repeat(10_000), 'enrichment', 0)
    expect(r.headers![DLQ_HEADERS.message]!.length).toBe(MAX_DLQ_MESSAGE_CHARS)
    expect(r.headers![DLQ_HEADERS.message]!.endsWith('…')).toBe(true)
  })
})
