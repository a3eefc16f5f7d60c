/**
 * Java-compatible murmur2 partitioner for kafkajs, in 32-bit integer arithmetic.
 *
 * It picks the same partition as Kafka's Java producer (`BuiltInPartitioner.partitionForKey`,
 * formerly `DefaultPartitioner`) and as kafkajs's `Partitioners.DefaultPartitioner` do for a
 * keyed record: `(murmur2(keyBytes) & 0x7fffffff) % numPartitions`, with `murmur2` as in
 * `org.apache.kafka.common.utils.Utils.murmur2` (seed 0x9747b28c). kafkajs computes the same
 * hash with an emulated 64-bit `Long` (an object per multiply) and filters the partition
 * metadata for every message; here the hash is `Math.imul` on int32s (the low 32 bits of each
 * product, exactly Java's int overflow) and string keys of ASCII characters are hashed without
 * encoding them into a Buffer.
 *
 * Everything else is kafkajs's behaviour, unchanged: an explicit `partition` wins; a key is
 * hashed as kafkajs serializes it (a Buffer as is, anything else as the UTF-8 bytes of
 * `String(key)`); a record without key goes round-robin over the partitions that have a leader,
 * from a random start per topic (`test/unit/processors/runtime/kafka/murmur2-partitioner.test.ts`
 * checks both against kafkajs).
 */
import { randomBytes } from 'node:crypto'
import type { ICustomPartitioner, PartitionerArgs } from 'kafkajs'

const SEED = 0x9747b28c
const M = 0x5bd1e995

/** Final mix of murmur2 (shared by the bytes and the ASCII-string paths). */
function finish(h: number): number {
  h ^= h >>> 13
  h = Math.imul(h, M)
  h ^= h >>> 15
  return h | 0
}

/** One 4-byte block, little-endian `k`, mixed into `h`. */
function mixBlock(h: number, k: number): number {
  k = Math.imul(k, M)
  k ^= k >>> 24
  k = Math.imul(k, M)
  return Math.imul(h, M) ^ k
}

/** Kafka's murmur2 of `data` (Utils.murmur2): a signed 32-bit integer, as Java returns it. */
export function murmur2(data: Uint8Array): number {
  const length = data.length
  let h = SEED ^ length
  const length4 = length >>> 2
  for (let i = 0; i < length4; i++) {
    const i4 = i << 2
    h = mixBlock(h, data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24))
  }
  const tail = length & ~3
  switch (length & 3) {
    case 3:
      h ^= data[tail + 2]! << 16
    // falls through
    case 2:
      h ^= data[tail + 1]! << 8
    // falls through
    case 1:
      h ^= data[tail]!
      h = Math.imul(h, M)
  }
  return finish(h)
}

/**
 * murmur2 of the UTF-8 bytes of `s`. A string of ASCII characters (every code unit < 0x80) is its
 * own UTF-8 encoding, so its code units are hashed directly; any other string is encoded first.
 */
export function murmur2String(s: string): number {
  const length = s.length
  for (let i = 0; i < length; i++) if (s.charCodeAt(i) >= 0x80) return murmur2(Buffer.from(s, 'utf8'))
  let h = SEED ^ length
  const length4 = length >>> 2
  for (let i = 0; i < length4; i++) {
    const i4 = i << 2
    h = mixBlock(h, s.charCodeAt(i4) | (s.charCodeAt(i4 + 1) << 8) | (s.charCodeAt(i4 + 2) << 16) | (s.charCodeAt(i4 + 3) << 24))
  }
  const tail = length & ~3
  switch (length & 3) {
    case 3:
      h ^= s.charCodeAt(tail + 2) << 16
    // falls through
    case 2:
      h ^= s.charCodeAt(tail + 1) << 8
    // falls through
    case 1:
      h ^= s.charCodeAt(tail)
      h = Math.imul(h, M)
  }
  return finish(h)
}

/** Partition of a non-null key among `numPartitions`, as Kafka's Java producer and kafkajs pick it. */
export function partitionForKey(key: string | Buffer, numPartitions: number): number {
  const hash = typeof key === 'string' ? murmur2String(key) : Buffer.isBuffer(key) ? murmur2(key) : murmur2String(String(key))
  return (hash & 0x7fffffff) % numPartitions
}

/**
 * kafkajs `createPartitioner` option: a drop-in for `Partitioners.DefaultPartitioner` (same
 * partition for every record; see the module documentation).
 */
export const Murmur2Partitioner: ICustomPartitioner = () => {
  const counters: Record<string, number> = {}
  return ({ topic, partitionMetadata, message }: PartitionerArgs): number => {
    if (message.partition !== null && message.partition !== undefined) return message.partition
    const numPartitions = partitionMetadata.length
    if (message.key !== null && message.key !== undefined) return partitionForKey(message.key, numPartitions)
    // No key: round-robin over the partitions with a leader, from a random start (kafkajs).
    counters[topic] ??= randomBytes(32).readUInt32BE(0)
    const available = partitionMetadata.filter((p) => p.leader >= 0)
    const next = ++counters[topic]
    if (available.length > 0) return available[(next & 0x7fffffff) % available.length]!.partitionId
    return (next & 0x7fffffff) % numPartitions
  }
}
