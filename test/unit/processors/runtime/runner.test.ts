/**
 * The runner's decisions against the in-memory driver (test/helpers/memory-driver.ts): what it
 * commits and when, what it dead-letters and why, where it resumes, when it punctuates and what
 * state a partition has after it moved.
 */
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { DLQ_HEADERS, topicNames } from '../../../../schemas/index.ts'
import { defineProcessor, type CommittedBatch, type ProcessorDefinition } from '../../../../processors/runtime/define-processor.ts'
import { createRunnerRegistry } from '../../../../processors/runtime/ops/metrics.ts'
import { createRunner, type Runner } from '../../../../processors/runtime/runner.ts'
import { deadLetter, emit, skip } from '../../../../processors/runtime/outcome.ts'
import { createBufferedSink, type FlushRequest } from '../../../../processors/runtime/sinks/buffered-sink.ts'
import type { AcknowledgingSink, SinkBatch, WriteResult } from '../../../../processors/runtime/sinks/sink.ts'
import { AurenError } from '../../../../processors/runtime/ops/errors.ts'
import type { Serde } from '../../../../processors/runtime/kafka/serde.ts'
import type { FieldProjection } from '../../../../schemas/projection.ts'
import { MemoryDriver, jsonSerde, type MemoryConsumer } from '../../../helpers/memory-driver.ts'
import { waitUntil } from '../../../helpers/wait-until.ts'

const T = topicNames('')
const IN = T.agentEvents
const IN2 = T.agentMetrics
const OUT = T.enrichedEvents
type Msg = { n: number; bad?: string }

const runners: Runner[] = []
afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop()))
})

function put(driver: MemoryDriver, partition: number, ...values: Array<Msg | string>): void {
  for (const v of values) driver.append(IN, partition, Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)), { key: `k${partition}` })
}

async function start<S>(driver: MemoryDriver, def: ProcessorDefinition<Msg, Msg, S>, extra: { punctuationIntervalMs?: number; lagIntervalMs?: number; delivery?: 'exactly-once'; serde?: Serde } = {}): Promise<{ runner: Runner; consumer: MemoryConsumer }> {
  const { registry, metrics } = createRunnerRegistry()
  const runner = createRunner(def, {
    driver, serde: jsonSerde(), log: pino({ level: 'silent' }), registry, metrics, topicPrefix: '', groupIdPrefix: 'g.', fromBeginning: true,
    transactionalId: 'tx-1', ...extra,
  })
  runners.push(runner)
  await runner.start()
  return { runner, consumer: driver.consumers[driver.consumers.length - 1]! }
}

const input = { topic: 'agentEvents' as const, schema: 'agent-event' as const, decode: (v: unknown) => v as Msg }

/** A pass-through processor through the exactly-once Kafka topic sink, holding partition 0 of IN. */
async function startExactlyOnce(): Promise<{ driver: MemoryDriver; consumer: MemoryConsumer }> {
  const driver = new MemoryDriver({ [IN]: 1 })
  const { consumer } = await start(
    driver,
    defineProcessor<Msg, Msg>({ name: 'enrichment', inputs: [input], output: { topic: 'enrichedEvents', schema: 'enriched-agent-event', encode: (v) => v }, transform: (m) => emit({ key: 'k', value: m }) }),
    { delivery: 'exactly-once' },
  )
  driver.rebalance(new Map([[consumer, { [IN]: [0] }]]))
  return { driver, consumer }
}

/** The values on the output topic, in order. */
const outputs = (driver: MemoryDriver): Msg[] => driver.all(OUT).map((r) => JSON.parse(r.value!.toString()) as Msg)

/** A sink with `offsets: 'kafka'` whose acknowledgements the test releases by hand. */
function gatedSink(): AcknowledgingSink<Msg> & { writes: SinkBatch<Msg>[]; release(err?: Error): void } {
  const writes: SinkBatch<Msg>[] = []
  let gate: { resolve: () => void; reject: (e: Error) => void } | undefined
  return {
    kind: 'gated', offsets: 'kafka', writes,
    async start() {},
    write(batch) {
      writes.push(batch)
      return new Promise<WriteResult>((resolve, reject) => (gate = { resolve: () => resolve({ kind: 'acknowledged' }), reject }))
    },
    release(err) {
      const g = gate
      gate = undefined
      if (err) g?.reject(err)
      else g?.resolve()
    },
    async close() {},
  }
}

