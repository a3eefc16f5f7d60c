/**
 * The runner: consume → decode → transform → sink → commit the acknowledged position, plus
 * punctuation, per-partition state and several inputs, for any ProcessorDefinition.
 *
 * Commit discipline (sinks/sink.ts): a partition batch's outputs, dead letters and state go to
 * the sink with the batch's position; the position is committed (or trusted, when the sink stores
 * it) only once the sink acknowledged it. Anything failing before that delivers the batch again
 * from the last acknowledged position, with the partition's state rolled back to its last saved
 * value. Batches and ticks of one partition run one at a time, in order.
 *
 * Positions of sinks that store offsets (`offsets: 'sink'`): on (re)assignment the runner reads
 * the stored offset; records below it are skipped (applied before); the first batch after an
 * assignment that starts past it makes the runner seek back to it, once (position.ts); any later
 * gap is a read_committed gap (transaction markers, aborted records) and is accepted.
 *
 * Faults: a batch failing with a retriable error (sink or broker unreachable) is retried with
 * backoff, its partition's state rolled back and its stored offset read again; a consumer that
 * crashed (broker unreachable) is restarted until it rejoins; the broker or registry being down
 * at start is waited out. Only a non-retriable error, or an outage longer than `giveUpMs`, ends
 * the process (onFatal). Lag is exported for every assigned partition on a timer (lag-monitor.ts).
 */
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { topicNames, type DlqReason, type TopicNames } from '../../schemas/index.ts'
import type { InputSpec, LagObservation, ProcessorDefinition } from './define-processor.ts'
import type { PartitionRef, ProcessorContext } from './context.ts'
import type { BatchControl, ConsumedBatch, ConsumedRecord, KafkaDriver, ProduceRecord, RecordProducer, BatchConsumer } from './kafka/kafka-client.ts'
import type { Serde } from './kafka/serde.ts'
import type { RunnerMetrics } from './ops/metrics.ts'
import type { HealthSource } from './ops/http.ts'
import { deadLetterRecord } from './kafka/dead-letter.ts'
import type { Outcome, OutputRecord } from './outcome.ts'
import type { AcknowledgingSink, PartitionPosition, SinkBatch, SinkRecord, WriteResult } from './sinks/sink.ts'
import { createKafkaTopicSink } from './sinks/kafka-topic-sink.ts'
import { changelogTopic } from './partition-state.ts'
import { PartitionSlot } from './partition-slot.ts'
import { AurenError, hasCode, isAurenError } from './ops/errors.ts'
import { afterCommitSafely, countProduced, observeBatch } from './runner-metrics.ts'
import { decidePosition } from './position.ts'
import { startLagMonitor, type LagMonitor, type OffsetRange } from './lag-monitor.ts'
import { createEpisodeLog } from './ops/episode-log.ts'
import type { TopicAdmin } from './kafka/kafka-client.ts'

export type { LagObservation } from './define-processor.ts'

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

/** A running processor. */
export interface Runner {
  /**
   * Registers schemas, starts the sink, joins the consumer group, starts consuming and ticking.
   * A broker, registry or sink store that does not answer is retried with backoff (not ready
   * meanwhile); resolves without running when stop() is called first.
   * @throws a non-retriable error, or the last error once `giveUpMs` passed
   */
  start(): Promise<void>
  /**
   * Stops fetching and ticking, lets the batch in progress finish and commit (within
   * shutdownGraceMs), closes the sink (a buffered sink flushes and its positions are committed),
   * then disconnects. A failing close step is logged and the others still run. Idempotent.
   */
  stop(): Promise<void>
  readonly health: HealthSource
  readonly groupId: string
  readonly topics: TopicNames
}

const HEARTBEAT_EVERY = 500
/** Backoff of a retried batch or consumer restart: 250 ms doubling to 10 s. */
const backoffMs = (attempt: number) => Math.min(10_000, 250 * 2 ** Math.min(attempt, 6))
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

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

