/**
 * A min-heap of timers (due time, rule index, fingerprint) for the rule engine. Entries are never
 * removed early: a group that is rescheduled pushes a new entry and the engine skips entries
 * whose due time no longer equals the group's.
 */

/** One timer. */
export interface Timer {
  dueMs: number
  rule: number
  fp: string
}

/** Binary min-heap ordered by due time. */
export class TimerQueue {
  private readonly heap: Timer[] = []

  /** Number of entries (stale ones included). */
  get size(): number {
    return this.heap.length
  }

  push(dueMs: number, rule: number, fp: string): void {
    const h = this.heap
    h.push({ dueMs, rule, fp })
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (h[p]!.dueMs <= h[i]!.dueMs) break
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
        if (l < h.length && h[l]!.dueMs < h[m]!.dueMs) m = l
        if (r < h.length && h[r]!.dueMs < h[m]!.dueMs) m = r
        if (m === i) break
        ;[h[m], h[i]] = [h[i]!, h[m]!]
        i = m
      }
    }
    return top
  }
}
