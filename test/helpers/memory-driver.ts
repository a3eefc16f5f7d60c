/**
 * An in-memory KafkaDriver for unit tests of the runner's decisions (no broker): topics are
 * arrays of records per partition, one consumer group's committed offsets and positions are
 * maps, and the test drives everything by hand: `deliver()` hands every assigned partition one
 * batch from its position (as a kafkajs fetch would), `rebalance()` moves partitions between
 * consumers and resets positions to the committed offsets (as a kafkajs re-join does).
 * A fake JSON serde stands in for the Schema Registry.
 */
import { AurenError } from '../../processors/runtime/ops/errors.ts'
import type { BatchConsumer, BatchControl, ConsumedBatch, ConsumedRecord, GroupEvent, KafkaDriver, ProduceRecord, RecordProducer, TopicAdmin } from '../../processors/runtime/kafka/kafka-client.ts'
import type { Serde } from '../../processors/runtime/kafka/serde.ts'

type Handler = (batch: ConsumedBatch, control: BatchControl) => Promise<void>

/** One in-memory consumer of the group. */
export class MemoryConsumer implements BatchConsumer {
  readonly listeners: Array<(e: GroupEvent) => void> = []
  handler: Handler | undefined
  topics: readonly string[] = []
  assignment: Record<string, number[]> = {}
  readonly positions = new Map<string, bigint>()
  /** Batch handler errors (kafkajs would retry the batch). */
  readonly errors: Error[] = []
  stale = false
  stopped = false
  constructor(private readonly driver: MemoryDriver) {}
  onGroupEvent(l: (e: GroupEvent) => void): void {
    this.listeners.push(l)
  }
  emit(e: GroupEvent): void {
    for (const l of this.listeners) l(e)
  }
  async run(opts: { topics: readonly string[]; onBatch: Handler }): Promise<void> {
    this.handler = opts.onBatch
    this.topics = opts.topics
    this.driver.consumers.push(this)
  }
  async commit(topic: string, partition: number, nextOffset: string): Promise<void> {
    this.driver.committed.set(`${topic}/${partition}`, BigInt(nextOffset))
  }
  seek(topic: string, partition: number, offset: string): void {
    this.positions.set(`${topic}/${partition}`, BigInt(offset))
  }
  async stop(): Promise<void> {
    this.stopped = true
  }
  async disconnect(): Promise<void> {}

  /** Hands each assigned partition one batch of up to `max` records from its position. */
  async deliver(max = 100): Promise<number> {
    let delivered = 0
    for (const [topic, partitions] of Object.entries(this.assignment)) {
      for (const partition of partitions) {
        const key = `${topic}/${partition}`
        const log = this.driver.log(topic, partition)
        const from = this.positions.get(key) ?? this.driver.committed.get(key) ?? 0n
        const records = log.filter((r) => BigInt(r.offset) >= from).slice(0, max)
        if (records.length === 0) continue
        delivered += records.length
        const control: BatchControl = {
          isRunning: () => !this.stopped,
          isStale: () => this.stale,
          heartbeat: async () => {},
          commit: async (next) => {
            this.positions.set(key, BigInt(next))
            this.driver.committed.set(key, BigInt(next))
          },
          resolve: (next) => void this.positions.set(key, BigInt(next)),
          seek: (offset) => void this.positions.set(key, BigInt(offset)),
        }
        const batch: ConsumedBatch = { topic, partition, highWatermark: String(log.length), lastOffset: records[records.length - 1]!.offset, records }
        try {
          await this.handler!(batch, control)
        } catch (err) {
          this.errors.push(err as Error)
        }
      }
    }
    return delivered
  }
}

/** The in-memory cluster (module doc). */
export class MemoryDriver implements KafkaDriver {
  readonly topics = new Map<string, ConsumedRecord[][]>()
  /** Committed next offsets of the one consumer group, by `topic/partition`. */
  readonly committed = new Map<string, bigint>()
  readonly consumers: MemoryConsumer[] = []
  /** Set to make the next produce fail (as a lost ack would). */
  failNextSend: Error | undefined
  /** Set to make the next transaction commit and then fail on the client (the commit's answer lost). */
  failAfterNextCommit: Error | undefined
  /** Calls of `settle()` on transactional producers. */
  settled = 0
  /** Transactional id of each `settle()` call, in order. */
  readonly settledIds: string[] = []
  /** Transactional ids of the producers created, in order. */
  readonly transactionalIds: string[] = []