/** A store sink (`offsets: 'sink'`, stores state) shared by the instances of a test, like a database. */
function storeSink(store: { offsets: Map<string, string>; states: Map<string, string>; rows: Msg[] }): AcknowledgingSink<Msg> {
  return {
    kind: 'store', offsets: 'sink', storesState: true,
    async start() {},
    async write(batch) {
      const k = `${batch.position.topic}/${batch.position.partition}`
      store.rows.push(...batch.records.map((r) => r.value))
      if (batch.cause === 'records') store.offsets.set(k, batch.position.nextOffset)
      if (batch.state) store.states.set(k, batch.state.json)
      return { kind: 'acknowledged' }
    },
    async storedOffsets(_g, topic, partitions) {
      return new Map(partitions.flatMap((p) => (store.offsets.has(`${topic}/${p}`) ? [[p, store.offsets.get(`${topic}/${p}`)!] as [number, string]] : [])))
    },
    async loadState(_g, topic, partition) {
      return store.states.get(`${topic}/${partition}`)
    },
    async close() {},
  }
}

describe('runner: commit discipline', () => {
  it('commits a batch position only after the sink acknowledged it, and not at all when the sink fails', async () => {
    const driver = new MemoryDriver({ [IN]: 1 })
    const sink = gatedSink()
    const committed: CommittedBatch<Msg, Msg>[] = []
    const { consumer } = await start(driver, defineProcessor<Msg, Msg>({
      name: 'enrichment', inputs: [input], sink, transform: (m) => emit({ key: 'k', value: { n: m.n * 10 } }), afterCommit: (b) => void committed.push(b),
    }))
    driver.rebalance(new Map([[consumer, { [IN]: [0] }]]))
    put(driver, 0, { n: 1 }, { n: 2 })

    const delivering = consumer.deliver()
    await waitUntil('the write', () => sink.writes.length === 1)
    expect(sink.writes[0]!.records.map((r) => r.value.n)).toEqual([10, 20])
    expect(driver.committed.get(`${IN}/0`)).toBeUndefined() // written, not acknowledged: nothing committed
    expect(committed).toHaveLength(0)
    sink.release(new AurenError('AUREN_ERR_SINK_UNAVAILABLE', 'down', { retriable: true }))
    // the runner retries the batch after a backoff: the same records come again
    await waitUntil('the retried write', () => sink.writes.length === 2)
    expect(driver.committed.get(`${IN}/0`)).toBeUndefined() // the failed attempt committed nothing
    expect(committed).toHaveLength(0) // and counted nothing
    expect(sink.writes[1]!.records.map((r) => r.value.n)).toEqual([10, 20])
    sink.release()
    await delivering
    expect(driver.committed.get(`${IN}/0`)).toBe(2n)
    expect(committed).toHaveLength(1)
    expect(committed[0]!.results.map((r) => r.input.n)).toEqual([1, 2])
  })

  it('with a buffered sink, commits only what a flush made durable', async () => {
    const driver = new MemoryDriver({ [IN]: 1 })
    const flushed: FlushRequest<Msg>[] = []
    const sink = createBufferedSink<Msg>({ flush: async (r) => void flushed.push(r), maxRecords: 3, maxBytes: 1e9, maxAgeMs: 60_000 })
    const { consumer } = await start(driver, defineProcessor<Msg, Msg>({ name: 'archival', inputs: [input], sink, transform: (m) => emit({ key: 'k', value: m }) }))
    driver.rebalance(new Map([[consumer, { [IN]: [0] }]]))
    put(driver, 0, { n: 1 }, { n: 2 })
    await consumer.deliver()
    expect(flushed).toHaveLength(0)
    expect(driver.committed.get(`${IN}/0`)).toBeUndefined() // buffered, not durable
    put(driver, 0, { n: 3 }, { n: 4 })
    await consumer.deliver() // 4 records buffered ≥ 3: flushed, then acknowledged
    expect(flushed.map((f) => [f.reason, f.records.map((r) => r.value.n)])).toEqual([['count', [1, 2, 3, 4]]])
    expect(driver.committed.get(`${IN}/0`)).toBe(4n)
  })

  it('exactly-once: outputs and dead letters go in the transaction that commits the position', async () => {
    const { driver, consumer } = await startExactlyOnce()
    put(driver, 0, { n: 1 }, 'not json')
    driver.failNextSend = new Error('transaction aborted')
    await consumer.deliver()
    expect(driver.committed.get(`${IN}/0`)).toBeUndefined()
    expect(driver.all(OUT)).toHaveLength(0)
    await consumer.deliver()
    expect(driver.committed.get(`${IN}/0`)).toBe(2n)
    expect(outputs(driver)).toEqual([{ n: 1 }])
    expect(driver.all(T.deadLetter)).toHaveLength(1)
  })

  it('exactly-once: a batch whose commit reached the broker though the client saw it fail is skipped on retry, not produced again', async () => {
    const { driver, consumer } = await startExactlyOnce()
    put(driver, 0, { n: 1 }, { n: 2 }, 'not json')
    // The broker committed outputs, dead letter and offset, then died before answering EndTxn.
    driver.failAfterNextCommit = Object.assign(new Error('Connection error: read ECONNRESET'), { name: 'KafkaJSConnectionError' })
    await consumer.deliver()
    expect(consumer.errors).toEqual([])
    // The partition's transactional id was settled at the assignment and again before the committed offset was read for the retry.
    expect(driver.settledIds).toEqual([`tx-1-${IN}-0`, `tx-1-${IN}-0`])
    expect(driver.committed.get(`${IN}/0`)).toBe(3n)
    expect(outputs(driver)).toEqual([{ n: 1 }, { n: 2 }])
    expect(driver.all(T.deadLetter)).toHaveLength(1)
    put(driver, 0, { n: 3 })
    await consumer.deliver()
    expect(outputs(driver)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }])
    expect(driver.committed.get(`${IN}/0`)).toBe(4n)
  })

  it('exactly-once: a batch whose transaction failed before the commit is produced on retry', async () => {
    const { driver, consumer } = await startExactlyOnce()
    put(driver, 0, { n: 1 }, { n: 2 })
    driver.failNextSend = Object.assign(new Error('Connection error: connect ECONNREFUSED'), { name: 'KafkaJSConnectionError' })
    await consumer.deliver()
    expect(consumer.errors).toEqual([])
    expect(driver.settled).toBe(2) // at the assignment, and before the retry
    expect(driver.committed.get(`${IN}/0`)).toBe(2n)
    expect(outputs(driver)).toEqual([{ n: 1 }, { n: 2 }])
  })

  it('exactly-once: a batch wholly below the committed offset (another instance went further) commits no position behind it', async () => {
    const { driver, consumer } = await startExactlyOnce()
    put(driver, 0, { n: 1 }, { n: 2 }, { n: 3 }, { n: 4 })
    // Another instance took the partition, processed all four and committed 4, while this one
    // still fetches from 0 (a zombie that resumed, or a fetch made before the rebalance).
    driver.committed.set(`${IN}/0`, 4n)
    consumer.positions.set(`${IN}/0`, 0n)
    await consumer.deliver(2)
    expect(consumer.errors).toEqual([])
    expect(driver.committed.get(`${IN}/0`)).toBe(4n)
    expect(driver.all(OUT)).toHaveLength(0)
  })

  it('exactly-once: one transactional producer per input partition, settled at each assignment before the committed offset is read', async () => {
    const driver = new MemoryDriver({ [IN]: 2 })
    const { consumer } = await start(
      driver,
      defineProcessor<Msg, Msg>({ name: 'enrichment', inputs: [input], output: { topic: 'enrichedEvents', schema: 'enriched-agent-event', encode: (v) => v }, transform: (m) => emit({ key: 'k', value: m }) }),
      { delivery: 'exactly-once' },
    )
    driver.rebalance(new Map([[consumer, { [IN]: [0, 1] }]]))
    put(driver, 0, { n: 1 })
    put(driver, 1, { n: 2 })
    await consumer.deliver()
    expect([...driver.settledIds].sort()).toEqual([`tx-1-${IN}-0`, `tx-1-${IN}-1`])
    expect(driver.committed.get(`${IN}/0`)).toBe(1n)
    expect(driver.committed.get(`${IN}/1`)).toBe(1n)
    // Another assignment (a rebalance): each partition's id is settled again, on a new producer.
    driver.rebalance(new Map([[consumer, { [IN]: [0, 1] }]]))
    put(driver, 0, { n: 3 })
    put(driver, 1, { n: 4 })
    await consumer.deliver()
    expect(driver.settledIds).toHaveLength(4)
    expect(driver.transactionalIds.filter((id) => id === `tx-1-${IN}-0`)).toHaveLength(2)
    expect(outputs(driver).map((m) => m.n).sort()).toEqual([1, 2, 3, 4])
  })
})

