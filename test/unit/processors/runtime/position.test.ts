import { describe, expect, it } from 'vitest'
import { decidePosition } from '../../../../processors/runtime/position.ts'

/**
 * A read_committed partition log: `readable` offsets are committed data records; every other
 * offset below `end` is a marker or an aborted record, which a fetch skips.
 */
function fetchFrom(readable: readonly number[], position: number, max = 5): number[] {
  return readable.filter((o) => o >= position).slice(0, max)
}

/**
 * Drives the decision as the runner does: fetch from the consumer's position, seek or process,
 * store the next offset in the sink and advance past the batch. Returns the offsets processed and how many fetches it took.
 */
function drain(readable: readonly number[], end: number, kafkaPosition: number, initialStored: number | undefined) {
  let position = kafkaPosition
  let stored = initialStored
  let positioned = false
  const processed: number[] = []
  let fetches = 0
  while (position < end) {
    if (++fetches > 1_000) throw new Error('seek loop: the partition never drains')
    const batch = fetchFrom(readable, position)
    if (batch.length === 0) break // only markers/aborted records left: the consumer resolves them
    const d = decidePosition(stored === undefined ? undefined : BigInt(stored), BigInt(batch[0]!), positioned)
    positioned = true
    if (d.action === 'seek') {
      position = Number(d.offset)
      continue
    }
    for (const o of batch) if (d.skipBelow === undefined || BigInt(o) >= d.skipBelow) processed.push(o)
    position = batch[batch.length - 1]! + 1
    stored = Math.max(stored ?? 0, position) // the sink stores the batch's next offset (forward only)
  }
  return { processed, fetches }
}

describe('decidePosition (read_committed)', () => {
  it('accepts a fetch whose first offset is past the stored one once positioned: no seek loop', () => {
    expect(decidePosition(1047n, 1077n, true)).toEqual({ action: 'process', skipBelow: 1047n })
  })

  it('seeks back to the stored offset only for the first batch after an assignment', () => {
    expect(decidePosition(1047n, 1077n, false)).toEqual({ action: 'seek', offset: 1047n })
  })

  it('skips records below the stored offset without seeking', () => {
    expect(decidePosition(1047n, 1000n, false)).toEqual({ action: 'process', skipBelow: 1047n })
    expect(decidePosition(1047n, 1047n, false)).toEqual({ action: 'process', skipBelow: 1047n })
  })

  it('processes everything when the sink holds no offset', () => {
    expect(decidePosition(undefined, 5n, false)).toEqual({ action: 'process', skipBelow: undefined })
  })

  it('drains a log whose stored offset falls inside an aborted transaction (the issue-10 case)', () => {
    // 0–1045 committed, 1046 marker, 1047–1075 aborted, 1076 abort marker, 1077–1099 committed.
    const readable = [...Array.from({ length: 1046 }, (_, i) => i), ...Array.from({ length: 23 }, (_, i) => 1077 + i)]
    // Kafka's committed offset past the aborted range (markers were committed), sink at 1047.
    const { processed, fetches } = drain(readable, 1100, 1077, 1047)
    expect(processed).toEqual(Array.from({ length: 23 }, (_, i) => 1077 + i))
    expect(fetches).toBeLessThan(10)
    // Kafka's position at the start of the log: records below the stored offset are skipped.
    expect(drain(readable, 1100, 0, 1047).processed).toEqual(Array.from({ length: 23 }, (_, i) => 1077 + i))
  })

  it('still reads records a Kafka offset ahead of the sink would have skipped (the sink is the truth)', () => {
    const readable = Array.from({ length: 40 }, (_, i) => i)
    expect(drain(readable, 40, 30, 10).processed).toEqual(Array.from({ length: 30 }, (_, i) => 10 + i))
  })
})
