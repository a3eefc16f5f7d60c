import { randomBytes } from 'node:crypto'
import { Partitioners, type PartitionMetadata } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { mulberry32 } from '../../../../../scripts/sources/simulator.ts'
import { Murmur2Partitioner, murmur2, murmur2String, partitionForKey } from '../../../../../processors/runtime/kafka/murmur2-partitioner.ts'

/** Seeded PRNG, so a failure reproduces. */
const prng = mulberry32

const ALPHABETS = [
  'abcdefghijklmnopqrstuvwxyz0123456789-_',
  '\u0000\u007f !~', // ASCII edge code units
  'äöüßéñ€中文字日本語한국어', // 2- and 3-byte UTF-8
  '😀🚀𝄞', // surrogate pairs: 4-byte UTF-8
]

function randomString(rnd: () => number): string {
  const length = Math.floor(rnd() * 70)
  const alphabet = [...ALPHABETS[Math.floor(rnd() * ALPHABETS.length)]!, ...(rnd() < 0.3 ? [...ALPHABETS[0]!] : [])]
  let s = ''
  for (let i = 0; i < length; i++) s += alphabet[Math.floor(rnd() * alphabet.length)]!
  return s
}

function metadata(n: number, leaderless: readonly number[] = []): PartitionMetadata[] {
  return Array.from({ length: n }, (_, partitionId) => ({ partitionErrorCode: 0, partitionId, leader: leaderless.includes(partitionId) ? -1 : 0, replicas: [0], isr: [0] }))
}

describe('murmur2', () => {
  it("matches Kafka's published test vectors (UtilsTest.testMurmur2)", () => {
    const cases: Array<[string | Buffer, number]> = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      [Buffer.from([0x61, 0x62, 0x63]), 479470107],
    ]
    for (const [key, expected] of cases) {
      const bytes = typeof key === 'string' ? Buffer.from(key) : key
      expect(murmur2(bytes)).toBe(expected)
      expect(murmur2String(bytes.toString('latin1'))).toBe(expected)
    }
  })

  it('hashes a string as its UTF-8 bytes, on both the ASCII and the encoding path', () => {
    const rnd = prng(7)
    const mismatches: string[] = []
    for (let i = 0; i < 2_000; i++) {
      const s = randomString(rnd)
      if (murmur2String(s) !== murmur2(Buffer.from(s, 'utf8'))) mismatches.push(JSON.stringify(s))
    }
    expect(mismatches).toEqual([])
    expect(murmur2String('')).toBe(murmur2(Buffer.alloc(0)))
  })
})

describe('Murmur2Partitioner', () => {
  // Partition counts rotated over the keys: small ones, and large ones (1000, the prime 4093)
  // whose remainders expose any difference in the hash. kafkajs's partitioner costs tens of µs
  // per call on a loaded machine, so each key is compared once, on one count.
  const COUNTS = [1, 2, 3, 6, 7, 12, 50, 1000, 4093]

  it("picks the same partition as kafkajs's DefaultPartitioner for random string and Buffer keys", () => {
    const ours = Murmur2Partitioner()
    const theirs = Partitioners.DefaultPartitioner()
    const rnd = prng(42)
    const metas = COUNTS.map((n) => metadata(n))
    const mismatches: string[] = []
    let compared = 0
    for (let i = 0; i < 1_500; i++) {
      const s = randomString(rnd)
      const keys: Array<string | Buffer> = [s, Buffer.from(s, 'utf8'), randomBytes(Math.floor(rnd() * 64))]
      for (const [j, key] of keys.entries()) {
        const partitionMetadata = metas[(i * keys.length + j) % metas.length]!
        const args = { topic: 't', partitionMetadata, message: { key, value: null } }
        const [a, b] = [ours(args), theirs(args)]
        if (a !== b) mismatches.push(`${JSON.stringify(typeof key === 'string' ? key : key.toString('hex'))} over ${partitionMetadata.length}: ours ${a}, kafkajs ${b}`)
        compared++
      }
    }
    expect(mismatches).toEqual([])
    expect(compared).toBe(1_500 * 3)
  })

  it('agrees with kafkajs on trace ids like the ones enrichment keys by, and spreads them over every partition', () => {
    const theirs = Partitioners.DefaultPartitioner()
    const partitionMetadata = metadata(6)
    const seen = new Set<number>()
    for (let i = 0; i < 1_000; i++) {
      const key = `sim-${crypto.randomUUID()}`
      const p = partitionForKey(key, 6)
      expect(p).toBe(theirs({ topic: 't', partitionMetadata, message: { key, value: null } }))
      seen.add(p)
    }
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5])
  })

  it('keeps an explicit partition, as kafkajs does', () => {
    const ours = Murmur2Partitioner()
    expect(ours({ topic: 't', partitionMetadata: metadata(6), message: { key: 'k', value: null, partition: 4 } })).toBe(4)
    expect(ours({ topic: 't', partitionMetadata: metadata(6), message: { key: null, value: null, partition: 0 } })).toBe(0)
  })

  it('sends records without key round-robin over the partitions that have a leader', () => {
    const ours = Murmur2Partitioner()
    const partitionMetadata = metadata(6, [1, 4])
    const picks = Array.from({ length: 12 }, () => ours({ topic: 't', partitionMetadata, message: { key: null, value: null } }))
    expect(new Set(picks)).toEqual(new Set([0, 2, 3, 5]))
    for (let i = 4; i < picks.length; i++) expect(picks[i]).toBe(picks[i - 4])
    // a topic without any leader: still a partition in range
    const none = metadata(3, [0, 1, 2])
    for (let i = 0; i < 5; i++) expect(ours({ topic: 'u', partitionMetadata: none, message: { key: undefined, value: null } })).toBeLessThan(3)
  })
})
