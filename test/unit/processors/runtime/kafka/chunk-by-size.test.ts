import { describe, expect, it } from 'vitest'
import { chunkBySize } from '../../../../../processors/runtime/kafka/kafka-client.ts'

const rec = (bytes: number, key = 'k') => ({ topic: 't', key, value: Buffer.alloc(bytes) })

describe('chunkBySize', () => {
  it('keeps order and splits so no chunk exceeds the limit', () => {
    const records = Array.from({ length: 100 }, (_, i) => rec(90, `k${i}`))
    const chunks = chunkBySize(records, 1000)
    expect(chunks.flat()).toEqual(records)
    expect(chunks.length).toBeGreaterThan(9)
    for (const c of chunks) expect(c.reduce((n, r) => n + (r.value?.length ?? 0) + 16 + String(r.key).length, 0)).toBeLessThanOrEqual(1000)
  })

  it('sends a record larger than the limit alone, and nothing for no records', () => {
    expect(chunkBySize([rec(10), rec(5000), rec(10)], 1000).map((c) => c.length)).toEqual([1, 1, 1])
    expect(chunkBySize([], 1000)).toEqual([])
  })
})

describe('chunkBySize record bound', () => {
  it('also splits at maxRecords records, in order', () => {
    const records = Array.from({ length: 1_001 }, (_, i) => rec(10, `k${i}`))
    const chunks = chunkBySize(records, 1_000_000, 400)
    expect(chunks.map((c) => c.length)).toEqual([400, 400, 201])
    expect(chunks.flat()).toEqual(records)
    expect(chunkBySize(records).every((c) => c.length <= 400)).toBe(true) // MAX_REQUEST_RECORDS by default
  })
})
