/**
 * Which events the ingest API has already handed to Kafka (pure bookkeeping, no I/O): an
 * `event_id` is pending while its produce request waits for the broker's acknowledgement, then
 * acknowledged (kept for the last `maxAcked` ids), or forgotten when the request failed.
 *
 * Why: an HTTP answer may time out (503) while kafkajs keeps retrying the produce request; when
 * the exporter retries the batch, sending its events again would write them twice once the broker
 * is back. With the ledger a retry waits for the pending request of the same ids instead, and ids
 * acknowledged recently are answered as accepted without a second write: within one instance and
 * the acknowledged window, each `event_id` is written to Kafka once (the pipeline dedups by
 * `event_id` beyond that, enrichment's dedup window).
 */

/** What to do with the ids of a request. */
export interface DeliveryPlan {
  /** Ids never seen (or whose earlier request failed): send these, once each. */
  readonly fresh: readonly string[]
  /** Requests already under way for some of the ids: wait for them. */
  readonly pending: readonly Promise<void>[]
  /** Ids acknowledged before: nothing to send. */
  readonly acked: number
}

export class DeliveryLedger {
  private readonly pendingById = new Map<string, Promise<void>>()
  /** Insertion-ordered: the oldest acknowledged ids are dropped first. */
  private readonly ackedIds = new Set<string>()

  /** @param maxAcked acknowledged ids remembered (memory: about 100 B each) */
  constructor(private readonly maxAcked = 200_000) {}

  /** Splits ids (duplicates within the request count once) into fresh, pending and acknowledged. */
  plan(ids: readonly string[]): DeliveryPlan {
    const fresh: string[] = []
    const pending = new Set<Promise<void>>()
    let acked = 0
    const seen = new Set<string>()
    for (const id of ids) {
      if (seen.has(id)) continue
      seen.add(id)
      const p = this.pendingById.get(id)
      if (p) pending.add(p)
      else if (this.ackedIds.has(id)) acked++
      else fresh.push(id)
    }
    return { fresh, pending: [...pending], acked }
  }

  /**
   * Records `ids` as pending on `delivery`: acknowledged when it resolves, forgotten when it
   * rejects (a later request sends them again). Returns `delivery`.
   */
  track(ids: readonly string[], delivery: Promise<void>): Promise<void> {
    for (const id of ids) this.pendingById.set(id, delivery)
    delivery.then(
      () => {
        for (const id of ids) {
          if (this.pendingById.get(id) === delivery) this.pendingById.delete(id)
          this.ackedIds.add(id)
        }
        for (const id of this.ackedIds) {
          if (this.ackedIds.size <= this.maxAcked) break
          this.ackedIds.delete(id)
        }
      },
      () => {
        for (const id of ids) if (this.pendingById.get(id) === delivery) this.pendingById.delete(id)
      },
    )
    return delivery
  }

  /** Ids waiting for an acknowledgement now. */
  get pendingCount(): number {
    return this.pendingById.size
  }
}
