/**
 * The batch loop: each fetched partition batch, one at a time per partition, through
 * positioning (position.ts), the record handler, the sink and the commit of the acknowledged
 * position, with retries.
 *
 * - A sink that stores offsets: records below the stored offset are skipped (applied before);
 *   the first batch after an assignment that starts past it seeks back to it, once.
 * - A batch failing with a retriable error (sink or broker unreachable) is retried with backoff,
 *   heartbeating between attempts, its partition's state rolled back and its stored offset read
 *   again (for an `in-transaction` sink, the group's committed offset: a transaction whose commit
 *   answer was lost may have committed, and its records are then skipped); the retries end when it succeeds, the partition is revoked or the runner stops (then
 *   nothing was committed and the batch is delivered again). Any other error goes to the
 *   consumer, which crashes (consumer-supervisor.ts).
 * - Metrics of the batch (consumed, produced, dead-lettered, durations, lag) and the
 *   definition's `afterCommit` hook follow the commit, so a retried batch counts once.
 */
import type { BatchControl, ConsumedBatch } from './kafka/kafka-client.ts'
import type { PartitionPosition } from './sinks/sink.ts'
import type { PartitionSlot } from './partition-slot.ts'
import { afterCommitSafely, countProduced, observeBatch } from './runner-metrics.ts'
import { decidePosition } from './position.ts'
import { createEpisodeLog, type EpisodeLog } from './ops/episode-log.ts'
import { backoffMs } from './ops/backoff.ts'
import { isRetriableBatchError, sleep, type RunnerContext } from './runner-context.ts'
import { emptyWork, type BatchWork, type RecordHandler } from './record-handler.ts'
import type { OutputRecord } from './outcome.ts'
import type { Assignment } from './assignment.ts'
import type { Acknowledgement } from './acknowledgement.ts'

/** Records handled between two heartbeats within a batch. */
const HEARTBEAT_EVERY = 500

/** The batch loop of one runner. */
export interface BatchLoop {
  /** The consumer's batch handler. @throws a non-retriable processing error (the consumer crashes) */
  onBatch(batch: ConsumedBatch, control: BatchControl): Promise<void>
  /** The batch in progress, if any (stop() waits for it: kafkajs ignores commits once its own stop() was called). */
  inFlight(): Promise<void> | undefined
  /** Batches failing with a retriable error and retried: one warning per episode; open while they fail. */
  readonly retrying: EpisodeLog
}

/** Creates the batch loop over the runner's shared parts. */
export function createBatchLoop<In, Out, S>(
  ctx: RunnerContext<In, Out, S>,
  parts: { handleRecord: RecordHandler<In, Out, S>; assignment: Assignment<S>; ack: Acknowledgement<Out, S> },
): BatchLoop {
  const { def, live, log, m, processor, groupId, now } = ctx
  const { handleRecord, assignment, ack } = parts
  const retrying = createEpisodeLog(log, 'batch failed, retrying with backoff')
  let inFlight: Promise<void> | undefined

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
        if (live.stopping || !control.isRunning() || control.isStale()) return
        await control.heartbeat() // throws when a rebalance is under way: the consumer rejoins
      }
    }
  }

  /**
   * The definition's stream-time punctuation at the batch's end: its records join the batch's, at
   * its last offset. @throws what it throws: the batch fails like any processing error (its state
   * rolled back, the batch read again), so nothing it had taken out of the state is lost
   */
  function punctuateStreamTime(slot: PartitionSlot<S>, lastOffset: string, work: BatchWork<In, Out>): readonly OutputRecord<Out>[] {
    if (!def.punctuateStreamTime) return []
    const { topic, partition } = slot.ref
    const out = def.punctuateStreamTime(slot.ref, { log: ctx.partitionLog(topic, partition), state: slot.state })
    work.records.push(...out.map((r) => ({ key: r.key, value: r.value, partition, offset: lastOffset, prepared: ctx.sink.prepare?.(r) })))
    return out
  }

  async function processBatch(batch: ConsumedBatch, control: BatchControl, slot: PartitionSlot<S>): Promise<void> {
    const started = process.hrtime.bigint()
    await assignment.ensureLoaded(slot)
    const work = emptyWork<In, Out>()
    const first = batch.records[0]?.offset
    const decision = decidePosition(slot.stored, first === undefined ? undefined : BigInt(first), slot.positioned)
    slot.positioned = true
    if (decision.action === 'seek') {
      // First batch since the assignment starts past the sink's offset: read from the sink's
      // offset once; a gap left after that is markers or aborted records (read_committed).
      ctx.partitionLog(batch.topic, batch.partition).info({ stored: decision.offset.toString(), fetched: first }, 'seeking to the offset stored in the sink')
      control.seek(decision.offset.toString())
      return
    }
    const stored = decision.skipBelow
    let lastOffset: string | undefined
    let handled = 0
    const consumedLabels = { processor, topic: batch.topic }
    try {
      for (const record of batch.records) {
        if (live.stopping || !control.isRunning() || control.isStale()) break
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
      const punctuated = punctuateStreamTime(slot, lastOffset, work)
      // When every record was handled, move past trailing transaction markers too. Never behind the
      // stored offset: a batch wholly below it was applied before (fetched before another instance
      // took the partition on and committed further), and committing its end would move the
      // partition back and have its records processed again.
      let next = BigInt(handled === batch.records.length ? batch.lastOffset : lastOffset) + 1n
      if (stored !== undefined && next < stored) next = stored
      const nextOffset = next.toString()
      const position: PartitionPosition = { groupId, topic: batch.topic, partition: batch.partition, nextOffset }
      const commitTimer = m.commitDuration.startTimer({ processor })
      const result = await ack.hand(slot, { records: work.records, position, cause: 'records', nowMs: now(), highWatermark: batch.highWatermark }, work.deadLetters)
      slot.position = nextOffset
      const committed = () => {
        for (const reason of work.dlqReasons) m.deadLettered.inc({ processor, reason })
        afterCommitSafely(def, log, { partition: slot.ref, cause: 'records', results: work.results, punctuated, nowMs: now() })
      }
      if (result.kind === 'pending') {
        control.resolve(nextOffset) // fetch on; the commit waits for the sink's acknowledgement
        slot.pendingAcks.push({ nextOffset: BigInt(nextOffset), done: committed, deadLetters: result.heldDeadLetters })
      } else {
        await ack.commitAcknowledged(slot, nextOffset, control)
        countProduced(m, processor, result.produced)
        committed()
      }
      commitTimer()
      observeBatch(m, processor, work.lags, now(), started, handled)
      if (!control.isStale()) ctx.noteLag(batch.topic, batch.partition, BigInt(batch.highWatermark) - BigInt(nextOffset))
    } catch (err) {
      slot.rollback()
      throw err
    }
  }

  return {
    retrying,
    inFlight: () => inFlight,
    async onBatch(batch, control) {
      if (live.stopping) return // not processed, not committed: delivered again after restart
      if (!ctx.inputs.has(batch.topic)) return
      const slot = ctx.slotOf(batch.topic, batch.partition)
      const current = slot.serial(() => processWithRetry(batch, control, slot))
      inFlight = current
      try {
        await current
      } finally {
        if (inFlight === current) inFlight = undefined
      }
    },
  }
}
