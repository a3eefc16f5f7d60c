/**
 * The one module that imports the Kafka client library (kafkajs). Everything else in the
 * project speaks to Kafka through the small interfaces below, so another driver (for example
 * node-rdkafka) can be added by implementing them here.
 */
import { Kafka, logLevel as KafkaLogLevel, type Consumer, type Producer, type IHeaders, type LogEntry, type Message, type Transaction } from 'kafkajs'
import type { Logger } from 'pino'
import { Murmur2Partitioner } from './murmur2-partitioner.ts'
import { createEpisodeLog, type EpisodeLog } from '../ops/episode-log.ts'

/** A consumed record; headers are decoded to UTF-8 strings. `offset` is Kafka's decimal string. */
export interface ConsumedRecord {
  readonly topic: string
  readonly partition: number
  readonly offset: string
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers: Readonly<Record<string, string>>
  /** Record timestamp (producer create time), epoch ms. */
  readonly timestampMs: number
}

/** A record to produce. Without `partition`, the Java-compatible murmur2 partitioner hashes the key. */
export interface ProduceRecord {
  readonly topic: string
  readonly key: string | Buffer | null
  readonly value: Buffer | null
  readonly headers?: Readonly<Record<string, string>>
  readonly partition?: number
}

/** Consumed records of one partition, in offset order. */
export interface ConsumedBatch {
  readonly topic: string
  readonly partition: number
  /** Offset of the next record the broker will write (log end offset), as a decimal string. */
  readonly highWatermark: string
  /**
   * Offset of the last record of the fetched range, counting records not handed out
   * (transaction markers, aborted records): after processing every record, the position is
   * lastOffset + 1.
   */
  readonly lastOffset: string
  readonly records: readonly ConsumedRecord[]
}

/** What a batch handler may do besides reading the batch. */
export interface BatchControl {
  /** False once stop() was called: finish or abandon the batch. */
  isRunning(): boolean
  /** True when a rebalance revoked this partition: abandon the batch without committing. */
  isStale(): boolean
  heartbeat(): Promise<void>
  /** Commits `nextOffset` (last processed offset + 1) for this batch's partition, synchronously with the broker. */
  commit(nextOffset: string): Promise<void>
  /** Advances the consumer's position to `nextOffset` without committing (the offset was committed in a transaction). */
  resolve(nextOffset: string): void
  /** Moves this partition's next fetch to `offset` (abandon the batch after calling it). */
  seek(offset: string): void
}

/** A consumer offset to commit: the next offset to read of one partition, for one group. */
export interface OffsetCommit {
  readonly groupId: string
  readonly topic: string
  readonly partition: number
  readonly offset: string
}

/** Consumer group membership changes the runner reports. */
export type GroupEvent =
  | { type: 'joined'; assignment: Record<string, number[]> }
  | { type: 'rebalancing' }
  | { type: 'crashed'; error: Error; restarting: boolean }
  | { type: 'stopped' }

/** A consumer in a consumer group that hands whole partition batches to one handler. */
export interface BatchConsumer {
  /**
   * Joins the group and hands every fetched batch to onBatch. Without `autoResolve`, the
   * consumer's position advances only through `control.commit` (the runner's commit-after-ack);
   * with it, the position advances past each batch onBatch returns from (readers that commit nothing).
   */
  run(opts: {
    topics: readonly string[]
    fromBeginning: boolean
    autoResolve?: boolean
    onBatch: (batch: ConsumedBatch, control: BatchControl) => Promise<void>
    /**
     * Called when the consumer moved past records it does not hand out (transaction commit or
     * abort markers, records of aborted transactions): `nextOffset` is the new position; `commit`
     * commits it for the group (committed offsets then reach the log end offset).
     */
    onSkipped?: (skip: { topic: string; partition: number; nextOffset: string; highWatermark: string }, commit: (nextOffset: string) => Promise<void>) => Promise<void> | void
  }): Promise<void>
  onGroupEvent(listener: (event: GroupEvent) => void): void
  /**
   * Commits `nextOffset` for a partition outside a batch handler (a buffered sink acknowledging
   * after its flush). @throws when the broker refuses it (e.g. the partition was reassigned)
   */
  commit(topic: string, partition: number, nextOffset: string): Promise<void>
  /** Moves a partition's next fetch to `offset` outside a batch handler (re-read after a failed flush). */
  seek(topic: string, partition: number, offset: string): void
  /** Stops fetching and waits for the batch in progress to finish. */
  stop(): Promise<void>
  disconnect(): Promise<void>
}