describe('runner: dead letters', () => {
  it('dead-letters each kind of bad record with its reason and source, and goes on', async () => {
    const driver = new MemoryDriver({ [IN]: 1 })
    const { consumer } = await start(driver, defineProcessor<Msg, Msg>({
      name: 'enrichment',
      inputs: [{ ...input, decode: (v) => { if ((v as Msg).bad === 'decode') throw new Error('no n'); return v as Msg } }],
      output: { topic: 'enrichedEvents', schema: 'enriched-agent-event', encode: (v) => v },
      transform: (m) => {
        if (m.bad === 'throw') throw new Error('boom')
        if (m.bad === 'invalid') return deadLetter('VALIDATION_FAILED', 'n must be positive')
        if (m.bad === 'dup') return skip('duplicate')
        return emit({ key: 'k', value: m })
      },
    }))
    driver.rebalance(new Map([[consumer, { [IN]: [0] }]]))
    put(driver, 0, '{oops', { n: 1, bad: 'decode' }, { n: 2, bad: 'throw' }, { n: 3, bad: 'invalid' }, { n: 4, bad: 'dup' }, { n: 5 })
    await consumer.deliver()
    const dlq = driver.all(T.deadLetter)
    expect(dlq.map((r) => [r.headers[DLQ_HEADERS.reason], r.headers[DLQ_HEADERS.sourceOffset]])).toEqual([
      ['DESERIALIZATION_FAILED', '0'], ['VALIDATION_FAILED', '1'], ['PROCESSING_FAILED', '2'], ['VALIDATION_FAILED', '3'],
    ])
    expect(dlq[2]!.headers[DLQ_HEADERS.message]).toBe('transform threw: boom')
    expect(dlq[0]!.value!.toString()).toBe('{oops') // original bytes
    expect(driver.all(OUT).map((r) => JSON.parse(r.value!.toString()).n)).toEqual([5])
    expect(driver.committed.get(`${IN}/0`)).toBe(6n)
  })
})

