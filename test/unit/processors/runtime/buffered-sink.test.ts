/**
 * The buffered sink's decisions: flush by count, bytes or age (whichever first), acknowledge only
 * after the flush resolved, drop revoked partitions unacknowledged, flush everything on close,
 * report a failed flush.
 */
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { topicNames } from '../../../../schemas/index.ts'
import { createBufferedSink, type FlushRequest } from '../../../../processors/runtime/sinks/buffered-sink.ts'
import type { PartitionPosition, SinkBatch, SinkContext } from '../../../../processors/runtime/sinks/sink.ts'
import { MemoryDriver, jsonSerde } from '../../../helpers/memory-driver.ts'
import { waitUntil } from '../../../helpers/wait-until.ts'

type V = { s: string }
const pos = (partition: number, nextOffset: number): PartitionPosition => ({ groupId: 'g', topic: 't', partition, nextOffset: String(nextOffset) })
const batch = (partition: number, from: number, values: string[], nowMs: number): SinkBatch<V> => ({
  records: values.map((s, i) => ({ key: 'k', value: { s }, partition, offset: String(from + i) })),
  position: pos(partition, from + values.length),
  cause: 'records',
  nowMs,
})

function harness(opts: { maxRecords?: number; maxBytes?: number; maxAgeMs?: number; fail?: boolean; overlap?: boolean; flushWhenCaughtUp?: boolean; gate?: () => Promise<void> } = {}) {
  const flushed: FlushRequest<V>[] = []
  const acked: PartitionPosition[] = []
  const failures: Error[] = []
  let clock = 0
  const sink = createBufferedSink<V>({
    flush: async (r) => {
      await opts.gate?.()
      if (opts.fail) throw new Error('store down')
      flushed.push(r)
    },
    maxRecords: opts.maxRecords ?? 1_000, maxBytes: opts.maxBytes ?? 1e9, maxAgeMs: opts.maxAgeMs ?? 60_000, sizeOf: (v) => v.s.length, overlap: opts.overlap, flushWhenCaughtUp: opts.flushWhenCaughtUp,
  })
  const ctx: SinkContext = {
    topics: topicNames(''), driver: new MemoryDriver({}), serde: jsonSerde(), log: pino({ level: 'silent' }), registry: new Registry(),
    processor: 'archival', groupId: 'g', now: () => clock, acknowledge: (p) => void acked.push(p), fail: (e) => void failures.push(e),
  }
  return { sink, ctx, flushed, acked, failures, setClock: (ms: number) => (clock = ms) }
}

