/**
 * The runner: consume → decode → transform → produce → commit, for any ProcessorDefinition.
 *
 * Delivery, at-least-once (default): a batch's outputs and dead-letter records are produced with the
 * idempotent producer and acknowledged (acks=all) before the batch's offset is committed; if
 * anything fails before the commit, the batch is delivered again from the last committed
 * offset (same partition and offsets), so nothing is lost and retried sends are not duplicated
 * by the producer. Output duplicates can only follow a crash between ack and commit; consumers
 * dedup by `event_id`.
 *
 * Delivery, exactly-once (`delivery: 'exactly-once'`): outputs, dead letters and the offset
 * commit of a batch go in one Kafka transaction (kafkajs transactions, KIP-98); read_committed
 * consumers see them once, or not at all if the process dies before the commit. A restarted
 * instance with the same transactional id fences its predecessor and aborts its open
 * transaction. Limit: kafkajs has no consumer-group-aware fencing (KIP-447), so during a
 * rebalance two instances with different ids may briefly both process a partition; consumers
 * stay idempotent by `event_id`.
 */
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { topicNames, type DlqReason, type TopicNames } from '../../schemas/index.ts'
import type { ProcessorDefinition } from './define-processor.ts'
import type { ProcessorContext } from './context.ts'
import type { BatchControl, ConsumedBatch, ConsumedRecord, KafkaDriver, ProduceRecord, RecordProducer, BatchConsumer } from './kafka-client.ts'
import type { Serde } from './serde.ts'
import type { RunnerMetrics } from './metrics.ts'
import type { HealthSource } from './http.ts'
import { deadLetterRecord } from './dead-letter.ts'
import type { SinkRecord } from './sink.ts'
import { AurenError, hasCode, isAurenError } from './errors.ts'
import { decidePosition } from './position.ts'
import { startLagMonitor, type LagMonitor, type OffsetRange } from './lag-monitor.ts'
import { createEpisodeLog } from './episode-log.ts'
import type { TopicAdmin } from './kafka-client.ts'

/** What the runner needs; main.ts builds these (STYLE.md principle 5). */
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
  /**
   * `at-least-once` (default): produce, then commit the offset after the acks. `exactly-once`:
   * outputs, dead letters and the offset commit in one Kafka transaction per batch, so
   * read_committed consumers see each input's outputs exactly once.
   */
  readonly delivery?: 'at-least-once' | 'exactly-once'
  /** Transactional id of this instance for exactly-once: unique per instance, stable across its restarts. */
  readonly transactionalId?: string
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
   * for longer than giveUpMs); main exits non-zero. Not called for a crash reported after stop()
   * began (logged as a warning instead).
   */
  readonly onFatal?: (err: Error) => void
}

/** Observations for auren_event_lag_seconds: event time (epoch ms) and tier label of a record. */
export type LagObservation = { eventTimeMs: number; tier: string }

