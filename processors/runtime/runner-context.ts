/**
 * What every part of the runner shares: the app's dependencies, the processor's names and sink,
 * the book of assigned partitions (partition-slot.ts), and the few values that change while it
 * runs (stopping, group membership, the current consumer). The parts are:
 * `batch-loop.ts` (fetched batches, retries), `record-handler.ts` (decode, transform, the DLQ
 * path), `acknowledgement.ts` (hand to the sink, commit acknowledged positions),
 * `punctuation.ts` (timers), `assignment.ts` (rebalances, stored offset and state restore),
 * `consumer-supervisor.ts` (the consumer, its crashes and restarts); `runner.ts` composes them.
 */
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { topicNames, type TopicNames } from '../../schemas/index.ts'
import type { InputSpec, ProcessorDefinition } from './define-processor.ts'
import type { PartitionRef } from './context.ts'
import type { BatchConsumer, KafkaDriver, RecordProducer, TopicAdmin } from './kafka/kafka-client.ts'
import type { Serde } from './kafka/serde.ts'
import type { RunnerMetrics } from './ops/metrics.ts'
import type { AcknowledgingSink } from './sinks/sink.ts'
import { createKafkaTopicSink } from './sinks/kafka-topic-sink.ts'
import { changelogTopic } from './partition-state.ts'
import { PartitionSlot } from './partition-slot.ts'
import { isAurenError } from './ops/errors.ts'
import type { LagMonitor } from './lag-monitor.ts'

/** What the runner needs; the app builds these (STYLE.md principle 5). */
export interface RunnerDeps {
  readonly driver: KafkaDriver
  readonly serde: Serde
  readonly log: Logger
  readonly registry: Registry
  readonly metrics: RunnerMetrics
  readonly topicPrefix: string
  readonly groupIdPrefix: string
  readonly fromBeginning: boolean
  readonly maxBatchBytes?: number
  /** Delivery mode of the default Kafka topic sink (a definition with `output` and no `sink`). */
  readonly delivery?: 'at-least-once' | 'exactly-once'
  /** Transactional id of this instance for exactly-once: unique per instance, stable across its restarts. */
  readonly transactionalId?: string
  /** Punctuation tick when the definition gives none, ms. Default 1000. */
  readonly punctuationIntervalMs?: number
  /** How long stop() lets the batch in progress finish before disconnecting anyway, ms. Default 10 000. */
  readonly shutdownGraceMs?: number
  /** Clock, epoch ms. */
  readonly now?: () => number
  /** Period of the auren_consumer_lag_records update of every assigned partition, ms. Default 5 000. */
  readonly lagIntervalMs?: number
  /**
   * How long the consumer may stay out of its group after a crash (broker unreachable) before
   * onFatal is called, ms; 0 or absent: never (the runner restarts the consumer until it joins).
   */
  readonly giveUpMs?: number
  /**
   * Called when the runner gives up (a non-retriable processing error, or the broker unreachable
   * for longer than giveUpMs); the app exits non-zero. Not called after stop() began.
   */
  readonly onFatal?: (err: Error) => void
}

/** Values that change while the runner runs, read and written by its parts. */
export interface RunnerLive {
  /** stop() began: no more fetches, ticks or retries. */
  stopping: boolean
  /** The consumer is in its group (joined, not rebalancing or crashed). */
  joined: boolean
  /** Assignment generation: incremented on every join and rebalance; slots of older ones are stale. */
  generation: number
  /** Input partitions assigned to this instance, per full topic name. */
  assignment: Record<string, number[]>
  consumer: BatchConsumer | undefined
  /** Producer of dead letters and changelog records for sinks that do not take them. */
  producer: RecordProducer | undefined
  /** A background sink failure not yet recovered from (not ready meanwhile). */
  sinkFailure: Error | undefined
  /** Since when the consumer is out of its group after a crash (epoch ms), with the cause. */
  outage: { since: number; reason: string } | undefined
}

/** The runner's shared parts (module doc). */
export interface RunnerContext<In, Out, S> {
  readonly def: ProcessorDefinition<In, Out, S>
  readonly deps: RunnerDeps
  readonly now: () => number
  readonly topics: TopicNames
  /** Input specs per full topic name. */
  readonly inputs: ReadonlyMap<string, InputSpec<In>>
  readonly groupId: string
  readonly processor: string
  /** Logger bound to the processor. */
  readonly log: Logger
  readonly m: RunnerMetrics
  readonly sink: AcknowledgingSink<Out>
  /** Compacted changelog topic of the state, for sinks that do not store state. */
  readonly stateTopic: string
  /** Assigned partitions by {@link slotKey}. */
  readonly slots: Map<string, PartitionSlot<S>>
  /** Lag monitor per full input topic name. */
  readonly lagMonitors: Map<string, LagMonitor>
  readonly live: RunnerLive
  /** The runner's one admin client (offset ranges, the group's committed offsets). */
  readonly admin: SharedAdmin
  /** Child logger bound to one input partition (cached). */
  partitionLog(topic: string, partition: number): Logger
  /** The slot of an input partition in the current generation, created when missing or stale. */
  slotOf(topic: string, partition: number): PartitionSlot<S>
  /**
   * Records left to read on an input partition (log end minus the next offset; negative counts
   * as 0), as a batch or a batch of transaction markers left it: kept with its slot (the
   * `lagRecords` punctuation reads) and set on its lag gauge; ignored for a partition not
   * assigned any more. (The lag monitor's own readings go to both the same way.)
   */
  noteLag(topic: string, partition: number, left: bigint): void
}