describe('runner: positions stored in the sink', () => {
  it('skips records below the stored offset, seeks back once when Kafka is ahead, then accepts a read_committed gap', async () => {
    const driver = new MemoryDriver({ [IN]: 1 })
    const store = { offsets: new Map([[`${IN}/0`, '3']]), states: new Map<string, string>(), rows: [] as Msg[] }
    const seen: number[] = []
    const { consumer } = await start(driver, defineProcessor<Msg, Msg>({ name: 'aggregation', inputs: [input], sink: storeSink(store), transform: (m) => (seen.push(m.n), emit({ key: 'k', value: m })) }))
    driver.rebalance(new Map([[consumer, { [IN]: [0] }]]))
    put(driver, 0, { n: 0 }, { n: 1 }, { n: 2 }, { n: 3 }, { n: 4 })
    await consumer.deliver()
    expect(seen).toEqual([3, 4]) // 0..2 were applied by the sink before
    expect(store.offsets.get(`${IN}/0`)).toBe('5')

    // after a reassignment Kafka is ahead of the sink (stored 5, fetch starts at 7): one seek back to 5 ...
    put(driver, 0, { n: 5 }, { n: 6 }, { n: 7 })
    driver.rebalance(new Map([[consumer, { [IN]: [0] }]]))
    consumer.positions.set(`${IN}/0`, 7n)
    await consumer.deliver()
    expect(seen).toEqual([3, 4])
    expect(consumer.positions.get(`${IN}/0`)).toBe(5n)
    // ... and when 5 and 6 are not readable (aborted, markers), the gap is accepted: no seek loop
    consumer.positions.set(`${IN}/0`, 7n)
    await consumer.deliver()
    expect(seen).toEqual([3, 4, 7])
    expect(store.offsets.get(`${IN}/0`)).toBe('8')
  })
})

