/**
 * Where a sink processor starts processing a fetched partition batch, given the next offset
 * stored in its sink: a pure decision, so the rule is tested without a broker (position.test.ts).
 *
 * Under `read_committed` (the runner's consumers), a fetch skips transaction markers (commit /
 * abort control records) and the records of aborted transactions. The first offset of a batch may
 * therefore lie past the next offset stored in the sink with nothing readable in between: stored
 * 1047 on an aborted range, first fetched 1077 (1046 and 1076 markers, 1047–1075 aborted). That
 * gap is normal and the batch is processed as it is. A seek back to the stored offset is made at
 * most ONCE per partition assignment, and only for the first batch after it (Kafka's committed
 * offset can be ahead of the sink's, e.g. after an offset reset by an operator; the sink is the
 * truth): once the partition was positioned (sought, or a batch processed), a fetch starting past
 * the stored offset has nothing readable in between and is accepted, so the runner never loops on
 * a marker or an aborted range.
 * Records below the stored offset were applied before and are skipped.
 */

/** What to do with a fetched batch. */
export type PositionDecision =
  /** Abandon the batch and fetch again from `offset` (the stored one). */
  | { readonly action: 'seek'; readonly offset: bigint }
  /** Process the batch, skipping records with an offset below `skipBelow` (undefined: none). */
  | { readonly action: 'process'; readonly skipBelow: bigint | undefined }

/**
 * Decides between processing a batch and seeking back to the stored offset.
 * @param stored next offset stored in the sink for the partition (undefined: never written)
 * @param firstOffset offset of the batch's first record (undefined: empty batch)
 * @param positioned true once this partition was sought to the stored offset or had a batch
 *   processed since its assignment (the runner resets it on every rebalance)
 * @returns 'seek' only for the first batch after an assignment that starts past the stored
 *   offset; otherwise 'process'
 */
export function decidePosition(stored: bigint | undefined, firstOffset: bigint | undefined, positioned: boolean): PositionDecision {
  if (stored === undefined || firstOffset === undefined) return { action: 'process', skipBelow: stored }
  if (firstOffset > stored && !positioned) return { action: 'seek', offset: stored }
  return { action: 'process', skipBelow: stored }
}
