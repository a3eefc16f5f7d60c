/**
 * The archival transform (pure): an enriched event or an alert → its archive row. Nothing is
 * filtered: every input is archived once (the writer drops redeliveries by offset).
 */
import type { Alert, EnrichedAgentEvent } from '../../schemas/index.ts'
import { emit, type Outcome } from '../runtime/outcome.ts'
import { alertRow, eventRow, type ArchiveOutput } from './archive-row.ts'

/** An input of the archival processor, tagged by its topic. */
export type ArchivalInput = { readonly kind: 'event'; readonly event: EnrichedAgentEvent } | { readonly kind: 'alert'; readonly alert: Alert }

/** Maps one input to its archive output (key: trace id or alert fingerprint; unused by the sink). */
export function archiveTransform(input: ArchivalInput): Outcome<ArchiveOutput> {
  if (input.kind === 'event') {
    return emit({ key: input.event.event.trace_id, value: { row: eventRow(input.event) } })
  }
  return emit({ key: input.alert.fingerprint, value: { row: alertRow(input.alert) } })
}
