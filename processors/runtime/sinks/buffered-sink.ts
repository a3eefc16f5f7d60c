/**
 * The buffered sink: accumulates outputs per input partition and hands them to a flush function
 * when the partition's buffer reaches `maxRecords` records or `maxBytes` bytes, or its oldest
 * record is `maxAgeMs` old (whichever first), or, with `flushWhenCaughtUp`, when a batch reaches
 * the partition's high watermark; only after the flush resolves does it acknowledge
 * the position of the last batch it holds, so the runner commits only what the flush made durable
 * (`offsets: 'kafka'`, at least once: a crash before the commit flushes those records again).
 *
 * A batch that fills the buffer is flushed before `write` returns (backpressure: the partition
 * waits for its flush); otherwise `write` answers `pending` and the age timer (checked every
 * `min(maxAgeMs / 4, 1000)` ms and on every punctuation tick) flushes later. A failed flush
 * drops the buffer and reports `ctx.fail`: the runner re-reads the partition from its last
 * commit. On revocation the buffers of the lost partitions are dropped at once, unacknowledged; a
 * flush of one still in flight finishes on its own (a failure of it is only logged: the rebalance
 * re-reads the partition anyway) and the partition's next buffer here flushes after it. On
 * `close()` (a clean stop) every buffer is flushed and acknowledged.
 *
 * With `overlap`, a due flush runs in the background while the partition takes its next
 * records (e.g. the next batch is decoded while the previous one uploads): at most one flush per
 * partition is in flight, a write that makes the next one due waits for it, flushes of one
 * partition run and are acknowledged in offset order, and a failure is reported with `ctx.fail`.
 * After a failed flush (either mode) the partition takes nothing until the runner's re-read
 * arrives (a batch starting at or before the failed flush's first offset): records the consumer
 * had fetched beyond the failed range must not be flushed ahead of it.
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
  /** Why now: `count`, `bytes`, `age`, `caught-up` (see {@link BufferedSinkOptions.flushWhenCaughtUp}) or `close`. */
  readonly reason: 'count' | 'bytes' | 'age' | 'caught-up' | 'close'
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
  /** Run due flushes in the background, one in flight per partition (module doc). Default false. */
  readonly overlap?: boolean
  /**
   * Also flush when a batch ends at its partition's high watermark (the consumer has caught up
   * with the log): the sink's store trails the log by one flush instead of by up to `maxAgeMs`
   * (a low-latency store such as the event store; an archive of objects wants the age instead,
   * so that a slow stream does not make one object per batch). Default false.
   */
  readonly flushWhenCaughtUp?: boolean
}

interface PartitionBuffer<Out> {
  records: SinkRecord<Out>[]
  bytes: number
  firstAtMs: number
  position: PartitionPosition | undefined
  /** Serialises writes and flushes of one partition. */
  chain: Promise<unknown>
  /** `overlap`: the partition's flush in flight (settles, never rejects). */
  inFlight: Promise<void>
  /** First offset of a failed flush: writes are ignored until the re-read from at or before it. */
  rewindTo: bigint | undefined
  /** The partition was revoked: nothing more is flushed from this buffer, and its flush in flight reports no failure. */
  revoked: boolean
}

