import { DLQ_HEADERS, type DlqReason } from '../../../schemas/index.ts'
import type { ConsumedRecord, ProduceRecord } from './kafka-client.ts'

/** Longest `auren.dlq.message` kept, in characters; longer messages are cut with an ellipsis. */
export const MAX_DLQ_MESSAGE_CHARS = 2_000

/**
 * The dead-letter record for a consumed record (CONTRACTS.md section 1): the original key and
 * value bytes untouched, the original headers kept, plus the `auren.dlq.*` headers.
 * @param failedAtMs epoch ms written as ISO-8601 UTC in `auren.dlq.failed_at`
 */
export function deadLetterRecord(
  dlqTopic: string,
  source: ConsumedRecord,
  reason: DlqReason,
  message: string,
  processor: string,
  failedAtMs: number,
): ProduceRecord {
  const text = message.length > MAX_DLQ_MESSAGE_CHARS ? `${message.slice(0, MAX_DLQ_MESSAGE_CHARS - 1)}…` : message
  return {
    topic: dlqTopic,
    key: source.key,
    value: source.value,
    headers: {
      ...source.headers,
      [DLQ_HEADERS.reason]: reason,
      [DLQ_HEADERS.message]: text,
      [DLQ_HEADERS.sourceTopic]: source.topic,
      [DLQ_HEADERS.sourcePartition]: String(source.partition),
      [DLQ_HEADERS.sourceOffset]: source.offset,
      [DLQ_HEADERS.processor]: processor,
      [DLQ_HEADERS.failedAt]: new Date(failedAtMs).toISOString(),
    },
  }
}
