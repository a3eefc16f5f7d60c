import { describe, expect, it } from 'vitest'
import { StreamHistory } from '../../../gateway/history.ts'
import { slowClientAction, TokenBucket } from '../../../gateway/limits.ts'
import { item } from './stream-fixtures.ts'

describe('StreamHistory', () => {
  it('replays items at or after since, complete only from the start on', () => {
    const h = new StreamHistory({ maxAgeMs: 10_000, maxCount: 10 }, 1000)
    h.add(item({ key: 'a', timeMs: 1500 }), 1500)
    h.add(item({ key: 'b', timeMs: 2500 }), 2500)
    expect(h.since(2000, 3000)).toMatchObject({ items: [{ key: 'b' }], complete: true })
    expect(h.since(500, 3000)).toMatchObject({ items: [{ key: 'a' }, { key: 'b' }], complete: false })
  })

  it('evicts by count and age and then reports incomplete replays', () => {
    const h = new StreamHistory({ maxAgeMs: 1000, maxCount: 2 }, 0)
    for (const t of [100, 200, 300]) h.add(item({ timeMs: t }), t)
    expect(h.size).toBe(2)
    expect(h.since(100, 300).complete).toBe(false)
    expect(h.since(101, 300).complete).toBe(true)
    expect(h.since(0, 1250).items).toHaveLength(1)
    expect(h.since(200, 1250).complete).toBe(false)
    expect(h.since(201, 1250).complete).toBe(true)
  })
})

describe('limits', () => {
  it('token bucket refuses over the rate and closes after repeated refusals', () => {
    const b = new TokenBucket({ perSecond: 1, burst: 2, maxStrikes: 3 }, 0)
    expect([b.take(0), b.take(0), b.take(0), b.take(0)]).toEqual(['accept', 'accept', 'refuse', 'refuse'])
    expect(b.take(1000)).toBe('accept')
    expect([b.take(1000), b.take(1000), b.take(1000)]).toEqual(['refuse', 'refuse', 'close'])
  })

  it('drops analytical batches first, then closes slow clients', () => {
    const p = { dropAnalyticalBytes: 100, closeBytes: 1000 }
    expect(slowClientAction(p, 'analytical', 50)).toBe('send')
    expect(slowClientAction(p, 'analytical', 500)).toBe('drop')
    expect(slowClientAction(p, 'operational', 500)).toBe('send')
    expect(slowClientAction(p, 'critical', 1001)).toBe('close')
  })
})