/** A running processor. */
export interface Runner {
  /**
   * Registers schemas, connects, joins the consumer group and starts consuming. A broker or
   * registry that does not answer is retried with backoff (not ready meanwhile); resolves without
   * running when stop() is called first.
   * @throws a non-retriable error, or the last error once `giveUpMs` passed
   */
  start(): Promise<void>
  /**
   * Stops fetching, lets the batch in progress finish and commit (within shutdownGraceMs), then
   * disconnects the consumer and producer and closes the sink. A failing close step is logged
   * and the others still run; it does not reject. Idempotent.
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

/**
 * Creates the runner of one processor definition.
 * @param observe optional: event time and tier of a processed input, for auren_event_lag_seconds
 */
export function createRunner<In, Out>(
  def: ProcessorDefinition<In, Out>,
  deps: RunnerDeps,
  observe?: (input: In, outputs: readonly Out[]) => LagObservation | undefined,
): Runner {
  const now = deps.now ?? Date.now
  const topics = topicNames(deps.topicPrefix)
  const inputTopic = topics[def.input.topic]
  const outputTopic = def.output ? topics[def.output.topic] : undefined
  const groupId = `${deps.groupIdPrefix}${def.name}`
  const processor = def.name
  const log = deps.log.child({ processor })
  const m = deps.metrics
  const partitionLogs = new Map<number, Logger>()

  let producer: RecordProducer | undefined
  let consumer: BatchConsumer | undefined
  let outputSchemaId: number | undefined
  let stopping = false
  let joined = false
  let assignment: Record<string, number[]> = {}
  let stopPromise: Promise<void> | undefined

  const partitionLog = (p: number): Logger => {
    let l = partitionLogs.get(p)
    if (!l) partitionLogs.set(p, (l = log.child({ topic: inputTopic, partition: p })))
    return l
  }

  // Label sets reused for every observation (prom-client hashes them on each call anyway).
  const processorLabels = { processor } as const
  const lagLabels = new Map<string, { processor: string; tier: string }>()
  const lagLabelsFor = (tier: string) => {
    let l = lagLabels.get(tier)
    if (!l) lagLabels.set(tier, (l = { processor, tier }))
    return l
  }

  let lagMonitor: LagMonitor | undefined
  let admin: TopicAdmin | undefined
  /** Partitions of the input topic assigned to this instance (last join). */
  const assignedPartitions = () => assignment[inputTopic] ?? []
  /** Batches failing with a retriable error, retried with backoff: one warning per episode. */
  const retrying = createEpisodeLog(log, 'batch failed, retrying with backoff')
  /** Consumer crashes (broker unreachable) until the group is joined again. */
  const crashes = createEpisodeLog(log, 'consumer crashed, restarting')
  /** Since when the consumer is out of its group after a crash (epoch ms), with the cause. */
  let outage: { since: number; reason: string } | undefined
  let giveUpTimer: NodeJS.Timeout | undefined
  /** Sink processors: partitions already positioned on the stored offset since their assignment (position.ts). */
  const positioned = new Set<number>()

  /** Sink processors: next offset per partition as stored in the sink, loaded after each (re)assignment. */
  const positions = new Map<number, bigint | null>()
  async function storedPosition(partition: number): Promise<bigint | undefined> {
    if (!positions.has(partition)) {
      const stored = await def.sink!.storedOffsets(groupId, inputTopic, [partition])
      const offset = stored.get(partition)
      positions.set(partition, offset === undefined ? null : BigInt(offset))
    }
    return positions.get(partition) ?? undefined
  }

  /**
   * Adds the dead-letter record of `record` to `out`. A function of the runner, not a closure per
   * record: tsx (esbuild keepNames) wraps every named closure in a `__name` call when created.
   */
  function toDlq(record: ConsumedRecord, reason: DlqReason, message: string, out: ProduceRecord[], dlqReasons: DlqReason[]): void {
    out.push(deadLetterRecord(topics.deadLetter, record, reason, message, processor, now()))
    dlqReasons.push(reason)
    partitionLog(record.partition).warn({ offset: record.offset, reason, dlqMessage: message }, 'record dead-lettered')
  }

  /** Decodes and transforms one record into records to produce; throws only retriable errors. */
  async function handleRecord(record: ConsumedRecord, out: ProduceRecord[], dlqReasons: DlqReason[], lags: LagObservation[], sinkOut: SinkRecord<Out>[]): Promise<void> {
    let decoded: unknown
    try {
      decoded = await deps.serde.decode(record.value, def.input.schema)
    } catch (err) {
      if (isAurenError(err) && err.retriable) throw err
      toDlq(record, hasCode(err, 'AUREN_ERR_SCHEMA_UNKNOWN') ? 'SCHEMA_UNKNOWN' : 'DESERIALIZATION_FAILED', (err as Error).message, out, dlqReasons)
      return
    }
    let input: In
    try {
      input = def.decode(decoded)
    } catch (err) {
      toDlq(record, 'VALIDATION_FAILED', (err as Error).message, out, dlqReasons)
      return
    }
    const ctx: ProcessorContext = {
      log: partitionLog(record.partition),
      now,
      registry: deps.registry,
      source: { topic: record.topic, partition: record.partition, offset: record.offset },
    }
    let outcome
    try {
      outcome = def.transform(input, ctx)
    } catch (err) {
      if (isAurenError(err) && err.retriable) throw err
      toDlq(record, 'PROCESSING_FAILED', `transform threw: ${(err as Error).message}`, out, dlqReasons)
      return
    }
    if (outcome.kind === 'skip') {
      m.skipped.inc({ processor, reason: outcome.reason })
    } else if (outcome.kind === 'dead-letter') {
      toDlq(record, outcome.reason, outcome.message, out, dlqReasons)
    } else if (outcome.records.length > 0 && def.sink) {
      for (const r of outcome.records) sinkOut.push({ value: r.value, partition: record.partition, offset: record.offset })
    } else if (outcome.records.length > 0) {
      if (!outputTopic || outputSchemaId === undefined || !def.output) {
        toDlq(record, 'PROCESSING_FAILED', `processor ${processor} emitted records but has no output topic`, out, dlqReasons)
        return
      }
      const encoded: ProduceRecord[] = []
      try {
        for (const r of outcome.records) {
          encoded.push({ topic: outputTopic, key: r.key, value: deps.serde.encode(outputSchemaId, def.output.schema, def.encode(r.value)) })
        }
      } catch (err) {
        toDlq(record, 'PROCESSING_FAILED', `output does not fit schema ${def.output.schema}: ${(err as Error).message}`, out, dlqReasons)
        return
      }
      out.push(...encoded)
    }
    const lag = observe?.(input, outcome.kind === 'emit' ? outcome.records.map((r) => r.value) : [])
    if (lag) lags.push(lag)
  }

  /**
   * The batch being processed, awaited by stop(): kafkajs ignores offset commits once its own
   * stop() was called (kafkajs runner.js), so the runner drains with its own flag first and
   * stops the consumer only after the batch in progress has committed.
   */
  let inFlight: Promise<void> | undefined
  async function onBatch(batch: ConsumedBatch, control: BatchControl): Promise<void> {
    if (stopping) return // not processed, not committed: delivered again after restart
    const current = processWithRetry(batch, control)
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
  async function processWithRetry(batch: ConsumedBatch, control: BatchControl): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await processBatch(batch, control)
        retrying.ended()
        return
      } catch (err) {
        if (!isRetriableBatchError(err)) throw err
        retrying.occurred({ err, partition: batch.partition, topic: batch.topic }, (err as Error).message)
        positions.delete(batch.partition) // read the sink's offset again: another instance may have moved it
        await sleep(backoffMs(attempt))
        if (stopping || !control.isRunning() || control.isStale()) return
        await control.heartbeat() // throws when a rebalance is under way: the consumer rejoins
      }
    }
  }

  async function processBatch(batch: ConsumedBatch, control: BatchControl): Promise<void> {
    const started = process.hrtime.bigint()
    const out: ProduceRecord[] = []
    const dlqReasons: DlqReason[] = []
    const lags: LagObservation[] = []
    let lastOffset: string | undefined
    let handled = 0
    const consumedLabels = { processor, topic: batch.topic }
    const sinkOut: SinkRecord<Out>[] = []
    const stored = def.sink ? await storedPosition(batch.partition) : undefined
    const first = batch.records[0]?.offset
    const decision = decidePosition(stored, first === undefined ? undefined : BigInt(first), positioned.has(batch.partition))
    positioned.add(batch.partition)
    if (decision.action === 'seek') {
      // First batch since the assignment starts past the sink's offset: read from the sink's
      // offset once; a gap left after that is markers or aborted records (read_committed).
      partitionLog(batch.partition).info({ stored: decision.offset.toString(), fetched: first }, 'seeking to the offset stored in the sink')
      control.seek(decision.offset.toString())
      return
    }
    for (const record of batch.records) {
      if (stopping || !control.isRunning() || control.isStale()) break
      if (stored !== undefined && BigInt(record.offset) < stored) {
        lastOffset = record.offset // already applied by the sink: skip (exactly-once)
        handled++
        continue
      }
      // Counted as each record is read (tests and operators watch it move within a batch).
      m.consumed.inc(record.topic === batch.topic ? consumedLabels : { processor, topic: record.topic })
      await handleRecord(record, out, dlqReasons, lags, sinkOut)
      lastOffset = record.offset
      if (++handled % HEARTBEAT_EVERY === 0) await control.heartbeat()
    }
    if (lastOffset === undefined) return
    if (control.isStale()) return // partition revoked: its new owner starts from the committed offset

    // When every record was handled, move past trailing transaction markers too.
    const complete = handled === batch.records.length
    const nextOffset = (BigInt(complete ? batch.lastOffset : lastOffset) + 1n).toString()
    const commitTimer = m.commitDuration.startTimer({ processor })
    if (def.sink) {
      await producer!.send(out) // dead letters, at least once, before the sink commits
      await def.sink.writeBatch(sinkOut, { groupId, topic: batch.topic, partition: batch.partition, nextOffset })
      positions.set(batch.partition, BigInt(nextOffset))
      // Kafka's committed offset only shows progress to lag tools; the sink's is the truth.
      await control.commit(nextOffset).catch((err: unknown) => partitionLog(batch.partition).warn({ err }, 'offset commit to Kafka failed (sink holds the position)'))
    } else if (producer!.transactional) {
      await producer!.sendAndCommit(out, { groupId, topic: batch.topic, partition: batch.partition, offset: nextOffset })
      control.resolve(nextOffset)
    } else {
      await producer!.send(out)
      await control.commit(nextOffset)
    }
    commitTimer()
    const perTopic = new Map<string, number>()
    for (const r of out) perTopic.set(r.topic, (perTopic.get(r.topic) ?? 0) + 1)
    for (const [topic, n] of perTopic) m.produced.inc({ processor, topic }, n)
    for (const reason of dlqReasons) m.deadLettered.inc({ processor, reason })

    const doneMs = now()
    for (const l of lags) m.eventLag.observe(lagLabelsFor(l.tier), Math.max(0, (doneMs - l.eventTimeMs) / 1000))
    const perRecordSeconds = Number(process.hrtime.bigint() - started) / 1e9 / handled
    // prom-client has no public way to add n equal observations at once: one observe per record.
    for (let i = 0; i < handled; i++) m.processingDuration.observe(processorLabels, perRecordSeconds)
    const lag = BigInt(batch.highWatermark) - BigInt(nextOffset)
    if (!control.isStale()) lagMonitor?.set(batch.partition, Number(lag > 0n ? lag : 0n))
  }

  /** Next offset per partition the processor holds: the sink's, else the group's committed one. */
  async function heldPositions(partitions: readonly number[]): Promise<Map<number, string | undefined>> {
    admin ??= await deps.driver.admin()
    const committed = await admin.committedOffsets(groupId, inputTopic)
    const stored = def.sink ? await def.sink.storedOffsets(groupId, inputTopic, partitions) : new Map<number, string>()
    const out = new Map<number, string | undefined>()
    for (const p of partitions) {
      const c = committed.get(p)
      out.set(p, stored.get(p) ?? (c !== undefined && BigInt(c) >= 0n ? c : undefined))
    }
    return out
  }

  async function offsetRanges(): Promise<Map<number, OffsetRange>> {
    admin ??= await deps.driver.admin()
    try {
      return await admin.offsetRanges(inputTopic)
    } catch (err) {
      const a = admin
      admin = undefined
      void a.disconnect().catch(() => undefined)
      throw err
    }
  }

  /** Creates the consumer, subscribes to its group events and runs it; throws when the broker is unreachable. */
  async function runConsumer(): Promise<void> {
    const c = deps.driver.consumer({ groupId, maxBytesPerPartition: deps.maxBatchBytes })
    consumer = c
    c.onGroupEvent((e) => {
      if (consumer !== c) return // an abandoned consumer
      if (e.type === 'joined') {
        joined = true
        positions.clear()
        positioned.clear()
        assignment = e.assignment
        if (outage) log.info({ groupId, outageMs: now() - outage.since }, 'consumer back in its group')
        outage = undefined
        crashes.ended()
        // Partitions given to other members: their lag is reported by their new owners.
        lagMonitor?.prune()
        m.rebalances.inc({ processor })
        log.info({ groupId, assignment }, 'joined consumer group')
      } else if (e.type === 'rebalancing') {
        joined = false
        positions.clear() // another instance may advance these partitions in the sink
        positioned.clear()
        log.info({ groupId }, 'rebalancing')
      } else if (e.type === 'crashed') {
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
      topics: [inputTopic],
      fromBeginning: deps.fromBeginning,
      onBatch,
      // Past transaction markers there is nothing to produce: commit (and store in the sink), so lag reaches 0.
      onSkipped: async ({ partition, nextOffset }, commit) => {
        try {
          if (def.sink) {
            await def.sink.writeBatch([], { groupId, topic: inputTopic, partition, nextOffset })
            const held = positions.get(partition)
            if (held !== undefined && held !== null && held < BigInt(nextOffset)) positions.set(partition, BigInt(nextOffset))
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

  return {
    groupId,
    topics,
    health: {
      healthy: () => !stopping,
      ready: () => {
        // The lag monitor reads offsets every lagIntervalMs: its failure is the first sign of an
        // unreachable broker (or sink), well before the consumer exhausts its retries.
        const offsetsError = lagMonitor?.lastError()
        const ready = joined && !stopping && !retrying.active && offsetsError === undefined
        const reason = stopping
          ? 'stopping'
          : outage
            ? `consumer out of its group since ${new Date(outage.since).toISOString()} (broker unreachable?): ${outage.reason}`
            : retrying.active
              ? `batches failing and retried (${retrying.count} attempts)`
              : offsetsError !== undefined
                ? `offsets not readable (broker or sink unreachable?): ${offsetsError}`
                : joined
                  ? undefined
                  : 'not in the consumer group yet'
        return { ready, detail: { groupId, joined, assignment, ...(reason ? { reason } : {}) } }
      },
    },
    async start() {
      if (deps.delivery === 'exactly-once' && !deps.transactionalId) throw new Error('exactly-once delivery needs a transactionalId')
      // Broker or registry unreachable at start: retried with backoff (not ready meanwhile)
      // until it answers, the runner stops, or the give-up time passes.
      const startFailures = createEpisodeLog(log, 'start failed, retrying with backoff')
      const since = now()
      for (let attempt = 0; ; attempt++) {
        try {
          if (def.output) outputSchemaId ??= await deps.serde.register(topics[def.output.topic], def.output.schema)
          await deps.serde.register(inputTopic, def.input.schema)
          producer ??= await deps.driver.producer(deps.delivery === 'exactly-once' ? { transactionalId: deps.transactionalId } : undefined)
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
      lagMonitor = startLagMonitor({
        processor,
        topic: inputTopic,
        gauge: m.consumerLag,
        assigned: assignedPartitions,
        offsetRanges,
        positions: heldPositions,
        log,
        intervalMs: deps.lagIntervalMs ?? 5_000,
      })
      giveUpTimer = setInterval(() => {
        const giveUpMs = deps.giveUpMs ?? 0
        if (giveUpMs <= 0 || !outage || stopping || now() - outage.since < giveUpMs) return
        clearInterval(giveUpTimer)
        const err = new AurenError('AUREN_ERR_BROKER_UNAVAILABLE', `consumer out of its group for ${now() - outage.since} ms (give-up time ${giveUpMs} ms): ${outage.reason}`)
        log.fatal({ err }, 'giving up')
        deps.onFatal?.(err)
      }, 1_000)
      giveUpTimer.unref()
      log.info({ inputTopic, outputTopic, groupId, delivery: deps.delivery ?? 'at-least-once' }, 'processor started')
    },
    stop() {
      stopPromise ??= (async () => {
        stopping = true
        lagMonitor?.stop()
        clearInterval(giveUpTimer)
        log.info('stopping: no more fetches, draining the batch in progress')
        const graceMs = deps.shutdownGraceMs ?? 10_000
        let timer: NodeJS.Timeout | undefined
        const drained = await Promise.race([
          (inFlight ?? Promise.resolve()).then(
            () => true,
            () => true,
          ),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
        ])
        clearTimeout(timer)
        // An abandoned batch was not committed: its records are delivered again after restart.
        if (!drained) log.warn({ graceMs }, 'batch in progress did not finish within the grace time; it will be redelivered')
        // What was processed is committed by now: a failing close step is logged and the
        // others still run, so one broken connection does not leave the rest open.
        const [c, p, sink, a] = [consumer, producer, def.sink, admin]
        const steps: Array<[string, (() => Promise<void>) | undefined]> = [
          ['consumer stop', c && (() => c.stop())],
          ['consumer disconnect', c && (() => c.disconnect())],
          ['producer disconnect', p && (() => p.disconnect())],
          ['admin disconnect', a && (() => a.disconnect())],
          ['sink close', sink && (() => sink.close())],
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