/** Creates a buffered sink (module doc). */
export function createBufferedSink<Out>(opts: BufferedSinkOptions<Out>): AcknowledgingSink<Out> & {
  /** Records buffered now over all partitions (for tests and metrics). */
  bufferedRecords(): number
} {
  const sizeOf = opts.sizeOf ?? ((v: Out) => Buffer.byteLength(JSON.stringify(v)))
  const buffers = new Map<string, PartitionBuffer<Out>>()
  /** Flushes still in flight of revoked buffers: the partition's next owner here waits for them first (offset order). */
  const retired = new Map<string, Promise<void>>()
  let ctx: SinkContext | undefined
  let timer: NodeJS.Timeout | undefined
  const keyOf = (topic: string, partition: number) => `${topic}\u0000${partition}`

  function bufferOf(topic: string, partition: number): PartitionBuffer<Out> {
    const k = keyOf(topic, partition)
    let b = buffers.get(k)
    if (!b) {
      const inFlight = retired.get(k) ?? Promise.resolve()
      retired.delete(k)
      buffers.set(k, (b = { records: [], bytes: 0, firstAtMs: 0, position: undefined, chain: Promise.resolve(), inFlight, rewindTo: undefined, revoked: false }))
    }
    return b
  }

  /**
   * A flush of `records` failed: drop what is buffered and wait for the runner's re-read. A flush
   * of a revoked partition reports nothing: the rebalance already made the partition's owner (this
   * instance or another) read it again from the last commit.
   */
  function failed(b: PartitionBuffer<Out>, records: readonly SinkRecord<Out>[], err: unknown, topic: string, partition: number): void {
    if (b.revoked) {
      ctx?.log.warn({ err, topic, partition }, 'flush of a revoked partition failed; its owner re-reads it from the last commit')
      return
    }
    b.records = []
    b.bytes = 0
    b.position = undefined
    if (records[0]) b.rewindTo = BigInt(records[0].offset)
    ctx?.fail(err as Error, { topic, partition })
  }

  /**
   * `overlap`: waits for the partition's flush in flight, then starts flushing `b` in the
   * background (caller holds its chain); the acknowledgement follows the flush.
   */
  async function flushBehind(b: PartitionBuffer<Out>, topic: string, partition: number, reason: FlushRequest<Out>['reason']): Promise<void> {
    await b.inFlight
    const position = b.position
    if (!position || b.rewindTo !== undefined || b.revoked) return
    const records = b.records
    const bytes = b.bytes
    b.records = []
    b.bytes = 0
    b.position = undefined
    if (records.length === 0) {
      ctx?.acknowledge(position)
      return
    }
    b.inFlight = opts.flush({ topic, partition, records, bytes, position, reason }).then(
      () => ctx?.acknowledge(position),
      (err: unknown) => failed(b, records, err, topic, partition),
    )
  }

  /** Flushes `b` (caller holds its chain); returns the acknowledged position or undefined when empty. */
  async function flushNow(b: PartitionBuffer<Out>, topic: string, partition: number, reason: FlushRequest<Out>['reason']): Promise<PartitionPosition | undefined> {
    const position = b.position
    if (!position || b.revoked) return undefined
    const records = b.records
    const bytes = b.bytes
    b.records = []
    b.bytes = 0
    b.position = undefined
    if (records.length > 0) await opts.flush({ topic, partition, records, bytes, position, reason })
    return position
  }

  /** Why `b` is due for a flush after taking `batch`, if it is (count, bytes, age, caught up, in that order). */
  function dueReason(b: PartitionBuffer<Out>, batch: SinkBatch<Out>): FlushRequest<Out>['reason'] | undefined {
    if (b.records.length >= opts.maxRecords) return 'count'
    if (b.bytes >= opts.maxBytes) return 'bytes'
    if (b.records.length === 0) return undefined
    if (batch.nowMs - b.firstAtMs >= opts.maxAgeMs) return 'age'
    const caughtUp = batch.cause === 'records' && batch.highWatermark !== undefined && BigInt(batch.position.nextOffset) >= BigInt(batch.highWatermark)
    return opts.flushWhenCaughtUp && caughtUp ? 'caught-up' : undefined
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
        if (opts.overlap) return flushBehind(b, topic, partition, 'age')
        const records = b.records
        try {
          const acked = await flushNow(b, topic, partition, 'age')
          if (acked) ctx?.acknowledge(acked)
        } catch (err) {
          failed(b, records, err, topic, partition)
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
        if (b.rewindTo !== undefined) {
          // After a failed flush: only the runner's re-read (from at or before the failed range) is taken.
          const first = batch.records[0]
          const reread = first ? BigInt(first.offset) <= b.rewindTo : BigInt(batch.position.nextOffset) <= b.rewindTo
          if (!reread) return { kind: 'pending' } // delivered again after the re-read
          b.rewindTo = undefined
        }
        if (batch.records.length === 0 && !b.position) return { kind: 'acknowledged' } // nothing held: the position is durable as it is
        if (b.records.length === 0) b.firstAtMs = batch.nowMs
        for (const r of batch.records) {
          b.records.push(r)
          b.bytes += sizeOf(r.value)
        }
        b.position = batch.position
        const reason = dueReason(b, batch)
        if (!reason) return { kind: 'pending' }
        if (opts.overlap) {
          await flushBehind(b, topic, partition, reason)
          return { kind: 'pending' }
        }
        await flushNow(b, topic, partition, reason)
        return { kind: 'acknowledged' }
      })
    },
    async revoke(partitions) {
      // At once, before any batch of the next assignment arrives: the buffer is detached (its
      // records dropped, unacknowledged); a flush of it still in flight finishes on its own (its
      // acknowledgement is durable; its failure is not reported) and the partition's next buffer
      // here starts after it, so flushes of a partition stay in offset order.
      for (const { topic, partition } of partitions) {
        const k = keyOf(topic, partition)
        const b = buffers.get(k)
        if (!b) continue
        buffers.delete(k)
        b.revoked = true
        b.records = []
        b.bytes = 0
        b.position = undefined
        retired.set(k, b.inFlight)
      }
    },
    async close() {
      clearInterval(timer)
      for (const [k, b] of buffers) {
        const [topic, p] = k.split('\u0000') as [string, string]
        await serialised(b, async () => {
          await b.inFlight
          if (b.rewindTo !== undefined) return
          const acked = await flushNow(b, topic, Number(p), 'close')
          if (acked) ctx?.acknowledge(acked)
        })
      }
    },
  }
}
