/**
 * Per-partition state: a value of the definition's choosing, one per input partition, that
 * survives restarts and rebalances and is handed to `transform` and `punctuate`.
 *
 * Lifecycle (the runner's, for every partition this instance is assigned):
 * 1. on assignment, the state is loaded (the sink's stored state when the sink
 *    `storesState`, else the last record of the partition's key in the compacted changelog
 *    topic `<prefix><group id>.state`) and decoded with `codec.decode`; `initial()` when none;
 * 2. `transform` and `punctuate` read it with `state.get()` and replace it with `state.set(next)`
 *    (treat values as immutable: build a new one instead of mutating);
 * 3. after a batch or a tick that called `set`, the encoded state goes with the batch: in the
 *    sink's transaction (`offsets: 'sink'` sinks that store state; exactly once with the
 *    outputs) or, for Kafka-offset sinks, to the changelog topic before the position is
 *    committed (in the producer's transaction in exactly-once mode; at least once otherwise:
 *    after a crash between the changelog write and the commit, the redelivered batch runs
 *    against the newer state, so a transform there must be idempotent per input);
 * 4. when the batch fails, the state goes back to the last saved value before the redelivery;
 * 5. on revocation the state is dropped from memory (the new owner loads it).
 */

/** How a state value is stored: JSON text, so a person can read it in the table or topic. */
export interface StateCodec<S> {
  /** Encodes to JSON text. Default: JSON.stringify. */
  encode(state: S): string
  /** Decodes stored JSON text (of this or an older version: migrate here). @throws on text it cannot read (the runner then fails the assignment loudly, it never resets silently) */
  decode(json: string): S
}

/** What a definition declares to get per-partition state. */
export interface StateSpec<S> {
  /** State of a partition with nothing stored yet. */
  initial(): S
  /** Default: JSON.stringify / JSON.parse. */
  readonly codec?: StateCodec<S>
}

/** The state of one input partition as `transform` and `punctuate` see it. */
export interface PartitionState<S> {
  /** Current value (after the `set`s of this batch so far). */
  get(): S
  /** Replaces the value; saved with the batch (step 3 above). */
  set(next: S): void
}

/** JSON codec used when a StateSpec gives none. */
export function jsonCodec<S>(): StateCodec<S> {
  return { encode: (s) => JSON.stringify(s), decode: (json) => JSON.parse(json) as S }
}

/** Name of the compacted changelog topic of a consumer group's state (Kafka-offset sinks). */
export function changelogTopic(topicPrefix: string, groupId: string): string {
  return `${topicPrefix}${groupId}.state`
}