/** An idempotent producer (acks=all): `send` resolves only when every record is acknowledged. */
export interface RecordProducer {
  send(records: readonly ProduceRecord[]): Promise<void>
  /**
   * Transactional producers only: produces records and commits the consumer offset in one Kafka
   * transaction (KIP-98), so the outputs become visible to read_committed consumers if and only
   * if the offset is committed. Aborts the transaction and rethrows on any error.
   */
  sendAndCommit(records: readonly ProduceRecord[], commit: OffsetCommit): Promise<void>
  /**
   * Transactional producers: (re)connects and initializes the producer id, which the broker
   * answers only once any transaction a previous producer with this transactional id left open
   * or in doubt (commit sent, answer lost) is completed or aborted (KIP-98 InitProducerId; kafkajs
   * retries CONCURRENT_TRANSACTIONS). After it resolves, the group's committed offsets say whether
   * that transaction committed. No-op for idempotent producers.
   * @throws the broker error when the coordinator cannot be reached (retriable)
   */
  settle(): Promise<void>
  readonly transactional: boolean
  disconnect(): Promise<void>
}

/** Topic administration used by tooling and tests. */
export interface TopicAdmin {
  /** Creates missing topics; existing ones are left as they are. */
  ensureTopics(specs: readonly { topic: string; partitions: number; config?: Record<string, string> }[]): Promise<void>
  deleteTopics(topics: readonly string[]): Promise<void>
  /** Log end offset per partition. */
  endOffsets(topic: string): Promise<Map<number, string>>
  /** Log start (`low`) and end (`high`) offset per partition, decimal strings. */
  offsetRanges(topic: string): Promise<Map<number, { low: string; high: string }>>
  /** Committed offset per partition of a group (-1 when none). */
  committedOffsets(groupId: string, topic: string): Promise<Map<number, string>>
  disconnect(): Promise<void>
}

/** Factory of consumers, producers and admins bound to one cluster. */
export interface KafkaDriver {
  consumer(opts: { groupId: string; maxBytesPerPartition?: number }): BatchConsumer
  /**
   * Connects an idempotent producer; with `transactionalId`, a transactional one (the id must be
   * unique per instance and stable across its restarts, so a restarted instance fences its
   * predecessor and aborts its open transaction at once).
   */
  producer(opts?: { transactionalId?: string }): Promise<RecordProducer>
  admin(): Promise<TopicAdmin>
}

function headerStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined) continue
    const first = Array.isArray(v) ? v[0] : v
    if (first !== undefined) out[k] = first.toString()
  }
  return out
}

/**
 * kafkajs's own warning when an idempotent producer has a finite retry count. The runner's
 * guarantees do not rest on endless producer retries (README "Delivery guarantees"): a send that
 * fails after its retries fails the batch, which is delivered again from the committed offset
 * (at-least-once, duplicates dropped by event_id downstream) or whose transaction is aborted
 * (exactly-once). So the line is kept at debug level instead of warning at every start.
 */
const EOS_RETRY_WARNING = 'Limiting retries for the idempotent producer may invalidate EoS guarantees'

function kafkaLogCreator(log: Logger, transient: EpisodeLog) {
  return () =>
    ({ level, log: entry }: LogEntry) => {
      const { message, ...extra } = entry
      const child = { kafkajs: extra }
      // kafkajs logs every failed attempt of a retried request at error level (connection
      // refused, "The coordinator is loading", consumer restarts): one warning per episode.
      if (level <= KafkaLogLevel.ERROR) transient.occurred(child, message)
      else if (level === KafkaLogLevel.WARN && message !== EOS_RETRY_WARNING) log.warn(child, message)
      else log.debug(child, message)
    }
}

/**
 * Group timing of every consumer. A SIGKILLed member holds its partitions until its session
 * times out (10 s; kept above the broker's 6 s minimum with room for a slow batch on a busy
 * machine, since kafkajs heartbeats only between batches and every 500 records of a batch in the runner).
 * kafkajs also learns of a rebalance only at a heartbeat, and an idle fetch waits up to
 * `maxWaitTimeInMs` first (5 s by default): 1 s lets a member that has nothing to read rejoin
 * within about a second when a replacement joins.
 */
const CONSUMER_TIMING = { sessionTimeout: 10_000, heartbeatInterval: 1_000, maxWaitTimeInMs: 1_000 } as const

