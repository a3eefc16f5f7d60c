/**
 * The buffered sink: accumulates outputs per input partition and hands them to a flush function
 * when the partition's buffer reaches `maxRecords` records or `maxBytes` bytes, or its oldest
 * record is `maxAgeMs` old (whichever first); only after the flush resolves does it acknowledge
 * the position of the last batch it holds, so the runner commits only what the flush made durable
 * (`offsets: 'kafka'`, at least once: a crash before the commit flushes those records again).
 *
 * A batch that fills the buffer is flushed before `write` returns (backpressure: the partition
 * waits for its flush); otherwise `write` answers `pending` and the age timer (checked every
 * `min(maxAgeMs / 4, 1000)` ms and on every punctuation tick) flushes later. A failed flush
 * drops the buffer and reports `ctx.fail`: the runner re-reads the partition from its last
 * commit. On revocation the buffers of the lost partitions are dropped, unacknowledged. On
 * `close()` (a clean stop) every buffer is flushed and acknowledged.
 */
import type { AcknowledgingSink, PartitionPosition, SinkBatch, SinkContext, SinkRecord, WriteResult } from './sink.ts'

/** One partition's buffered records handed to the flush function. */
export interface FlushRequest<Out> {
  readonly topic: string
  readonly partition: number
  /** Records in input offset order. */
  readonly records: readonly SinkRecord<Out>[]
  /** Sum of `sizeOf` over the records, bytes. */
  readonly bytes: number
  /** Position acknowledged once the flush resolves. */
  readonly position: PartitionPosition
  /** Why now: `count`, `bytes`, `age` or `close`. */
  readonly reason: 'count' | 'bytes' | 'age' | 'close'
}

/** Options of {@link createBufferedSink}. */
export interface BufferedSinkOptions<Out> {
  /**
   * Makes the records durable (e.g. writes one Parquet object); resolves only when they are.
   * @throws on failure (the runner re-reads the partition from its last commit)
   */
  readonly flush: (request: FlushRequest<Out>) => Promise<void>
  /** Flush when a partition holds this many records. */
  readonly maxRecords: number
  /** Flush when a partition holds this many bytes (per `sizeOf`). */
  readonly maxBytes: number
  /** Flush when a partition's oldest buffered record was taken this long ago, ms (processing time). */
  readonly maxAgeMs: number
  /** Size of one output, bytes. Default: UTF-8 bytes of its JSON. */
  readonly sizeOf?: (value: Out) => number
}

interface PartitionBuffer<Out> {
  records: SinkRecord<Out>[]
  bytes: number
  firstAtMs: number
  position: PartitionPosition | undefined
  /** Serialises writes and flushes of one partition. */
  chain: Promise<unknown>
}

/** Creates a buffered sink (module doc). */
export function createBufferedSink<Out>(opts: BufferedSinkOptions<Out>): AcknowledgingSink<Out> & {
  /** Records buffered now over all partitions (for tests and metrics). */
  bufferedRecords(): number
} {
  const sizeOf = opts.sizeOf ?? ((v: Out) => Buffer.byteLength(JSON.stringify(v)))
  const buffers = new Map<string, PartitionBuffer<Out>>()
  let ctx: SinkContext | undefined
  let timer: NodeJS.Timeout | undefined
  const keyOf = (topic: string, partition: number) => `${topic}\u0000${partition}`

  function bufferOf(topic: string, partition: number): PartitionBuffer<Out> {
    const k = keyOf(topic, partition)
    let b = buffers.get(k)
    if (!b) buffers.set(k, (b = { records: [], bytes: 0, firstAtMs: 0, position: undefined, chain: Promise.resolve() }))
    return b
  }

  /** Flushes `b` (caller holds its chain); returns the acknowledged position or undefined when empty. */
  async function flushNow(b: PartitionBuffer<Out>, topic: string, partition: number, reason: FlushRequest<Out>['reason']): Promise<PartitionPosition | undefined> {
    const position = b.position
    if (!position) return undefined
    const records = b.records
    const bytes = b.bytes
    b.records = []
    b.bytes = 0
    b.position = undefined
    if (records.length > 0) await opts.flush({ topic, partition, records, bytes, position, reason })
    return position
  }

  function serialised<T>(b: PartitionBuffer<Out>, work: () => Promise<T>): Promise<T> {
    const run = b.chain.then(work, work)
    b.chain = run.catch(() => undefined)
    return run
  }

  async function flushAged(nowMs: number): Promise<void> {
    for (const [k, b] of buffers) {
      if (!b.position || nowMs - b.firstAtMs < opts.maxAgeMs) continue
      const [topic, p] = k.split('\u0000') as [string, string]
      const partition = Number(p)
      await serialised(b, async () => {
        if (!b.position || nowMs - b.firstAtMs < opts.maxAgeMs) return
        try {
          const acked = await flushNow(b, topic, partition, 'age')
          if (acked) ctx?.acknowledge(acked)
        } catch (err) {
          ctx?.fail(err as Error, { topic, partition })
        }
      })
    }
  }

  return {
    kind: 'buffered',
    offsets: 'kafka',
    bufferedRecords: () => [...buffers.values()].reduce((n, b) => n + b.records.length, 0),
    async start(c) {
      ctx = c
      const every = Math.max(10, Math.min(opts.maxAgeMs / 4, 1_000))
      timer = setInterval(() => void flushAged(c.now()), every)
      timer.unref()
    },
    write(batch: SinkBatch<Out>): Promise<WriteResult> {
      const { topic, partition } = batch.position
      const b = bufferOf(topic, partition)
      return serialised(b, async (): Promise<WriteResult> => {
        if (batch.records.length === 0 && !b.position) return { kind: 'acknowledged' } // nothing held: the position is durable as it is
        if (b.records.length === 0) b.firstAtMs = batch.nowMs
        for (const r of batch.records) {
          b.records.push(r)
          b.bytes += sizeOf(r.value)
        }
        b.position = batch.position
        const reason = b.records.length >= opts.maxRecords ? 'count' : b.bytes >= opts.maxBytes ? 'bytes' : batch.nowMs - b.firstAtMs >= opts.maxAgeMs && b.records.length > 0 ? 'age' : undefined
        if (!reason) return { kind: 'pending' }
        await flushNow(b, topic, partition, reason)
        return { kind: 'acknowledged' }
      })
    },
    async revoke(partitions) {
      for (const { topic, partition } of partitions) {
        const b = buffers.get(keyOf(topic, partition))
        if (!b) continue
        await serialised(b, async () => {
          b.records = []
          b.bytes = 0
          b.position = undefined
        })
        buffers.delete(keyOf(topic, partition))
      }
    },
    async close() {
      clearInterval(timer)
      for (const [k, b] of buffers) {
        const [topic, p] = k.split('\u0000') as [string, string]
        await serialised(b, async () => {
          const acked = await flushNow(b, topic, Number(p), 'close')
          if (acked) ctx?.acknowledge(acked)
        })
      }
    },
  }
}
