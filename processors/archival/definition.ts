import { fromEnrichedRecord, type Alert, type EnrichedAgentEventRecord } from '../../schemas/index.ts'
import { defineProcessor, type InputSpec, type LagObservation, type ProcessorDefinition } from '../runtime/define-processor.ts'
import type { AcknowledgingSink } from '../runtime/sinks/sink.ts'
import type { ArchiveOutput } from './archive-row.ts'
import { archiveTransform, type ArchivalInput } from './transform.ts'

const EVENTS: InputSpec<ArchivalInput> = {
  topic: 'enrichedEvents',
  schema: 'enriched-agent-event',
  decode: (value) => ({ kind: 'event', event: fromEnrichedRecord(value as EnrichedAgentEventRecord) }),
}
const ALERTS: InputSpec<ArchivalInput> = { topic: 'alerts', schema: 'alert', decode: (value) => ({ kind: 'alert', alert: value as Alert }) }

/**
 * The archival processor: `auren.agent-events.enriched.v1` (and `auren.alerts.v1` when
 * `alerts`) → Parquet objects, through the buffered sink whose flush is
 * io/archive-writer.ts (see README.md for the delivery guarantee).
 */
export function archivalDefinition(sink: AcknowledgingSink<ArchiveOutput>, opts: { alerts: boolean }): ProcessorDefinition<ArchivalInput, ArchiveOutput> {
  return defineProcessor<ArchivalInput, ArchiveOutput>({
    name: 'archival',
    inputs: opts.alerts ? [EVENTS, ALERTS] : [EVENTS],
    sink,
    transform: archiveTransform,
    observe: observeArchival,
  })
}

/** Event time and tier of an archived input, for auren_event_lag_seconds{tier}. */
export function observeArchival(_input: ArchivalInput, outputs: readonly ArchiveOutput[]): LagObservation | undefined {
  const row = outputs[0]?.row
  return row ? { eventTimeMs: row.event_time / 1000, tier: row.tier } : undefined
}
