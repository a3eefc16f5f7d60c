/**
 * The recent stream kept for `since` replays (pure; the caller passes `nowMs`).
 *
 * Items are kept in arrival order, at most `maxCount` of them and none that arrived more than
 * `maxAgeMs` ago. A replay from `sinceMs` returns the kept items whose time (event time, window
 * end or alert change) is at or after it, and says whether that is complete: it is not when the
 * gateway started after `sinceMs` (the fan-out reads from the latest offsets, so it never saw
 * older records) or when an item at or after `sinceMs` was evicted.
 */
import type { StreamItem } from './event-json.ts'

export interface HistoryLimits {
  /** Longest time an item is kept after it arrived, ms. */
  readonly maxAgeMs: number
  /** Most items kept. */
  readonly maxCount: number
}

export class StreamHistory {
  private readonly items: { item: StreamItem; arrivedMs: number }[] = []
  private head = 0
  /** Replays from this time (epoch ms) on are complete. */
  private completeFromMs: number

  /** @param startedMs when the gateway began reading, epoch ms */
  constructor(
    private readonly limits: HistoryLimits,
    startedMs: number,
  ) {
    this.completeFromMs = startedMs
  }

  get size(): number {
    return this.items.length - this.head
  }

  /** Appends an item that arrived at `nowMs` and evicts what the limits no longer allow. */
  add(item: StreamItem, nowMs: number): void {
    this.items.push({ item, arrivedMs: nowMs })
    this.evict(nowMs)
  }

  /** Kept items with time ≥ `sinceMs`, in arrival order, and whether nothing of that range was lost. */
  since(sinceMs: number, nowMs: number): { items: StreamItem[]; complete: boolean } {
    this.evict(nowMs)
    const items: StreamItem[] = []
    for (let i = this.head; i < this.items.length; i++) if (this.items[i]!.item.timeMs >= sinceMs) items.push(this.items[i]!.item)
    return { items, complete: sinceMs >= this.completeFromMs }
  }

  private evict(nowMs: number): void {
    while (this.size > 0 && (this.size > this.limits.maxCount || this.items[this.head]!.arrivedMs < nowMs - this.limits.maxAgeMs)) {
      const gone = this.items[this.head++]!.item
      // An evicted item at time t makes every replay from t or before incomplete.
      this.completeFromMs = Math.max(this.completeFromMs, Math.floor(gone.timeMs) + 1)
    }
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head)
      this.head = 0
    }
  }
}
