/**
 * A min-heap of timers (due time, aggregation slot, group key) for the rule engine. Entries are
 * never removed early: a group that is rescheduled pushes a new entry and the engine skips
 * entries whose due time no longer equals the group's. Entries due at the same time come out in
 * (slot, key) order, whatever order they went in: the alerts a replay gives at one event time
 * come out in the same order after a restore (a heap rebuilt from a saved state) as without.
 */

/** Whether timer `a` comes out before `b`: earlier due time, then lower slot, then lower key. */
function before(a: Timer, b: Timer): boolean {
  if (a.dueMs !== b.dueMs) return a.dueMs < b.dueMs
  if (a.slot !== b.slot) return a.slot < b.slot
  return a.key < b.key
}

/** One timer. */
export interface Timer {
  dueMs: number
  /** Aggregation slot (RuleIndex.aggregationSlot). */
  slot: number
  /** Group key within the aggregation (RuleIndex.groupKey). */
  key: string
}

/** Binary min-heap ordered by due time. */
export class TimerQueue {
  private readonly heap: Timer[] = []

  /** Number of entries (stale ones included). */
  get size(): number {
    return this.heap.length
  }

  push(dueMs: number, slot: number, key: string): void {
    const h = this.heap
    h.push({ dueMs, slot, key })
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!before(h[i]!, h[p]!)) break
      ;[h[p], h[i]] = [h[i]!, h[p]!]
      i = p
    }
  }

  peek(): Timer | undefined {
    return this.heap[0]
  }

  pop(): Timer | undefined {
    const h = this.heap
    const top = h[0]
    const last = h.pop()
    if (h.length > 0 && last) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && before(h[l]!, h[m]!)) m = l
        if (r < h.length && before(h[r]!, h[m]!)) m = r
        if (m === i) break
        ;[h[m], h[i]] = [h[i]!, h[m]!]
        i = m
      }
    }
    return top
  }
}
