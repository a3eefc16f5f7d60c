/**
 * Partitioner phase of `npm run bench`: keyed records per second through kafkajs's own
 * `Partitioners.DefaultPartitioner` (Java-compatible murmur2 over an emulated 64-bit Long) and
 * through the runtime's `Murmur2Partitioner` (processors/runtime/kafka/murmur2-partitioner.ts, int32
 * `Math.imul`), on the same keys and partition metadata, in alternating rounds (kafkajs first in
 * odd rounds). The ratio is the median of the per-round ratios. Every key's partition is
 * compared between the two; a single difference fails the phase (partition compatibility with
 * the Java client is the partitioner's contract).
 *
 * Keys are W3C trace ids (32 lowercase hex characters), what enrichment keys its outputs by
 * (processors/enrichment/transform.ts), over 6 partitions (the bench's topic setting).
 */
import { randomBytes } from 'node:crypto'
import { Partitioners, type ICustomPartitioner, type PartitionMetadata } from 'kafkajs'
import { Murmur2Partitioner } from '../../processors/runtime/kafka/murmur2-partitioner.ts'
import { median, ratio } from './stats.ts'

/** Result of the partitioner phase. */
export interface PartitionerResult {
  /** Keyed records per second through kafkajs's DefaultPartitioner (median over rounds). */
  readonly kafkajsPerSec: number
  /** Keyed records per second through Murmur2Partitioner (median over rounds). */
  readonly murmur2PerSec: number
  /** Median of the per-round ratios murmur2 / kafkajs; above 1 = ours is faster. */
  readonly ratio: number
  readonly rounds: readonly { readonly kafkajsPerSec: number; readonly murmur2PerSec: number }[]
  /** Calls timed per partitioner and round. */
  readonly calls: number
  readonly partitions: number
  /** Distinct keys cycled through. */
  readonly keys: number
}

/** Calls per second of `partition` over `calls` records cycling through `keys`; also returns the picks of the first `keys.length` calls. */
function timeCalls(create: ICustomPartitioner, keys: readonly string[], meta: PartitionMetadata[], calls: number): { perSec: number; picks: Int32Array } {
  const partition = create()
  const picks = new Int32Array(keys.length)
  const message = { key: '', value: null as null }
  const args = { topic: 'bench', partitionMetadata: meta, message }
  // Warm-up (JIT), not timed.
  for (let i = 0; i < Math.min(20_000, calls); i++) {
    message.key = keys[i % keys.length]!
    partition(args)
  }
  const t = performance.now()
  for (let i = 0; i < calls; i++) {
    message.key = keys[i % keys.length]!
    const p = partition(args)
    if (i < picks.length) picks[i] = p
  }
  return { perSec: calls / ((performance.now() - t) / 1000), picks }
}

/**
 * Measures both partitioners (module doc).
 * @throws Error when the two pick a different partition for any key
 */
export function measurePartitioner(opts: { calls: number; rounds: number; partitions: number; log: (line: string) => void }): PartitionerResult {
  const keys = Array.from({ length: 10_000 }, () => randomBytes(16).toString('hex'))
  const meta: PartitionMetadata[] = Array.from({ length: opts.partitions }, (_, partitionId) => ({ partitionErrorCode: 0, partitionId, leader: 0, replicas: [0], isr: [0] }))
  const rounds: { kafkajsPerSec: number; murmur2PerSec: number }[] = []
  for (let r = 1; r <= opts.rounds; r++) {
    opts.log(`round ${r}/${opts.rounds}: partitioner, ${opts.calls} keyed records each`)
    const theirs = () => timeCalls(Partitioners.DefaultPartitioner, keys, meta, opts.calls)
    const ours = () => timeCalls(Murmur2Partitioner, keys, meta, opts.calls)
    let k: ReturnType<typeof theirs>
    let m: ReturnType<typeof ours>
    if (r % 2 === 1) {
      k = theirs()
      m = ours()
    } else {
      m = ours()
      k = theirs()
    }
    for (let i = 0; i < keys.length; i++) {
      if (k.picks[i] !== m.picks[i]) throw new Error(`partitioners disagree on key ${keys[i]}: kafkajs ${k.picks[i]}, murmur2 ${m.picks[i]}`)
    }
    rounds.push({ kafkajsPerSec: k.perSec, murmur2PerSec: m.perSec })
  }
  return {
    kafkajsPerSec: median(rounds.map((x) => x.kafkajsPerSec)),
    murmur2PerSec: median(rounds.map((x) => x.murmur2PerSec)),
    ratio: median(rounds.map((x) => ratio(x.murmur2PerSec, x.kafkajsPerSec))),
    rounds,
    calls: opts.calls,
    partitions: opts.partitions,
    keys: keys.length,
  }
}