/** kafkajs implementation of KafkaDriver. */
export function createKafkaDriver(opts: { brokers: readonly string[]; clientId: string; log: Logger }): KafkaDriver {
  const kafkaLog = opts.log.child({ component: 'kafkajs' })
  const kafka = new Kafka({
    clientId: opts.clientId,
    brokers: [...opts.brokers],
    logLevel: KafkaLogLevel.WARN,
    logCreator: kafkaLogCreator(kafkaLog, createEpisodeLog(kafkaLog, 'transient Kafka client errors (retried)')),
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5_000 },
  })
  return {
    consumer: (c) => wrapConsumer(kafka.consumer({ groupId: c.groupId, maxBytesPerPartition: c.maxBytesPerPartition ?? 1_048_576, ...CONSUMER_TIMING })),
    producer: async (p) => wrapProducer(() => connectProducer(kafka, p?.transactionalId), await connectProducer(kafka, p?.transactionalId), p?.transactionalId !== undefined),
    admin: async () => {
      const admin = kafka.admin()
      await admin.connect()
      return {
        ensureTopics: async (specs) => {
          const existing = new Set(await admin.listTopics())
          const missing = specs.filter((s) => !existing.has(s.topic))
          if (missing.length === 0) return
          await admin.createTopics({
            waitForLeaders: true,
            topics: missing.map((s) => ({
              topic: s.topic,
              numPartitions: s.partitions,
              replicationFactor: 1,
              configEntries: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value })),
            })),
          })
        },
        deleteTopics: async (topics) => {
          await admin.deleteTopics({ topics: [...topics] })
        },
        endOffsets: async (topic) => new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, p.high])),
        offsetRanges: async (topic) => new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, { low: p.low, high: p.high }])),
        committedOffsets: async (groupId, topic) => {
          const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] })
          return new Map((entry?.partitions ?? []).map((p) => [p.partition, p.offset]))
        },
        disconnect: () => admin.disconnect(),
      }
    },
  }
}

async function connectProducer(kafka: Kafka, transactionalId: string | undefined): Promise<Producer> {
  // Idempotent producer: the broker drops retried duplicates, so a retry after a lost ack
  // does not write a record twice (KIP-98). kafkajs requires acks=-1 and one in-flight request.
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    // Same partitions as kafkajs's DefaultPartitioner and Kafka's Java producer, in 32-bit
    // arithmetic instead of kafkajs's emulated 64-bit Long (murmur2-partitioner.ts).
    createPartitioner: Murmur2Partitioner,
    ...(transactionalId ? { transactionalId, transactionTimeout: 30_000 } : {}),
  })
  await producer.connect()
  return producer
}

/**
 * Most bytes of records sent in one produce request. All outputs of a batch may go to one
 * partition (same keys), and the broker refuses a record batch over `message.max.bytes`
 * (1 MiB by default), so sends are split well below it.
 */
export const MAX_REQUEST_BYTES = 512 * 1024

/**
 * Most records sent in one produce request. kafkajs groups a send's records by partition by
 * copying the partition's array once per record (producer/groupMessagesPerPartition.js), so that
 * step costs O(k²) for k records of one partition, and all outputs of a batch usually go to one
 * partition. Against the local broker, sending 2 778 enriched records (~310 B) took ~29 ms in 2
 * requests of 512 KiB, ~25 ms in 8 requests of ~350 records, ~28 ms in 16 (test/bench: the
 * extra round trips start to cost more than the copies save).
 */
export const MAX_REQUEST_RECORDS = 400

function recordBytes(r: ProduceRecord): number {
  let n = (r.value?.length ?? 0) + (r.key ? (typeof r.key === 'string' ? Buffer.byteLength(r.key) : r.key.length) : 0) + 16
  if (r.headers) for (const [k, v] of Object.entries(r.headers)) n += k.length + Buffer.byteLength(v)
  return n
}

/**
 * Splits records, in order, into chunks of at most MAX_REQUEST_BYTES (a larger record alone) and
 * at most MAX_REQUEST_RECORDS records.
 */
export function chunkBySize(records: readonly ProduceRecord[], maxBytes = MAX_REQUEST_BYTES, maxRecords = MAX_REQUEST_RECORDS): ProduceRecord[][] {
  const chunks: ProduceRecord[][] = []
  let current: ProduceRecord[] = []
  let bytes = 0
  for (const r of records) {
    const size = recordBytes(r)
    if (current.length > 0 && (bytes + size > maxBytes || current.length >= maxRecords)) {
      chunks.push(current)
      current = []
      bytes = 0
    }
    current.push(r)
    bytes += size
  }
  if (current.length > 0) chunks.push(current)
  return chunks
}

function topicMessages(records: readonly ProduceRecord[]) {
  const byTopic = new Map<string, ProduceRecord[]>()
  for (const r of records) {
    const list = byTopic.get(r.topic)
    if (list) list.push(r)
    else byTopic.set(r.topic, [r])
  }
  return [...byTopic].map(([topic, list]) => ({
    topic,
    messages: list.map((r) => {
      const message: Message = { key: r.key, value: r.value }
      if (r.headers) message.headers = { ...r.headers }
      if (r.partition !== undefined) message.partition = r.partition
      return message
    }),
  }))
}

/**
 * A RecordProducer over a kafkajs producer that is replaced after any failed send or
 * transaction: a transactional producer whose transaction failed may be left in state ABORTING
 * (kafkajs then refuses `beginTransaction`), and an idempotent one that gave up retrying may
 * hold stale sequence numbers. The replacement connects on the next call (so during a broker
 * outage each retried batch tries once), and with the same transactional id it fences the old
 * producer and the broker aborts its open transaction (KIP-98).
 */