describe('runner: punctuation', () => {
  it('ticks every assigned partition, hands its records to the sink at the current position and commits them', async () => {
    const driver = new MemoryDriver({ [IN]: 2 })
    const store = { offsets: new Map<string, string>(), states: new Map<string, string>(), rows: [] as Msg[] }
    const ticks: Array<[number, number | null]> = []
    const committed: CommittedBatch<Msg, Msg>[] = []
    const { consumer } = await start(
      driver,
      defineProcessor<Msg, Msg, number>({
        name: 'alerting', inputs: [input], sink: storeSink(store), state: { initial: () => 0 },
        transform: (m, ctx) => (ctx.state.set(ctx.state.get() + m.n), skip('counted')),
        punctuate: (nowMs, p, ctx) => {
          ticks.push([p.partition, ctx.lastRecordAtMs])
          return ctx.state.get() > 0 ? [{ key: `p${p.partition}`, value: { n: ctx.state.get() } }] : []
        },
        afterCommit: (b) => void committed.push(b),
      }),
      { punctuationIntervalMs: 20 },
    )
    driver.rebalance(new Map([[consumer, { [IN]: [0, 1] }]]))
    put(driver, 0, { n: 2 }, { n: 5 })
    await consumer.deliver()
    await waitUntil('a tick of each partition', () => new Set(ticks.map((t) => t[0])).size === 2)
    await waitUntil('the tick output of partition 0', () => store.rows.some((r) => r.n === 7))
    expect(ticks.find((t) => t[0] === 1)![1]).toBeNull() // partition 1 never had a record
    expect(ticks.filter((t) => t[0] === 0).some((t) => typeof t[1] === 'number')).toBe(true)
    expect(store.offsets.get(`${IN}/0`)).toBe('2') // a tick does not move the position
    expect(committed.some((b) => b.cause === 'punctuation' && b.punctuated[0]?.value.n === 7)).toBe(true)
  })
})

describe('runner: stream-time punctuation', () => {
  it('runs once at the end of each batch, its records in the batch\'s own sink write at the batch\'s last offset', async () => {
    const driver = new MemoryDriver({ [IN]: 1 })
    const writes: SinkBatch<Msg>[] = []
    const committed: CommittedBatch<Msg, Msg>[] = []
    const store = storeSink({ offsets: new Map<string, string>(), states: new Map<string, string>(), rows: [] as Msg[] })
    const sink: AcknowledgingSink<Msg> = { ...store, write: (b) => (writes.push(b), store.write(b)) }
    const { consumer } = await start(
      driver,
      defineProcessor<Msg, Msg, number>({
        name: 'alerting', inputs: [input], sink, state: { initial: () => 0 },
        transform: (m, ctx) => (ctx.state.set(ctx.state.get() + m.n), emit({ key: 'r', value: m })),
        // the sum of the batch so far, once per batch
        punctuateStreamTime: (_p, ctx) => [{ key: 'sum', value: { n: ctx.state.get() } }],
        afterCommit: (b) => void committed.push(b),
      }),
    )
    driver.rebalance(new Map([[consumer, { [IN]: [0] }]]))
    put(driver, 0, { n: 1 }, { n: 2 }, { n: 3 })
    await consumer.deliver(2)
    await consumer.deliver()
    await waitUntil('two batches committed', () => committed.length === 2)
    const records = writes.filter((w) => w.cause === 'records').map((w) => w.records.map((r) => `${r.key}:${r.value.n}@${r.offset}`))
    expect(records).toEqual([['r:1@0', 'r:2@1', 'sum:3@1'], ['r:3@2', 'sum:6@2']])
    expect(committed.map((b) => [b.cause, b.punctuated.map((r) => r.value.n)])).toEqual([['records', [3]], ['records', [6]]])
  })

  it('a throw fails the batch: nothing is written, the state is rolled back, and the batch read again counts once', async () => {
    const driver = new MemoryDriver({ [IN]: 1 })
    const store = { offsets: new Map<string, string>(), states: new Map<string, string>(), rows: [] as Msg[] }
    let throws = 1
    const { consumer } = await start(
      driver,
      defineProcessor<Msg, Msg, number>({
        name: 'alerting', inputs: [input], sink: storeSink(store), state: { initial: () => 0 },
        transform: (m, ctx) => (ctx.state.set(ctx.state.get() + m.n), skip('counted')),
        punctuateStreamTime: (_p, ctx) => {
          if (throws-- > 0) throw new Error('stream-time bug')
          return [{ key: 'sum', value: { n: ctx.state.get() } }]
        },
      }),
    )
    driver.rebalance(new Map([[consumer, { [IN]: [0] }]]))
    put(driver, 0, { n: 1 }, { n: 2 })
    await consumer.deliver()
    expect(consumer.errors.map((e) => e.message)).toEqual(['stream-time bug'])
    expect(store.rows).toEqual([])
    expect(store.offsets.get(`${IN}/0`)).toBeUndefined()
    await consumer.deliver() // read again from the last stored position and state
    expect(store.rows).toEqual([{ n: 3 }]) // not 6: the failed batch's sum was rolled back
    expect(store.offsets.get(`${IN}/0`)).toBe('2')
  })
})

