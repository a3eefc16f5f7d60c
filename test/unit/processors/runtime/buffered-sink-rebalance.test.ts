/**
 * The buffered sink across a rebalance (runner + in-memory driver): a partition revoked while its
 * flush is still running, which then fails or succeeds. The instance that lost the partition
 * stays ready and keeps consuming; the new owner re-reads from the last commit; the archive (an
 * idempotent store like io/archive-writer.ts: offsets below its stored position are dropped)
 * holds every offset once.
 */
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { topicNames } from '../../../../schemas/index.ts'
import { defineProcessor } from '../../../../processors/runtime/define-processor.ts'
import { createRunnerRegistry } from '../../../../processors/runtime/ops/metrics.ts'
import { createRunner, type Runner } from '../../../../processors/runtime/runner.ts'
import { emit } from '../../../../processors/runtime/outcome.ts'
import { createBufferedSink, type FlushRequest } from '../../../../processors/runtime/sinks/buffered-sink.ts'
import { MemoryDriver, jsonSerde, type MemoryConsumer } from '../../../helpers/memory-driver.ts'
import { waitUntil } from '../../../helpers/wait-until.ts'

const IN = topicNames('').agentEvents
type Msg = { n: number }
const input = { topic: 'agentEvents' as const, schema: 'agent-event' as const, decode: (v: unknown) => v as Msg }

const runners: Runner[] = []
afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop()))
})

/** An idempotent archive shared by the instances (a bucket + manifest): rows by offset, next offset per partition. */
function archive() {
  const rows: Array<{ partition: number; offset: string; n: number }> = []
  const next = new Map<number, bigint>()
  return {
    rows,
    write(r: FlushRequest<Msg>) {
      const from = next.get(r.partition) ?? 0n
      const fresh = r.records.filter((x) => BigInt(x.offset) >= from)
      rows.push(...fresh.map((x) => ({ partition: r.partition, offset: x.offset, n: x.value.n })))
      if (fresh.length > 0) next.set(r.partition, BigInt(fresh.at(-1)!.offset) + 1n)
    },
  }
}

/** A flush that waits for the test to settle it (resolve or reject), one gate per call. */
function gatedFlush(store: ReturnType<typeof archive>) {
  const gates: Array<{ request: FlushRequest<Msg>; settle: (err?: Error) => void; settled: Promise<void> }> = []
  const flush = (request: FlushRequest<Msg>) => {
    let settle!: (err?: Error) => void
    const settled = new Promise<void>((resolve, reject) => {
      settle = (err) => (err ? reject(err) : (store.write(request), resolve()))
    })
    gates.push({ request, settle, settled: settled.catch(() => undefined) })
    return settled
  }
  return { gates, flush }
}

async function instance(driver: MemoryDriver, flush: (r: FlushRequest<Msg>) => Promise<void>): Promise<{ runner: Runner; consumer: MemoryConsumer }> {
  const sink = createBufferedSink<Msg>({ flush, maxRecords: 3, maxBytes: 1e9, maxAgeMs: 60_000, overlap: true })
  const { registry, metrics } = createRunnerRegistry()
  const runner = createRunner(defineProcessor<Msg, Msg>({ name: 'archival', inputs: [input], sink, transform: (m) => emit({ key: 'k', value: m }) }), {
    driver, serde: jsonSerde(), log: pino({ level: 'silent' }), registry, metrics, topicPrefix: '', groupIdPrefix: 'g.', fromBeginning: true,
  })
  runners.push(runner)
  await runner.start()
  return { runner, consumer: driver.consumers[driver.consumers.length - 1]! }
}

function put(driver: MemoryDriver, from: number, to: number): void {
  for (let n = from; n < to; n++) driver.append(IN, 0, Buffer.from(JSON.stringify({ n })), { key: 'k' })
}

const offsetsOf = (rows: Array<{ offset: string }>) => rows.map((r) => Number(r.offset))