/** Everything a batch produced before it goes to the sink. */
interface BatchWork<In, Out> {
  readonly records: SinkRecord<Out>[]
  readonly deadLetters: ProduceRecord[]
  readonly dlqReasons: DlqReason[]
  readonly lags: LagObservation[]
  readonly results: { input: In; outcome: Outcome<Out> }[]
}

/**
 * Creates the runner of one processor definition.
 * @param observe optional (else `def.observe`): event time and tier of a processed input, for auren_event_lag_seconds
 * @throws Error when exactly-once delivery is asked without a transactional id
 */
export function createRunner<In, Out, S = undefined>(
  def: ProcessorDefinition<In, Out, S>,
  deps: RunnerDeps,
  observe?: (input: In, outputs: readonly Out[]) => LagObservation | undefined,
): Runner {
  const now = deps.now ?? Date.now
  const topics = topicNames(deps.topicPrefix)
  const inputs = new Map<string, InputSpec<In>>(def.inputs.map((i) => [topics[i.topic], i]))
  const groupId = `${deps.groupIdPrefix}${def.name}`
  const processor = def.name
  const log = deps.log.child({ processor })
  const m = deps.metrics
  const observeInput = observe ?? def.observe
  const sink: AcknowledgingSink<Out> =
    def.sink ?? createKafkaTopicSink({ ...def.output!, delivery: deps.delivery, transactionalId: deps.transactionalId })
  const punctuating = def.punctuate !== undefined || def.punctuation !== undefined
  const tickMs = def.punctuation?.intervalMs ?? deps.punctuationIntervalMs ?? 1_000
  const stateTopic = changelogTopic(deps.topicPrefix, groupId)

  let producer: RecordProducer | undefined
  let consumer: BatchConsumer | undefined
  let stopping = false
  let joined = false
  let generation = 0
  let assignment: Record<string, number[]> = {}
  let stopPromise: Promise<void> | undefined
  let ticker: NodeJS.Timeout | undefined
  let sinkFailure: Error | undefined
  /** Commits of acknowledgements under way (awaited by stop()). */
  const ackCommits = new Set<Promise<void>>()
  const lagMonitors = new Map<string, LagMonitor>()
  let admin: TopicAdmin | undefined
  let sinkStarted = false
  /** Batches failing with a retriable error, retried with backoff: one warning per episode. */
  const retrying = createEpisodeLog(log, 'batch failed, retrying with backoff')
  /** Consumer crashes (broker unreachable) until the group is joined again. */
  const crashes = createEpisodeLog(log, 'consumer crashed, restarting')
  /** Since when the consumer is out of its group after a crash (epoch ms), with the cause. */
  let outage: { since: number; reason: string } | undefined
  let giveUpTimer: NodeJS.Timeout | undefined
  const slots = new Map<string, PartitionSlot<S>>()
  const slotKey = (topic: string, partition: number) => `${topic}\u0000${partition}`
  const partitionLogs = new Map<string, Logger>()
  const partitionLog = (topic: string, p: number): Logger => {
    const k = slotKey(topic, p)
    let l = partitionLogs.get(k)
    if (!l) partitionLogs.set(k, (l = log.child({ topic, partition: p })))
    return l
  }

  function slotOf(topic: string, partition: number): PartitionSlot<S> {
    const k = slotKey(topic, partition)
    let slot = slots.get(k)
    if (!slot || slot.generation !== generation) {
      const ref: PartitionRef = { input: inputs.get(topic)!.topic, topic, partition }
      slots.set(k, (slot = new PartitionSlot<S>(ref, generation, def.state)))
    }
    return slot
  }

  /** Reads the stored offset and state of a slot once per assignment. @throws on store errors (retried with the batch) */
  async function ensureLoaded(slot: PartitionSlot<S>): Promise<void> {
    if (slot.loaded) return
    const { topic, partition } = slot.ref
    if (sink.offsets === 'sink') {
      const stored = (await sink.storedOffsets!(groupId, topic, [partition])).get(partition)
      slot.stored = stored === undefined || BigInt(stored) < 0n ? undefined : BigInt(stored)
    }
    if (def.state) slot.restore(sink.storesState ? await sink.loadState!(groupId, topic, partition) : undefined)
    slot.loaded = true
  }

  function toDlq(record: ConsumedRecord, reason: DlqReason, message: string, work: BatchWork<In, Out>): void {
    work.deadLetters.push(deadLetterRecord(topics.deadLetter, record, reason, message, processor, now()))
    work.dlqReasons.push(reason)
    partitionLog(record.topic, record.partition).warn({ offset: record.offset, reason, dlqMessage: message }, 'record dead-lettered')
  }

  /** Decodes and transforms one record; throws only retriable errors. */
  async function handleRecord(record: ConsumedRecord, slot: PartitionSlot<S>, work: BatchWork<In, Out>): Promise<void> {
    const spec = inputs.get(record.topic)!
    let decoded: unknown
    try {
      decoded = await deps.serde.decode(record.value, spec.schema)
    } catch (err) {
      if (isAurenError(err) && err.retriable) throw err
      toDlq(record, hasCode(err, 'AUREN_ERR_SCHEMA_UNKNOWN') ? 'SCHEMA_UNKNOWN' : 'DESERIALIZATION_FAILED', (err as Error).message, work)
      return
    }
    let input: In
    try {
      input = spec.decode(decoded)
    } catch (err) {
      toDlq(record, 'VALIDATION_FAILED', (err as Error).message, work)
      return
    }
    const ctx: ProcessorContext<S> = {
      log: partitionLog(record.topic, record.partition),
      now,
      registry: deps.registry,
      source: { topic: record.topic, partition: record.partition, offset: record.offset },
      partition: slot.ref,
      state: slot.state,
    }
    let outcome: Outcome<Out>
    try {
      outcome = def.transform(input, ctx)
    } catch (err) {
      if (isAurenError(err) && err.retriable) throw err
      toDlq(record, 'PROCESSING_FAILED', `transform threw: ${(err as Error).message}`, work)
      return
    }
    if (outcome.kind === 'skip') {
      m.skipped.inc({ processor, reason: outcome.reason })
    } else if (outcome.kind === 'dead-letter') {
      toDlq(record, outcome.reason, outcome.message, work)
    } else if (outcome.records.length > 0) {
      const prepared: SinkRecord<Out>[] = []
      try {
        for (const r of outcome.records) prepared.push({ key: r.key, value: r.value, partition: record.partition, offset: record.offset, prepared: sink.prepare?.(r) })
      } catch (err) {
        toDlq(record, 'PROCESSING_FAILED', `output rejected by the ${sink.kind} sink: ${(err as Error).message}`, work)
        return
      }
      work.records.push(...prepared)
    }
    work.results.push({ input, outcome })
    const lag = observeInput?.(input, outcome.kind === 'emit' ? outcome.records.map((r) => r.value) : [])
    if (lag) work.lags.push(lag.fromRecordTime ? { ...lag, eventTimeMs: record.timestampMs } : lag)
  }

  /** The batch being processed, awaited by stop() (kafkajs ignores commits once its own stop() was called). */
  let inFlight: Promise<void> | undefined
  async function onBatch(batch: ConsumedBatch, control: BatchControl): Promise<void> {
    if (stopping) return // not processed, not committed: delivered again after restart
    if (!inputs.has(batch.topic)) return
    const slot = slotOf(batch.topic, batch.partition)
    const current = slot.serial(() => processWithRetry(batch, control, slot))
    inFlight = current
    try {
      await current
    } finally {
      if (inFlight === current) inFlight = undefined
    }
  }

  /**
   * Processes a batch; a retriable failure (sink or broker unreachable) is retried with backoff,
   * heartbeating between attempts, until it succeeds, the partition is revoked or the runner
   * stops (then nothing was committed and the batch is delivered again). Any other error goes
   * to the consumer, which crashes.
   */
  async function processWithRetry(batch: ConsumedBatch, control: BatchControl, slot: PartitionSlot<S>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await processBatch(batch, control, slot)
        retrying.ended()
        return
      } catch (err) {
        if (!isRetriableBatchError(err)) throw err
        retrying.occurred({ err, partition: batch.partition, topic: batch.topic }, (err as Error).message)
        slot.loaded = false // read the sink's offset and state again: another instance may have moved them
        await sleep(backoffMs(attempt))
        if (stopping || !control.isRunning() || control.isStale()) return
        await control.heartbeat() // throws when a rebalance is under way: the consumer rejoins
      }
    }
  }

  async function processBatch(batch: ConsumedBatch, control: BatchControl, slot: PartitionSlot<S>): Promise<void> {
    const started = process.hrtime.bigint()
    await ensureLoaded(slot)
    const work: BatchWork<In, Out> = { records: [], deadLetters: [], dlqReasons: [], lags: [], results: [] }
    const first = batch.records[0]?.offset
    const decision = decidePosition(slot.stored, first === undefined ? undefined : BigInt(first), slot.positioned)
    slot.positioned = true
    if (decision.action === 'seek') {
      // First batch since the assignment starts past the sink's offset: read from the sink's
      // offset once; a gap left after that is markers or aborted records (read_committed).
      partitionLog(batch.topic, batch.partition).info({ stored: decision.offset.toString(), fetched: first }, 'seeking to the offset stored in the sink')
      control.seek(decision.offset.toString())
      return
    }
    const stored = decision.skipBelow
    let lastOffset: string | undefined
    let handled = 0
    const consumedLabels = { processor, topic: batch.topic }
    try {
      for (const record of batch.records) {
        if (stopping || !control.isRunning() || control.isStale()) break
        lastOffset = record.offset
        handled++
        if (stored !== undefined && BigInt(record.offset) < stored) continue // applied by the sink before
        m.consumed.inc(consumedLabels)
        await handleRecord(record, slot, work)
        if (handled % HEARTBEAT_EVERY === 0) await control.heartbeat()
      }
      if (lastOffset === undefined || control.isStale()) {
        slot.rollback() // revoked: the new owner starts from the last acknowledged position and state
        return
      }
      slot.lastRecordAtMs = now()
      // When every record was handled, move past trailing transaction markers too.
      const nextOffset = (BigInt(handled === batch.records.length ? batch.lastOffset : lastOffset) + 1n).toString()
      const position: PartitionPosition = { groupId, topic: batch.topic, partition: batch.partition, nextOffset }
      const commitTimer = m.commitDuration.startTimer({ processor })
      const result = await hand(slot, { records: work.records, position, cause: 'records', nowMs: now(), highWatermark: batch.highWatermark }, work.deadLetters)
      slot.position = nextOffset
      const committed = () => {
        for (const reason of work.dlqReasons) m.deadLettered.inc({ processor, reason })
        afterCommitSafely(def, log, { partition: slot.ref, cause: 'records', results: work.results, punctuated: [], nowMs: now() })
      }
      if (result.kind === 'pending') {
        control.resolve(nextOffset) // fetch on; the commit waits for the sink's acknowledgement
        slot.pendingAcks.push({ nextOffset: BigInt(nextOffset), done: committed })
      } else {
        await commitAcknowledged(slot, nextOffset, control)
        countProduced(m, processor, result.produced)
        committed()
      }
      commitTimer()
      observeBatch(m, processor, work.lags, now(), started, handled)
      const lag = BigInt(batch.highWatermark) - BigInt(nextOffset)
      if (!control.isStale()) lagMonitors.get(batch.topic)?.set(batch.partition, Number(lag > 0n ? lag : 0n))
    } catch (err) {
      slot.rollback()
      throw err
    }
  }

  /** Produces what the sink does not take itself, then hands the batch to the sink. */
  async function hand(slot: PartitionSlot<S>, batch: Omit<SinkBatch<Out>, 'state' | 'deadLetters'>, deadLetters: ProduceRecord[]): Promise<WriteResult> {
    const json = slot.changedJson()
    const { topic, partition } = slot.ref
    const state = json === undefined ? undefined : { json, changelogRecord: { topic: stateTopic, key: `${topic}:${partition}`, value: Buffer.from(json) } }
    if (!sink.takesDeadLetters) {
      const early = [...deadLetters, ...(state && !sink.storesState ? [state.changelogRecord] : [])]
      if (early.length > 0) {
        await producer!.send(early) // durable before the position is
        countProduced(m, processor, new Map([[topics.deadLetter, deadLetters.length]]))
      }
    }
    const result = await sink.write({ ...batch, state, deadLetters: sink.takesDeadLetters ? deadLetters : undefined })
    slot.saved(json)
    return result
  }

  /** Acts on an acknowledged position per the sink's offset mode. */
  async function commitAcknowledged(slot: PartitionSlot<S>, nextOffset: string, control: BatchControl): Promise<void> {
    if (sink.offsets === 'in-transaction') {
      control.resolve(nextOffset)
    } else if (sink.offsets === 'sink') {
      slot.stored = BigInt(nextOffset)
      // Kafka's committed offset only shows progress to lag tools; the sink's is the truth.
      await control.commit(nextOffset).catch((err: unknown) => partitionLog(slot.ref.topic, slot.ref.partition).warn({ err }, 'offset commit to Kafka failed (sink holds the position)'))
    } else {
      await control.commit(nextOffset)
    }
  }

  /** A buffered sink's acknowledgement: commit it unless the partition moved since. */
  function onAcknowledge(position: PartitionPosition): void {
    const slot = slots.get(slotKey(position.topic, position.partition))
    if (!slot || slot.generation !== generation || !consumer) return // revoked: the new owner re-reads
    const upTo = BigInt(position.nextOffset)
    const done = slot.pendingAcks.filter((p) => p.nextOffset <= upTo)
    if (done.length === 0) return
    slot.pendingAcks.splice(0, done.length)
    const committing = consumer.commit(position.topic, position.partition, position.nextOffset).then(
      () => done.forEach((d) => d.done()),
      (err: unknown) => partitionLog(position.topic, position.partition).warn({ err }, 'commit of an acknowledged position failed; the records will be read again'),
    )
    ackCommits.add(committing)
    void committing.finally(() => ackCommits.delete(committing))
  }

  function onSinkFailure(err: Error, part?: { topic: string; partition: number }): void {
    log.error({ err, ...part }, 'sink failed in the background; re-reading from the last commit')
    const targets = part ? [slots.get(slotKey(part.topic, part.partition))] : [...slots.values()]
    for (const slot of targets) {
      if (!slot || slot.generation !== generation) continue
      slot.pendingAcks.length = 0
      slots.delete(slotKey(slot.ref.topic, slot.ref.partition)) // reload state and position
    }
    sinkFailure = err
    // Re-read from the committed offset: rejoining resets every position to the last commit.
    for (const slot of targets) if (slot) void reread(slot.ref.topic, slot.ref.partition)
  }

  async function reread(topic: string, partition: number): Promise<void> {
    try {
      const admin = await deps.driver.admin()
      try {
        const committed = (await admin.committedOffsets(groupId, topic)).get(partition)
        consumer?.seek(topic, partition, committed !== undefined && BigInt(committed) >= 0n ? committed : '0')
      } finally {
        await admin.disconnect()
      }
      sinkFailure = undefined
    } catch (err) {
      log.error({ err, topic, partition }, 're-read after a sink failure failed')
    }
  }

  /** Next offset per partition the processor holds: the sink's stored one, else the group's committed one. */
  async function heldPositions(topic: string, partitions: readonly number[]): Promise<Map<number, string | undefined>> {
    admin ??= await deps.driver.admin()
    const committed = await admin.committedOffsets(groupId, topic)
    const stored = sink.offsets === 'sink' ? await sink.storedOffsets!(groupId, topic, partitions) : new Map<number, string>()
    const out = new Map<number, string | undefined>()
    for (const p of partitions) {
      const c = committed.get(p)
      out.set(p, stored.get(p) ?? (c !== undefined && BigInt(c) >= 0n ? c : undefined))
    }
    return out
  }

  async function offsetRanges(topic: string): Promise<Map<number, OffsetRange>> {
    admin ??= await deps.driver.admin()
    try {
      return await admin.offsetRanges(topic)
    } catch (err) {
      const a = admin
      admin = undefined
      void a.disconnect().catch(() => undefined)
      throw err
    }
  }

  function onJoined(assigned: Record<string, number[]>): void {
    joined = true
    generation++ // every slot reloads its stored offset and state: another instance may have moved them
    assignment = Object.fromEntries(Object.entries(assigned).filter(([t]) => inputs.has(t)))
    for (const k of [...slots.keys()]) if (slots.get(k)!.generation !== generation) slots.delete(k)
    for (const [topic, partitions] of Object.entries(assignment)) for (const p of partitions) void slotOf(topic, p)
    if (outage) log.info({ groupId, outageMs: now() - outage.since }, 'consumer back in its group')
    outage = undefined
    crashes.ended()
    for (const l of lagMonitors.values()) l.prune() // partitions given to other members: their new owners report their lag
    m.rebalances.inc({ processor })
    log.info({ groupId, assignment }, 'joined consumer group')
  }

  function onRebalancing(): void {
    joined = false
    generation++
    // Everything not committed is read again from the last commit: a buffering sink drops it.
    const held = [...slots.values()].map((x) => ({ topic: x.ref.topic, partition: x.ref.partition }))
    slots.clear()
    void sink.revoke?.(held).catch((err: unknown) => log.warn({ err }, 'sink revoke failed'))
    log.info({ groupId }, 'rebalancing')
  }

  /** Creates the consumer, subscribes to its group events and runs it; throws when the broker is unreachable. */
  async function runConsumer(): Promise<void> {
    const c = deps.driver.consumer({ groupId, maxBytesPerPartition: deps.maxBatchBytes })
    consumer = c
    c.onGroupEvent((e) => {
      if (consumer !== c) return // an abandoned consumer
      if (e.type === 'joined') onJoined(e.assignment)
      else if (e.type === 'rebalancing') onRebalancing()
      else if (e.type === 'crashed') {
        if (stopping) {
          // kafkajs reports a crash of a join or fetch still under way when stop() disconnects
          // (its runner calls onCrash whether or not it is running). The drain already committed
          // what was processed; the rest is delivered again after restart: not a failure.
          log.warn({ err: e.error }, 'consumer crashed while stopping; shutdown goes on')
          return
        }
        joined = false
        outage ??= { since: now(), reason: e.error.message }
        outage.reason = e.error.message
        if (!e.restarting && !isRetriableBatchError(e.error)) {
          // A processing error that is not a fault of the broker or the sink: a defect to fix.
          log.fatal({ err: e.error }, 'consumer failed with a non-retriable error')
          deps.onFatal?.(e.error)
          return
        }
        crashes.occurred({ err: e.error, restarting: e.restarting }, e.error.message)
        if (!e.restarting) void restartConsumer(c)
      }
    })
    await c.run({
      topics: [...inputs.keys()],
      fromBeginning: deps.fromBeginning,
      onBatch,
      // Past transaction markers there is nothing to produce: commit (and store in the sink), so lag reaches 0.
      onSkipped: async ({ topic, partition, nextOffset }, commit) => {
        try {
          if (sink.offsets === 'sink' && inputs.has(topic)) {
            const slot = slotOf(topic, partition)
            await slot.serial(async () => {
              await sink.write({ records: [], position: { groupId, topic, partition, nextOffset }, cause: 'records', nowMs: now() })
              if (slot.stored === undefined || slot.stored < BigInt(nextOffset)) slot.stored = BigInt(nextOffset)
            })
          }
          await commit(nextOffset)
        } catch (err) {
          log.warn({ err, partition, nextOffset }, 'commit past transaction markers failed; retried with the next batch')
        }
      },
    })
  }

  /** Replaces a consumer that kafkajs does not restart, with backoff, until one runs or the runner stops. */
  async function restartConsumer(old: BatchConsumer): Promise<void> {
    await old.disconnect().catch(() => undefined)
    for (let attempt = 0; !stopping && consumer === old; attempt++) {
      await sleep(backoffMs(attempt + 2))
      if (stopping || consumer !== old) return
      try {
        await runConsumer()
        return
      } catch (err) {
        crashes.occurred({ err }, (err as Error).message)
        const failed = consumer
        if (failed && failed !== old) await failed.disconnect().catch(() => undefined)
        consumer = old // retry from the same state
      }
    }
  }

  /** One tick: punctuate every assigned partition not already waiting for a tick. */
  function tick(): void {
    if (stopping || !joined) return
    for (const [topic, partitions] of Object.entries(assignment)) {
      if (!inputs.has(topic)) continue
      for (const partition of partitions) {
        const slot = slotOf(topic, partition)
        if (slot.tickQueued) continue
        slot.tickQueued = true
        void slot
          .serial(() => punctuate(slot))
          .catch((err: unknown) => partitionLog(topic, partition).warn({ err }, 'punctuation failed; retried next tick'))
          .finally(() => (slot.tickQueued = false))
      }
    }
  }

  async function punctuate(slot: PartitionSlot<S>): Promise<void> {
    if (stopping || slot.generation !== generation) return
    await ensureLoaded(slot)
    const nowMs = now()
    const { topic, partition } = slot.ref
    let out: readonly OutputRecord<Out>[] = []
    try {
      out = def.punctuate?.(nowMs, slot.ref, { log: partitionLog(topic, partition), state: slot.state, lastRecordAtMs: slot.lastRecordAtMs }) ?? []
    } catch (err) {
      slot.rollback()
      partitionLog(topic, partition).error({ err }, 'punctuate threw; tick skipped')
      return
    }
    const nextOffset = slot.position ?? (slot.stored !== undefined ? slot.stored.toString() : '-1')
    // A transactional sink commits the position with the tick's outputs: a partition ticks once its position is known.
    if (nextOffset === '-1' && sink.offsets === 'in-transaction') return
    const offset = (BigInt(nextOffset) - 1n).toString()
    const records = out.map((r) => ({ key: r.key, value: r.value, partition, offset, prepared: sink.prepare?.(r) }))
    try {
      const result = await hand(slot, { records, position: { groupId, topic, partition, nextOffset }, cause: 'punctuation', nowMs }, [])
      const committed = () => afterCommitSafely(def, log, { partition: slot.ref, cause: 'punctuation', results: [], punctuated: out, nowMs })
      if (result.kind === 'pending') slot.pendingAcks.push({ nextOffset: BigInt(nextOffset), done: committed })
      else {
        countProduced(m, processor, result.produced)
        committed()
      }
    } catch (err) {
      slot.rollback()
      throw err
    }
  }

  return {
    groupId,
    topics,
    health: {
      healthy: () => !stopping,
      ready: () => {
        // The lag monitors read offsets every lagIntervalMs: their failure is the first sign of an
        // unreachable broker (or sink), well before the consumer exhausts its retries.
        const offsetsError = [...lagMonitors.values()].map((l) => l.lastError()).find((e) => e !== undefined)
        const ready = joined && !stopping && !retrying.active && !sinkFailure && offsetsError === undefined
        const reason = stopping
          ? 'stopping'
          : outage
            ? `consumer out of its group since ${new Date(outage.since).toISOString()} (broker unreachable?): ${outage.reason}`
            : retrying.active
              ? `batches failing and retried (${retrying.count} attempts)`
              : sinkFailure
                ? `sink failed: ${sinkFailure.message}`
                : offsetsError !== undefined
                  ? `offsets not readable (broker or sink unreachable?): ${offsetsError}`
                  : joined
                    ? undefined
                    : 'not in the consumer group yet'
        return { ready, detail: { groupId, joined, assignment, ...(reason ? { reason } : {}) } }
      },
    },
    async start() {
      if (def.state && !sink.storesState) throw new Error(`processor ${processor}: per-partition state needs a sink that stores state (sinks/postgres.ts); the ${sink.kind} sink does not`)
      // Broker, registry or sink store unreachable at start: retried with backoff (not ready
      // meanwhile) until it answers, the runner stops, or the give-up time passes.
      const startFailures = createEpisodeLog(log, 'start failed, retrying with backoff')
      const since = now()
      for (let attempt = 0; ; attempt++) {
        try {
          for (const i of def.inputs) await deps.serde.register(topics[i.topic], i.schema)
          if (!sinkStarted) {
            await sink.start({ topics, driver: deps.driver, serde: deps.serde, log, registry: deps.registry, processor, groupId, now, acknowledge: onAcknowledge, fail: onSinkFailure })
            sinkStarted = true
          }
          if (!sink.takesDeadLetters) producer ??= await deps.driver.producer()
          await runConsumer()
          outage = undefined
          startFailures.ended()
          break
        } catch (err) {
          const c = consumer
          consumer = undefined
          await c?.disconnect().catch(() => undefined)
          if (stopping) return // stop() during start: nothing to run
          const giveUpMs = deps.giveUpMs ?? 0
          if (!isRetriableBatchError(err) || (giveUpMs > 0 && now() - since >= giveUpMs)) throw err
          outage = { since, reason: (err as Error).message }
          startFailures.occurred({ err }, (err as Error).message)
          await sleep(backoffMs(attempt))
          if (stopping) return
        }
      }
      for (const topic of inputs.keys()) {
        lagMonitors.set(topic, startLagMonitor({
          processor, topic, gauge: m.consumerLag, assigned: () => assignment[topic] ?? [], offsetRanges: () => offsetRanges(topic),
          positions: (partitions) => heldPositions(topic, partitions), log, intervalMs: deps.lagIntervalMs ?? 5_000,
        }))
      }
      giveUpTimer = setInterval(() => {
        const giveUpMs = deps.giveUpMs ?? 0
        if (giveUpMs <= 0 || !outage || stopping || now() - outage.since < giveUpMs) return
        clearInterval(giveUpTimer)
        const err = new AurenError('AUREN_ERR_BROKER_UNAVAILABLE', `consumer out of its group for ${now() - outage.since} ms (give-up time ${giveUpMs} ms): ${outage.reason}`)
        log.fatal({ err }, 'giving up')
        deps.onFatal?.(err)
      }, 1_000)
      giveUpTimer.unref()
      if (punctuating) {
        ticker = setInterval(tick, tickMs)
        ticker.unref()
      }
      log.info({ inputs: [...inputs.keys()], sink: sink.kind, groupId, delivery: deps.delivery ?? 'at-least-once', punctuationMs: punctuating ? tickMs : null }, 'processor started')
    },
    stop() {
      stopPromise ??= (async () => {
        stopping = true
        clearInterval(ticker)
        clearInterval(giveUpTimer)
        for (const l of lagMonitors.values()) l.stop()
        log.info('stopping: no more fetches, draining the batch in progress')
        const graceMs = deps.shutdownGraceMs ?? 10_000
        let timer: NodeJS.Timeout | undefined
        const drained = await Promise.race([
          Promise.allSettled([inFlight ?? Promise.resolve(), ...[...slots.values()].map((s) => s.serial(async () => undefined))]).then(() => true),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
        ])
        clearTimeout(timer)
        if (!drained) log.warn({ graceMs }, 'batch in progress did not finish within the grace time; it will be redelivered')
        const c = consumer
        const steps: Array<[string, (() => Promise<void>) | undefined]> = [
          ['sink close', () => sink.close()], // a buffered sink flushes; its acknowledgements commit through the consumer
          ['acknowledged commits', async () => void (await Promise.allSettled([...ackCommits]))],
          ['consumer stop', c && (() => c.stop())],
          ['consumer disconnect', c && (() => c.disconnect())],
          ['producer disconnect', producer && (() => producer!.disconnect())],
          ['admin disconnect', admin && (() => admin!.disconnect())],
        ]
        for (const [step, run] of steps) {
          try {
            await run?.()
          } catch (err) {
            log.error({ err, step }, 'shutdown step failed; going on')
          }
        }
        log.info('stopped')
      })()
      return stopPromise
    },
  }
}
