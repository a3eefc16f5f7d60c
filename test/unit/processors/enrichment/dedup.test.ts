import { describe, expect, it } from 'vitest'
import { DedupWindow } from '../../../../processors/enrichment/dedup.ts'

const at = (offset: number, partition = 0, topic = 'in') => ({ topic, partition, offset: String(offset) })
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`

describe('DedupWindow', () => {
  it('classifies first, redelivery (same coordinates) and duplicate (other coordinates)', () => {
    const w = new DedupWindow({ maxEntries: 10, maxAgeMs: 1000 })
    expect(w.check(id(1), at(5), 0)).toEqual({ kind: 'first' })
    w.remember(id(1), at(5), 0)
    expect(w.check(id(1), at(5), 10)).toEqual({ kind: 'redelivery' })
    expect(w.check(id(1), at(6), 10)).toEqual({ kind: 'duplicate', first: at(5) })
    expect(w.check(id(1), at(5, 1), 10)).toEqual({ kind: 'duplicate', first: at(5) })
    expect(w.check(id(1), at(5, 0, 'other'), 10)).toEqual({ kind: 'duplicate', first: at(5) })
  })

  it('check does not remember', () => {
    const w = new DedupWindow({ maxEntries: 10, maxAgeMs: 1000 })
    w.check(id(1), at(1), 0)
    expect(w.size).toBe(0)
    expect(w.check(id(1), at(2), 0)).toEqual({ kind: 'first' })
  })

  it('keeps the first occurrence when remembered again elsewhere', () => {
    const w = new DedupWindow({ maxEntries: 10, maxAgeMs: 1000 })
    w.remember(id(1), at(1), 0)
    w.remember(id(1), at(2), 5)
    expect(w.size).toBe(1)
    expect(w.check(id(1), at(1), 6)).toEqual({ kind: 'redelivery' })
    expect(w.check(id(1), at(2), 6).kind).toBe('duplicate')
  })

  it('evicts the oldest entries beyond maxEntries', () => {
    const w = new DedupWindow({ maxEntries: 3, maxAgeMs: 1_000_000 })
    for (let i = 1; i <= 5; i++) w.remember(id(i), at(i), i)
    expect(w.size).toBe(3)
    expect(w.evictions).toEqual({ byAge: 0, byCount: 2 })
    expect(w.check(id(1), at(99), 10).kind).toBe('first')
    expect(w.check(id(2), at(99), 10).kind).toBe('first')
    expect(w.check(id(3), at(99), 10).kind).toBe('duplicate')
    expect(w.check(id(5), at(99), 10).kind).toBe('duplicate')
  })

  it('forgets entries older than maxAgeMs, keeps those exactly maxAgeMs old', () => {
    const w = new DedupWindow({ maxEntries: 100, maxAgeMs: 1000 })
    w.remember(id(1), at(1), 0)
    w.remember(id(2), at(2), 500)
    expect(w.check(id(1), at(9), 1000).kind).toBe('duplicate')
    expect(w.check(id(1), at(9), 1001).kind).toBe('first')
    expect(w.size).toBe(1)
    expect(w.check(id(2), at(9), 1001).kind).toBe('duplicate')
    expect(w.check(id(2), at(9), 1501).kind).toBe('first')
    expect(w.size).toBe(0)
    expect(w.evictions).toEqual({ byAge: 2, byCount: 0 })
  })

  it('stays bounded under a long stream and answers in constant time per operation', () => {
    const w = new DedupWindow({ maxEntries: 1000, maxAgeMs: 50 })
    const started = performance.now()
    let largest = 0
    for (let i = 0; i < 200_000; i++) {
      const now = Math.floor(i / 10) // 10 ids per ms: the age bound (500 ids) binds before the count bound
      w.check(id(i), at(i), now)
      w.remember(id(i), at(i), now)
      largest = Math.max(largest, w.size)
    }
    expect(largest).toBeLessThanOrEqual(510)
    expect(w.size).toBeLessThanOrEqual(510)
    expect(w.evictions.byAge).toBeGreaterThan(199_000)
    expect(performance.now() - started).toBeLessThan(2000)
  })

  it('rejects bounds below 1', () => {
    expect(() => new DedupWindow({ maxEntries: 0, maxAgeMs: 1 })).toThrow(RangeError)
    expect(() => new DedupWindow({ maxEntries: 1, maxAgeMs: 0 })).toThrow(RangeError)
  })
})

describe('DedupWindow count bound under a fast stream', () => {
  it('never holds more than maxEntries when the age bound does not bind', () => {
    const w = new DedupWindow({ maxEntries: 100, maxAgeMs: 3_600_000 })
    let largest = 0
    for (let i = 0; i < 10_000; i++) {
      w.remember(id(i), at(i), 0)
      largest = Math.max(largest, w.size)
    }
    expect(largest).toBe(100)
    expect(w.evictions).toEqual({ byAge: 0, byCount: 9_900 })
    expect(w.check(id(9_899), at(0), 0).kind).toBe('first')
    expect(w.check(id(9_900), at(0), 0).kind).toBe('duplicate')
  })
})

describe('DedupWindow at its count bound', () => {
  it('stays O(1) per operation when every insert evicts the oldest id (a full window in steady state)', () => {
    // V8 keeps deleted Map entries as holes until a rehash, and a Map iterator walks over them:
    // reading the oldest key through the Map made each eviction O(evicted so far) here.
    const w = new DedupWindow({ maxEntries: 50_000, maxAgeMs: 3_600_000 })
    const ids = Array.from({ length: 250_000 }, (_, i) => id(i))
    const started = performance.now()
    let firsts = 0
    for (let i = 0; i < ids.length; i++) {
      if (w.check(ids[i]!, at(i), 0).kind === 'first') firsts++
      w.remember(ids[i]!, at(i), 0)
    }
    const ms = performance.now() - started
    expect(firsts).toBe(ids.length)
    expect(ms).toBeLessThan(4_000) // about 0.2 s; over 10 s when each eviction walked the Map's holes
    expect(w.size).toBe(50_000)
    expect(w.evictions).toEqual({ byAge: 0, byCount: 200_000 })
    expect(w.check(ids[199_999]!, at(0), 0).kind).toBe('first')
    expect(w.check(ids[200_000]!, at(0), 0).kind).toBe('duplicate')
  })

  it('evicts by age and by count in insertion order across queue compactions', () => {
    const w = new DedupWindow({ maxEntries: 3_000, maxAgeMs: 100 })
    // 5 000 ids at t=0..4999 (one per ms): age keeps the last 101, count never binds
    for (let i = 0; i < 5_000; i++) w.remember(id(i), at(i), i)
    expect(w.size).toBe(101)
    expect(w.check(id(4_898), at(0), 4_999).kind).toBe('first')
    expect(w.check(id(4_899), at(0), 4_999).kind).toBe('duplicate')
    // a burst at one instant: count binds, the oldest go first
    for (let i = 10_000; i < 14_000; i++) w.remember(id(i), at(i), 5_000)
    expect(w.size).toBe(3_000)
    expect(w.check(id(10_999), at(0), 5_000).kind).toBe('first')
    expect(w.check(id(11_000), at(11_000), 5_000).kind).toBe('redelivery')
    expect(w.evictions.byAge + w.evictions.byCount).toBe(5_000 + 4_000 - 3_000)
  })
})