  constructor(partitionsByTopic: Record<string, number>) {
    for (const [t, n] of Object.entries(partitionsByTopic)) this.topics.set(t, Array.from({ length: n }, () => []))
  }

  log(topic: string, partition: number): ConsumedRecord[] {
    let parts = this.topics.get(topic)
    if (!parts) this.topics.set(topic, (parts = []))
    while (parts.length <= partition) parts.push([])
    return parts[partition]!
  }

  /** Appends a record; returns its offset. */
  append(topic: string, partition: number, value: Buffer | null, opts: { key?: string; headers?: Record<string, string> } = {}): string {
    const log = this.log(topic, partition)
    const offset = String(log.length)
    log.push({ topic, partition, offset, key: opts.key === undefined ? null : Buffer.from(opts.key), value, headers: opts.headers ?? {}, timestampMs: Date.now() })
    return offset
  }

  /** Records of every partition of a topic, in partition then offset order. */
  all(topic: string): ConsumedRecord[] {
    return (this.topics.get(topic) ?? []).flat()
  }

  /** Moves partitions: every consumer gets `rebalancing`, then its new assignment (positions reset to the commits). */
  rebalance(assignments: ReadonlyMap<MemoryConsumer, Record<string, number[]>>): void {
    for (const c of this.consumers) c.emit({ type: 'rebalancing' })
    for (const c of this.consumers) {
      c.assignment = assignments.get(c) ?? {}
      c.positions.clear()
      c.emit({ type: 'joined', assignment: c.assignment })
    }
  }

  consumer(): BatchConsumer {
    return new MemoryConsumer(this)
  }

  async producer(opts?: { transactionalId?: string }): Promise<RecordProducer> {
    if (opts?.transactionalId !== undefined) this.transactionalIds.push(opts.transactionalId)
    const send = async (records: readonly ProduceRecord[]) => {
      if (this.failNextSend) {
        const err = this.failNextSend
        this.failNextSend = undefined
        throw err
      }
      for (const r of records) {
        const key = r.key === null ? undefined : r.key.toString()
        this.append(r.topic, r.partition ?? 0, r.value, { key, headers: r.headers ? { ...r.headers } : undefined })
      }
    }
    return {
      transactional: opts?.transactionalId !== undefined,
      send,
      sendAndCommit: async (records, commit) => {
        await send(records)
        this.committed.set(`${commit.topic}/${commit.partition}`, BigInt(commit.offset))
        const lost = this.failAfterNextCommit
        this.failAfterNextCommit = undefined
        if (lost) throw lost
      },
      settle: async () => {
        if (opts?.transactionalId !== undefined) {
          this.settled++
          this.settledIds.push(opts.transactionalId)
        }
      },
      disconnect: async () => {},
    }
  }

  async admin(): Promise<TopicAdmin> {
    return {
      ensureTopics: async () => {},
      deleteTopics: async () => {},
      endOffsets: async (topic) => new Map((this.topics.get(topic) ?? []).map((p, i) => [i, String(p.length)])),
      offsetRanges: async (topic) => new Map((this.topics.get(topic) ?? []).map((p, i) => [i, { low: '0', high: String(p.length) }])),
      committedOffsets: async (_g, topic) =>
        new Map((this.topics.get(topic) ?? []).map((_p, i) => [i, String(this.committed.get(`${topic}/${i}`) ?? -1n)])),
      disconnect: async () => {},
    }
  }
}

/** A JSON "wire format" serde: encode = JSON bytes, decode = JSON.parse (AUREN_ERR_DECODE on bad bytes). */
export function jsonSerde(): Serde {
  return {
    register: async () => 1,
    encode: (_id, _schema, value) => Buffer.from(JSON.stringify(value)),
    decode: async (bytes) => {
      try {
        return JSON.parse(bytes?.toString() ?? 'null') as unknown
      } catch (err) {
        throw new AurenError('AUREN_ERR_DECODE', `not JSON: ${(err as Error).message}`)
      }
    },
  }
}