function wrapProducer(connect: () => Promise<Producer>, first: Producer, transactional: boolean): RecordProducer {
  let producer: Producer | undefined = first
  let closed = false
  const current = async (): Promise<Producer> => {
    if (closed) throw new Error('producer disconnected')
    producer ??= await connect()
    return producer
  }
  const discard = (p: Producer) => {
    if (producer === p) producer = undefined
    void p.disconnect().catch(() => undefined)
  }
  return {
    transactional,
    send: async (records) => {
      const p = await current()
      try {
        for (const chunk of chunkBySize(records)) await p.sendBatch({ acks: -1, topicMessages: topicMessages(chunk) })
      } catch (err) {
        discard(p)
        throw err
      }
    },
    sendAndCommit: async (records, commit) => {
      if (!transactional) throw new Error('sendAndCommit needs a transactional producer')
      const p = await current()
      let tx: Transaction | undefined
      try {
        tx = await p.transaction()
        for (const chunk of chunkBySize(records)) await tx.sendBatch({ acks: -1, topicMessages: topicMessages(chunk) })
        await tx.sendOffsets({ consumerGroupId: commit.groupId, topics: [{ topic: commit.topic, partitions: [{ partition: commit.partition, offset: commit.offset }] }] })
        await tx.commit()
      } catch (err) {
        await tx?.abort().catch(() => undefined)
        discard(p)
        throw err
      }
    },
    settle: async () => {
      if (!transactional) return
      const p = await current()
      try {
        await (await p.transaction()).abort() // nothing added: inits the producer id, sends no EndTxn
      } catch (err) {
        discard(p)
        throw err
      }
    },
    disconnect: async () => {
      closed = true
      const p = producer
      producer = undefined
      await p?.disconnect()
    },
  }
}

function wrapConsumer(consumer: Consumer): BatchConsumer {
  const listeners: Array<(e: GroupEvent) => void> = []
  const emit = (e: GroupEvent) => listeners.forEach((l) => l(e))
  consumer.on(consumer.events.GROUP_JOIN, (e) => emit({ type: 'joined', assignment: e.payload.memberAssignment }))
  consumer.on(consumer.events.REBALANCING, () => emit({ type: 'rebalancing' }))
  consumer.on(consumer.events.CRASH, (e) => emit({ type: 'crashed', error: e.payload.error, restarting: e.payload.restart }))
  consumer.on(consumer.events.STOP, () => emit({ type: 'stopped' }))
  return {
    onGroupEvent: (l) => void listeners.push(l),
    run: async ({ topics, fromBeginning, autoResolve, onBatch, onSkipped }) => {
      if (onSkipped) {
        // kafkajs resolves batches that held only control or aborted records itself and reports
        // them through this instrumentation event with batchSize 0 (kafkajs runner.js, #1256).
        consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
          const { topic, partition, batchSize, lastOffset, highWatermark } = e.payload
          if (batchSize !== 0) return
          const nextOffset = (BigInt(lastOffset) + 1n).toString()
          const commit = (offset: string) => consumer.commitOffsets([{ topic, partition, offset }])
          void Promise.resolve(onSkipped({ topic, partition, nextOffset, highWatermark: String(highWatermark) }, commit)).catch(() => undefined)
        })
      }
      await consumer.connect()
      await consumer.subscribe({ topics: [...topics], fromBeginning })
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary: _unused }) => {
          const records: ConsumedRecord[] = batch.messages.map((m) => ({
            topic: batch.topic,
            partition: batch.partition,
            offset: m.offset,
            key: m.key,
            value: m.value,
            headers: headerStrings(m.headers),
            timestampMs: Number(m.timestamp),
          }))
          await onBatch(
            { topic: batch.topic, partition: batch.partition, highWatermark: batch.highWatermark, lastOffset: batch.lastOffset(), records },
            {
              isRunning,
              isStale,
              heartbeat,
              commit: async (nextOffset) => {
                resolveOffset((BigInt(nextOffset) - 1n).toString())
                await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: nextOffset }])
              },
              resolve: (nextOffset) => resolveOffset((BigInt(nextOffset) - 1n).toString()),
              seek: (offset) => consumer.seek({ topic: batch.topic, partition: batch.partition, offset }),
            },
          )
          if (autoResolve && !isStale()) resolveOffset(batch.lastOffset())
        },
      })
    },
    commit: (topic, partition, offset) => consumer.commitOffsets([{ topic, partition, offset }]),
    seek: (topic, partition, offset) => consumer.seek({ topic, partition, offset }),
    stop: () => consumer.stop(),
    disconnect: () => consumer.disconnect(),
  }
}