describe('runner: the lag handed to punctuation', () => {
  /** A stateful processor over 2 partitions of IN whose ticks record [partition, lagRecords] in `seen`. */
  async function lagRecorder(extra: { lagIntervalMs?: number } = {}) {
    const driver = new MemoryDriver({ [IN]: 2 })
    const store = { offsets: new Map<string, string>(), states: new Map<string, string>(), rows: [] as Msg[] }
    const seen: Array<[number, number | null]> = []
    const { consumer } = await start(
      driver,
      defineProcessor<Msg, Msg, number>({
        name: 'alerting', inputs: [input], sink: storeSink(store), state: { initial: () => 0 },
        transform: () => skip('counted'),
        punctuate: (_nowMs, p, ctx) => (seen.push([p.partition, ctx.lagRecords]), []),
      }),
      { punctuationIntervalMs: 20, ...extra },
    )
    return { driver, consumer, seen }
  }

  it('is null before a partition is measured, then what its last batch left to read, then 0 once caught up', async () => {
    const { driver, consumer, seen } = await lagRecorder()
    driver.rebalance(new Map([[consumer, { [IN]: [0, 1] }]]))
    put(driver, 0, { n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }, { n: 5 })
    await waitUntil('a tick of partition 0', () => seen.some((t) => t[0] === 0))
    expect(seen.find((t) => t[0] === 0)![1]).toBeNull() // assigned, nothing fetched or measured yet
    await consumer.deliver(2)
    await waitUntil('a tick after the first batch', () => seen.some((t) => t[0] === 0 && t[1] !== null))
    expect(seen.filter((t) => t[0] === 0 && t[1] !== null).map((t) => t[1])).toContain(3) // 2 of 5 read
    await consumer.deliver()
    await waitUntil('a tick after the backlog was read', () => seen.some((t) => t[0] === 0 && t[1] === 0))
    expect(seen.filter((t) => t[0] === 1).every((t) => t[1] === null)).toBe(true) // partition 1 never fetched
  })

  it('is the lag monitor\'s reading for a partition not fetched yet: its backlog, or 0 when empty', async () => {
    const { driver, consumer, seen } = await lagRecorder({ lagIntervalMs: 50 })
    put(driver, 0, { n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }, { n: 5 })
    driver.rebalance(new Map([[consumer, { [IN]: [0, 1] }]]))
    await waitUntil('the monitor\'s readings in the ticks', () => seen.some((t) => t[0] === 0 && t[1] === 5) && seen.some((t) => t[0] === 1 && t[1] === 0))
  })
})