describe('buffered sink: a partition revoked while its flush runs', () => {
  for (const outcome of ['fails', 'succeeds'] as const) {
    it(`the flush ${outcome} after the revocation: the old owner stays ready and consuming, the new owner archives every record once`, async () => {
      const driver = new MemoryDriver({ [IN]: 1 })
      const store = archive()
      const a = gatedFlush(store)
      const b = gatedFlush(store)
      const A = await instance(driver, a.flush)
      const B = await instance(driver, b.flush)
      driver.rebalance(new Map([[A.consumer, { [IN]: [0] }], [B.consumer, {}]]))
      expect(A.runner.health.ready().ready).toBe(true)

      put(driver, 0, 4)
      await A.consumer.deliver() // 4 records ≥ 3: flush of [0, 4) starts in the background
      await waitUntil("A's flush to start", () => a.gates.length === 1)
      expect(a.gates[0]!.request.records.map((r) => r.value.n)).toEqual([0, 1, 2, 3])

      driver.rebalance(new Map([[A.consumer, {}], [B.consumer, { [IN]: [0] }]])) // revoked while the flush runs
      a.gates[0]!.settle(outcome === 'fails' ? new Error('store down') : undefined)
      await a.gates[0]!.settled
      expect(driver.committed.get(`${IN}/0`)).toBeUndefined() // the old owner commits nothing for a partition it lost

      // The new owner re-reads from the last commit (none: offset 0) and archives.
      put(driver, 4, 6)
      await B.consumer.deliver()
      await waitUntil("B's flush to start", () => b.gates.length === 1)
      expect(b.gates[0]!.request.records.map((r) => r.value.n)).toEqual([0, 1, 2, 3, 4, 5])
      b.gates[0]!.settle()
      await waitUntil("B's commit", () => driver.committed.get(`${IN}/0`) === 6n)
      expect(offsetsOf(store.rows)).toEqual([0, 1, 2, 3, 4, 5]) // each offset once, none missing
      expect(B.runner.health.ready()).toMatchObject({ ready: true })

      // The old owner is ready, and takes the partition back and archives past a sentinel.
      expect(A.runner.health.ready()).toEqual({ ready: true, detail: expect.not.objectContaining({ reason: expect.anything() }) as unknown })
      driver.rebalance(new Map([[A.consumer, { [IN]: [0] }], [B.consumer, {}]]))
      put(driver, 6, 9) // 8: the sentinel
      await A.consumer.deliver()
      await waitUntil("A's second flush to start", () => a.gates.length === 2)
      expect(a.gates[1]!.request.records.map((r) => r.value.n)).toEqual([6, 7, 8])
      a.gates[1]!.settle()
      await waitUntil("A's commit past the sentinel", () => driver.committed.get(`${IN}/0`) === 9n)
      expect(offsetsOf(store.rows)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8])
      expect(A.runner.health.ready().ready).toBe(true)
      expect(A.consumer.errors).toEqual([])
      expect(B.consumer.errors).toEqual([])
    })
  }

  it('the partition comes back to the same instance and the old flush then fails: the re-read archives every record once, not twice', async () => {
    const driver = new MemoryDriver({ [IN]: 1 })
    const store = archive()
    const a = gatedFlush(store)
    const A = await instance(driver, a.flush)
    driver.rebalance(new Map([[A.consumer, { [IN]: [0] }]]))
    put(driver, 0, 4)
    await A.consumer.deliver()
    await waitUntil('the first flush to start', () => a.gates.length === 1)

    driver.rebalance(new Map([[A.consumer, { [IN]: [0] }]])) // a rebalance that gives the partition back
    const rereading = A.consumer.deliver() // re-read from the last commit (0) while the old flush still runs
    a.gates[0]!.settle(new Error('store down')) // the old generation's flush fails
    await a.gates[0]!.settled
    await rereading
    await waitUntil('the re-read flush to start', () => a.gates.length === 2)
    expect(a.gates[1]!.request.records.map((r) => r.offset)).toEqual(['0', '1', '2', '3']) // no offset twice in one flush
    a.gates[1]!.settle()
    await waitUntil('the commit', () => driver.committed.get(`${IN}/0`) === 4n)
    put(driver, 4, 7) // sentinel 6
    await A.consumer.deliver()
    await waitUntil('the sentinel flush to start', () => a.gates.length === 3)
    a.gates[2]!.settle()
    await waitUntil('the commit past the sentinel', () => driver.committed.get(`${IN}/0`) === 7n)
    expect(offsetsOf(store.rows)).toEqual([0, 1, 2, 3, 4, 5, 6])
    expect(A.runner.health.ready().ready).toBe(true)
  })
})

describe('buffered sink: dead letters of a batch whose flush fails', () => {
  it('are produced once, when a flush covering them succeeds, and before the commit past them', async () => {
    const driver = new MemoryDriver({ [IN]: 1 })
    const store = archive()
    const gate = gatedFlush(store)
    const A = await instance(driver, gate.flush)
    driver.rebalance(new Map([[A.consumer, { [IN]: [0] }]]))
    const dlq = topicNames('').deadLetter
    put(driver, 0, 1)
    driver.append(IN, 0, Buffer.from('not json: a poison record'), { key: 'poison' }) // offset 1
    put(driver, 2, 4)
    // Three attempts fail (a database outage): each re-read handles the poison again.
    for (let attempt = 0; attempt < 3; attempt++) {
      await A.consumer.deliver()
      await waitUntil(`flush attempt ${attempt + 1}`, () => gate.gates.length === attempt + 1)
      gate.gates[attempt]!.settle(new Error('database down'))
      await gate.gates[attempt]!.settled
      await waitUntil('the re-read from the last commit', () => A.consumer.positions.get(`${IN}/0`) === 0n)
      expect(driver.all(dlq), `dead letters after failed attempt ${attempt + 1}`).toHaveLength(0)
    }
    // The fourth succeeds: the poison is dead-lettered once, before the commit passes it.
    let dlqAtCommit = -1
    const commit = A.consumer.commit.bind(A.consumer)
    A.consumer.commit = async (topic, partition, next) => {
      dlqAtCommit = driver.all(dlq).length
      return commit(topic, partition, next)
    }
    await A.consumer.deliver()
    await waitUntil('flush attempt 4', () => gate.gates.length === 4)
    gate.gates[3]!.settle()
    await waitUntil('the commit past the poison', () => driver.committed.get(`${IN}/0`) === 4n)
    expect(dlqAtCommit).toBe(1)
    expect(driver.all(dlq)).toHaveLength(1)
    expect(driver.all(dlq)[0]!.headers).toMatchObject({ 'auren.dlq.source.offset': '1' })
    expect(offsetsOf(store.rows)).toEqual([0, 2, 3])
  })
})