/** An admin client connected on first use and replaced after a failed call. */
export interface SharedAdmin {
  /** Runs `work` with the client. @throws what `work` throws (the client is then dropped; the next call connects anew) */
  use<T>(work: (admin: TopicAdmin) => Promise<T>): Promise<T>
  /** The group's committed next offsets of `topic`, by partition (negative or absent: none). @throws the client's error */
  committedOffsets(groupId: string, topic: string): Promise<Map<number, string>>
  /** Disconnects the client, if connected. */
  close(): Promise<void>
}

/** Creates a {@link SharedAdmin} over `driver`. */
export function createSharedAdmin(driver: KafkaDriver): SharedAdmin {
  let admin: TopicAdmin | undefined
  const use = async <T>(work: (a: TopicAdmin) => Promise<T>): Promise<T> => {
    const a = (admin ??= await driver.admin())
    try {
      return await work(a)
    } catch (err) {
      if (admin === a) admin = undefined
      void a.disconnect().catch(() => undefined)
      throw err
    }
  }
  return {
    use,
    committedOffsets: (groupId, topic) => use((a) => a.committedOffsets(groupId, topic)),
    async close() {
      const a = admin
      admin = undefined
      await a?.disconnect()
    },
  }
}

/** Key of a partition in {@link RunnerContext.slots}. */
export const slotKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * True for a batch failure worth retrying: an AurenError marked retriable (sink or registry
 * unreachable, SQLSTATE classes 08/40/53/57, connection errors) or any Kafka client error (the
 * producer is replaced after a failed send or transaction, and a rebalance surfaces through the
 * heartbeat before the retry).
 */
export function isRetriableBatchError(err: unknown): boolean {
  if (isAurenError(err)) return err.retriable
  return typeof (err as Error | undefined)?.name === 'string' && (err as Error).name.startsWith('KafkaJS')
}

/**
 * Builds the shared parts of the runner of one definition; the sink is the definition's, else
 * the Kafka topic sink of its `output` in the configured delivery mode.
 * @throws Error when exactly-once delivery is asked without a transactional id (kafka-topic-sink.ts)
 */
export function createRunnerContext<In, Out, S>(def: ProcessorDefinition<In, Out, S>, deps: RunnerDeps): RunnerContext<In, Out, S> {
  const topics = topicNames(deps.topicPrefix)
  const inputs = new Map<string, InputSpec<In>>(def.inputs.map((i) => [topics[i.topic], i]))
  const groupId = `${deps.groupIdPrefix}${def.name}`
  const log = deps.log.child({ processor: def.name })
  const live: RunnerLive = {
    stopping: false, joined: false, generation: 0, assignment: {},
    consumer: undefined, producer: undefined, sinkFailure: undefined, outage: undefined,
  }
  const slots = new Map<string, PartitionSlot<S>>()
  const partitionLogs = new Map<string, Logger>()
  const lagMonitors = new Map<string, LagMonitor>()
  const slotOf = (topic: string, partition: number): PartitionSlot<S> => {
    const k = slotKey(topic, partition)
    let slot = slots.get(k)
    if (!slot || slot.generation !== live.generation) {
      const ref: PartitionRef = { input: inputs.get(topic)!.topic, topic, partition }
      slots.set(k, (slot = new PartitionSlot<S>(ref, live.generation, def.state)))
    }
    return slot
  }
  return {
    def,
    deps,
    now: deps.now ?? Date.now,
    topics,
    inputs,
    groupId,
    processor: def.name,
    log,
    m: deps.metrics,
    sink: def.sink ?? createKafkaTopicSink({ ...def.output!, delivery: deps.delivery, transactionalId: deps.transactionalId }),
    stateTopic: changelogTopic(deps.topicPrefix, groupId),
    slots,
    lagMonitors,
    live,
    admin: createSharedAdmin(deps.driver),
    partitionLog(topic, partition) {
      const k = slotKey(topic, partition)
      let l = partitionLogs.get(k)
      if (!l) partitionLogs.set(k, (l = log.child({ topic, partition })))
      return l
    },
    noteLag(topic, partition, left) {
      if (!live.assignment[topic]?.includes(partition)) return
      const lag = Number(left > 0n ? left : 0n)
      slotOf(topic, partition).lagRecords = lag
      lagMonitors.get(topic)?.set(partition, lag)
    },
    slotOf,
  }
}