describe('runner: per-partition state', () => {
  it('is restored on the instance a partition moves to, and rolled back when a batch fails', async () => {
    const driver = new MemoryDriver({ [IN]: 2 })
    const store = { offsets: new Map<string, string>(), states: new Map<string, string>(), rows: [] as Msg[] }
    let failNext = false
    const def = (sink: AcknowledgingSink<Msg>) =>
      defineProcessor<Msg, Msg, { sum: number }>({
        name: 'alerting', inputs: [input], sink, state: { initial: () => ({ sum: 0 }) },
        transform: (m, ctx) => {
          ctx.state.set({ sum: ctx.state.get().sum + m.n })
          return emit({ key: 'k', value: { n: ctx.state.get().sum } })
        },
      })
    const flaky = storeSink(store)
    const write = flaky.write.bind(flaky)
    flaky.write = async (b) => {
      if (failNext) {
        failNext = false
        throw new AurenError('AUREN_ERR_SINK_UNAVAILABLE', 'down', { retriable: true })
      }
      return write(b)
    }
    const a = await start(driver, def(flaky))
    const b = await start(driver, def(storeSink(store)))
    driver.rebalance(new Map([[a.consumer, { [IN]: [0, 1] }], [b.consumer, {}]]))
    put(driver, 0, { n: 1 }, { n: 2 })
    await a.consumer.deliver()
    put(driver, 0, { n: 4 })
    failNext = true
    await a.consumer.deliver() // fails: sum must go back to 3, not stay at 7
    await a.consumer.deliver()
    expect(store.rows.map((r) => r.n)).toEqual([1, 3, 7])
    expect(JSON.parse(store.states.get(`${IN}/0`)!)).toEqual({ sum: 7 })

    driver.rebalance(new Map([[a.consumer, { [IN]: [1] }], [b.consumer, { [IN]: [0] }]]))
    put(driver, 0, { n: 10 })
    await b.consumer.deliver()
    expect(store.rows.map((r) => r.n)).toEqual([1, 3, 7, 17]) // b continued from a's state
    expect(JSON.parse(store.states.get(`${IN}/0`)!)).toEqual({ sum: 17 })
  })
})

describe('runner: several inputs', () => {
  it('reads every input topic in one group, decoding each with its own input spec', async () => {
    const driver = new MemoryDriver({ [IN]: 1, [IN2]: 1 })
    const sink = gatedSink()
    const { consumer } = await start(driver, defineProcessor<Msg, Msg>({
      name: 'alerting',
      inputs: [input, { topic: 'agentMetrics', schema: 'agent-metrics-window', decode: (v) => ({ n: (v as Msg).n + 1000 }) }],
      sink, transform: (m) => emit({ key: 'k', value: m }),
    }))
    driver.rebalance(new Map([[consumer, { [IN]: [0], [IN2]: [0] }]]))
    put(driver, 0, { n: 1 })
    driver.append(IN2, 0, Buffer.from(JSON.stringify({ n: 2 })))
    const delivering = consumer.deliver()
    await waitUntil('first write', () => sink.writes.length === 1)
    sink.release()
    await waitUntil('second write', () => sink.writes.length === 2)
    sink.release()
    await delivering
    expect(sink.writes.map((w) => [w.position.topic, w.records[0]!.value.n])).toEqual([[IN, 1], [IN2, 1002]])
    expect(driver.committed.get(`${IN2}/0`)).toBe(1n)
  })

  it('decodes an input with its field projection, and refuses a projection with a mistake when the processor is defined', async () => {
    const fields: FieldProjection = { 'auren.metrics.AgentMetricsWindow': ['agent_id'] }
    const seen: Array<FieldProjection | undefined> = []
    const base = jsonSerde()
    const serde: Serde = { ...base, decode: (bytes, schema, f) => (seen.push(f), base.decode(bytes, schema, f)) }
    const driver = new MemoryDriver({ [IN]: 1, [IN2]: 1 })
    const sink = gatedSink()
    const { consumer } = await start(driver, defineProcessor<Msg, Msg>({
      name: 'alerting',
      inputs: [input, { topic: 'agentMetrics', schema: 'agent-metrics-window', fields, decode: (v) => v as Msg }],
      sink, transform: (m) => emit({ key: 'k', value: m }),
    }), { serde })
    driver.rebalance(new Map([[consumer, { [IN]: [0], [IN2]: [0] }]]))
    driver.append(IN2, 0, Buffer.from(JSON.stringify({ n: 2 })))
    const delivering = consumer.deliver()
    await waitUntil('write', () => sink.writes.length === 1)
    sink.release()
    await delivering
    expect(seen).toEqual([fields])
    const bad = { 'auren.metrics.AgentMetricsWindow': ['agent_id', 'no_such_field'] }
    expect(() => defineProcessor<Msg, Msg>({ name: 'alerting', inputs: [{ ...input, schema: 'agent-metrics-window', fields: bad }], sink, transform: (m) => emit({ key: 'k', value: m }) })).toThrow(/has no field no_such_field/)
  })
})