describe('buffered sink', () => {
  it('flushes by bytes before count, and acknowledges the last position it flushed', async () => {
    const h = harness({ maxRecords: 10, maxBytes: 6 })
    await h.sink.start(h.ctx)
    expect((await h.sink.write(batch(0, 0, ['ab', 'cd'], 0))).kind).toBe('pending')
    expect((await h.sink.write(batch(0, 2, ['ef'], 0))).kind).toBe('acknowledged') // 6 bytes
    expect(h.flushed.map((f) => [f.reason, f.bytes, f.position.nextOffset, f.records.length])).toEqual([['bytes', 6, '3', 3]])
    await h.sink.close()
  })

  it('with flushWhenCaughtUp, flushes a batch that reaches the high watermark at once, and holds one behind it', async () => {
    for (const caughtUpOn of [true, false]) {
      const h = harness({ maxRecords: 100, flushWhenCaughtUp: caughtUpOn })
      await h.sink.start(h.ctx)
      expect((await h.sink.write({ ...batch(0, 0, ['a', 'b'], 0), highWatermark: '5' })).kind).toBe('pending') // backlog: 3 more
      expect((await h.sink.write({ ...batch(0, 2, ['c', 'd', 'e'], 0), highWatermark: '5' })).kind).toBe(caughtUpOn ? 'acknowledged' : 'pending')
      expect(h.flushed.map((f) => [f.reason, f.records.length, f.position.nextOffset])).toEqual(caughtUpOn ? [['caught-up', 5, '5']] : [])
      await h.sink.close()
    }
  })

  it('flushes a partition by age on the timer and acknowledges through the context', async () => {
    const h = harness({ maxAgeMs: 40 })
    await h.sink.start(h.ctx)
    h.setClock(1_000)
    await h.sink.write(batch(1, 5, ['x'], 1_000))
    expect(h.acked).toEqual([])
    h.setClock(1_050)
    await waitUntil('the age flush', () => h.acked.length === 1)
    expect(h.acked[0]).toEqual(pos(1, 6))
    expect(h.flushed[0]!.reason).toBe('age')
    await h.sink.close()
  })

  it('drops revoked partitions without acknowledging, and flushes the others on close', async () => {
    const h = harness()
    await h.sink.start(h.ctx)
    await h.sink.write(batch(0, 0, ['a'], 0))
    await h.sink.write(batch(1, 0, ['b', 'c'], 0))
    await h.sink.revoke!([{ topic: 't', partition: 0 }])
    await h.sink.close()
    expect(h.flushed.map((f) => [f.partition, f.reason, f.records.map((r) => r.value.s)])).toEqual([[1, 'close', ['b', 'c']]])
    expect(h.acked).toEqual([pos(1, 2)])
  })

  it('reports a failed age flush and acknowledges nothing', async () => {
    const h = harness({ maxAgeMs: 20, fail: true })
    await h.sink.start(h.ctx)
    await h.sink.write(batch(0, 0, ['a'], 0))
    h.setClock(100)
    await waitUntil('the failure', () => h.failures.length === 1)
    expect(h.acked).toEqual([])
    expect(h.sink.bufferedRecords()).toBe(0) // dropped: the runner re-reads from the last commit
    await h.sink.close()
  })

  it('with overlap, takes the next records while a flush is in flight and acknowledges flushes in offset order', async () => {
    const gates: (() => void)[] = []
    const h = harness({ maxRecords: 2, overlap: true, gate: () => new Promise<void>((resolve) => gates.push(resolve)) })
    await h.sink.start(h.ctx)
    expect((await h.sink.write(batch(0, 0, ['a', 'b'], 0))).kind).toBe('pending') // flush 1 starts, in flight
    expect((await h.sink.write(batch(0, 2, ['c'], 0))).kind).toBe('pending') // taken while flush 1 uploads
    expect(h.sink.bufferedRecords()).toBe(1)
    const third = h.sink.write(batch(0, 3, ['d'], 0)) // makes flush 2 due: waits for flush 1
    await waitUntil('flush 1 to start', () => gates.length === 1)
    expect(h.acked).toEqual([])
    gates[0]!()
    await third
    expect(h.acked).toEqual([pos(0, 2)])
    await waitUntil('flush 2 to start', () => gates.length === 2)
    gates[1]!()
    await waitUntil('flush 2 acknowledged', () => h.acked.length === 2)
    expect(h.acked).toEqual([pos(0, 2), pos(0, 4)])
    expect(h.flushed.map((f) => f.records.map((r) => r.value.s))).toEqual([['a', 'b'], ['c', 'd']])
    await h.sink.close()
  })

  it('after a failed background flush, ignores the records fetched beyond it until the re-read, then flushes from there', async () => {
    let fail = true
    const h = harness({ maxRecords: 2, overlap: true, gate: async () => {
      if (fail) throw new Error('store down')
    } })
    await h.sink.start(h.ctx)
    await h.sink.write(batch(0, 10, ['a', 'b'], 0)) // flush of [10, 12) fails in the background
    await waitUntil('the failure', () => h.failures.length === 1)
    fail = false
    expect((await h.sink.write(batch(0, 12, ['c', 'd'], 0))).kind).toBe('pending') // fetched before the re-read: ignored
    expect(h.sink.bufferedRecords()).toBe(0)
    await h.sink.write(batch(0, 10, ['a', 'b'], 0)) // the re-read from the last commit
    await waitUntil('the re-read flushed', () => h.acked.length === 1)
    expect(h.acked).toEqual([pos(0, 12)])
    expect(h.flushed.map((f) => f.records.map((r) => r.offset))).toEqual([['10', '11']])
    await h.sink.close()
  })
})
