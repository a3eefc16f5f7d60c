import type { DlqReason } from '../../schemas/index.ts'

/** One record for the runner to produce: the key and the (unencoded) value of an output topic. */
export interface OutputRecord<Out> {
  /** Kafka key (CONTRACTS.md section 1 names the key of each topic). */
  key: string
  /** Value, encoded by the runner with the output topic's schema. */
  value: Out
}

/**
 * What a transform decided for one input record (STYLE.md principle 2: outcomes are data;
 * throwing is for infrastructure):
 * - `emit`: produce these records to the output topic (none is allowed: same as skip);
 * - `skip`: produce nothing and commit, e.g. a duplicate `event_id`;
 * - `dead-letter`: send the original bytes to the DLQ with this reason, commit, go on.
 */
export type Outcome<Out> = (
  | { kind: 'emit'; records: readonly OutputRecord<Out>[] }
  | { kind: 'skip'; reason: string }
  | { kind: 'dead-letter'; reason: DlqReason; message: string }
) & {
  /**
   * Facts only the transform knows, for the `afterCommit` hook to count (e.g. `redelivery`,
   * `rule:uuid`): short labels from a bounded set, never ids.
   */
  notes?: readonly string[]
}

/** @returns `outcome` with `notes` attached (see {@link Outcome}). */
export function withNotes<Out>(outcome: Outcome<Out>, notes: readonly string[]): Outcome<Out> {
  return notes.length === 0 ? outcome : { ...outcome, notes }
}

/** @returns an `emit` outcome. */
export function emit<Out>(...records: OutputRecord<Out>[]): Outcome<Out> {
  return { kind: 'emit', records }
}

/** @returns a `skip` outcome; reason is a short stable label (used as a metric label). */
export function skip<Out>(reason: string): Outcome<Out> {
  return { kind: 'skip', reason }
}

/** @returns a `dead-letter` outcome; message is human-readable and goes in `auren.dlq.message`. */
export function deadLetter<Out>(reason: DlqReason, message: string): Outcome<Out> {
  return { kind: 'dead-letter', reason, message }
}
