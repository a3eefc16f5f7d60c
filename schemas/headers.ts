/** Dead-letter record headers of CONTRACTS.md section 1 (all values are UTF-8 strings). */
export const DLQ_HEADERS = {
  reason: 'auren.dlq.reason',
  message: 'auren.dlq.message',
  sourceTopic: 'auren.dlq.source.topic',
  sourcePartition: 'auren.dlq.source.partition',
  sourceOffset: 'auren.dlq.source.offset',
  processor: 'auren.dlq.processor',
  failedAt: 'auren.dlq.failed_at',
} as const

/**
 * Why a record was dead-lettered (value of `auren.dlq.reason`):
 * - `DESERIALIZATION_FAILED`: not Schema Registry wire format, or the bytes do not decode;
 * - `SCHEMA_UNKNOWN`: the schema id is not in the registry;
 * - `VALIDATION_FAILED`: decodes but breaks a validation rule;
 * - `PROCESSING_FAILED`: the transform failed on it in a way retrying cannot fix.
 */
export const DLQ_REASONS = ['DESERIALIZATION_FAILED', 'SCHEMA_UNKNOWN', 'VALIDATION_FAILED', 'PROCESSING_FAILED'] as const

/** One of DLQ_REASONS. */
export type DlqReason = (typeof DLQ_REASONS)[number]
