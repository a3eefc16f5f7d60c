/**
 * The commit path: a batch's (or tick's) outputs, dead letters and changed state go to the sink
 * with the batch's position; the position becomes durable only once the sink acknowledged it
 * (sinks/sink.ts).
 *
 * - Dead letters and the state's changelog record, when the sink does not take them, are
 *   produced before the position is durable: first, for a sink that stores the position itself
 *   (`'sink'`); for a sink whose position is the group's commit (`'kafka'`), dead letters only
 *   once the sink acknowledged the batch, right before the commit. So a batch whose write fails
 *   (and is read again) dead-letters nothing; a buffered sink's retries after a failed flush
 *   (a database outage) do not copy a poison record into the dead-letter topic on every re-read.
 *   A dead letter held for a pending batch that cannot be produced fails the partition (re-read
 *   from the last commit), so none is skipped by a later commit.
 * - An acknowledged position is committed per the sink's offset mode: `'kafka'` commits it to
 *   the consumer group; `'in-transaction'` only resolves it (the sink committed it in its
 *   transaction); `'sink'` trusts the sink's stored offset and commits to Kafka best effort, so
 *   lag tools see progress, without the next batch waiting for the broker's answer.
 * - A sink that answers `pending` (buffered) acknowledges later through `acknowledge`: the
 *   position is committed then, unless the partition moved since (its new owner re-reads).
 * - A sink failing in the background (`fail`) drops the pending positions of the partition(s)
 *   and re-reads them from the last commit.
 */
import type { BatchControl, ProduceRecord } from './kafka/kafka-client.ts'
import type { PartitionPosition, SinkBatch, WriteResult } from './sinks/sink.ts'
import type { PartitionSlot } from './partition-slot.ts'
import { countProduced } from './runner-metrics.ts'
import { backoffMs } from './ops/backoff.ts'
import { sleep, slotKey, type RunnerContext } from './runner-context.ts'

/**
 * What the sink answered, and for a `pending` answer the dead letters held until its
 * acknowledgement (to keep with the pending position: `PartitionSlot.pendingAcks`).
 */
export type HandResult = WriteResult & { readonly heldDeadLetters?: readonly ProduceRecord[] }

/** The commit path of one runner (module doc). */
export interface Acknowledgement<Out, S> {
  /**
   * Produces what the sink does not take itself, then hands the batch to the sink and marks the
   * slot's state saved.
   * @throws what the producer or the sink's `write` throws (the caller rolls the state back)
   */
  hand(slot: PartitionSlot<S>, batch: Omit<SinkBatch<Out>, 'state' | 'deadLetters'>, deadLetters: ProduceRecord[]): Promise<HandResult>
  /** Acts on a position the sink acknowledged at once, per its offset mode. @throws when a `'kafka'` commit fails */
  commitAcknowledged(slot: PartitionSlot<S>, nextOffset: string, control: BatchControl): Promise<void>
  /** The sink's later acknowledgement (`SinkStartContext.acknowledge`). */
  acknowledge(position: PartitionPosition): void
  /** The sink's background failure (`SinkStartContext.fail`), of one partition or all. */
  fail(err: Error, part?: { topic: string; partition: number }): void
  /** Resolves when the commits of acknowledgements (and the best-effort commits of `'sink'` positions) under way settled (stop() waits for them). */
  settled(): Promise<void>
}

/** Creates the commit path over the runner's shared parts. */
export function createAcknowledgement<In, Out, S>(ctx: RunnerContext<In, Out, S>): Acknowledgement<Out, S> {
  const { sink, live, slots, log, m, processor, groupId } = ctx
  /** Commits of acknowledgements under way. */
  const ackCommits = new Set<Promise<void>>()
  /** The last acknowledgement under way per partition (they run in order). */
  const acking = new Map<PartitionSlot<S>, Promise<void>>()

  /**
   * Seeks the partition back to the group's committed offset. The read of that offset is retried
   * with backoff (the broker may be the reason the sink failed) until it succeeds, the partition
   * moves in a rebalance (its new owner reads from the commit anyway) or the runner stops.
   */
  async function reread(topic: string, partition: number): Promise<void> {
    const generation = live.generation
    for (let attempt = 0; !live.stopping && live.generation === generation; attempt++) {
      try {
        const committed = (await ctx.admin.committedOffsets(groupId, topic)).get(partition)
        if (live.generation !== generation) break
        live.consumer?.seek(topic, partition, committed !== undefined && BigInt(committed) >= 0n ? committed : '0')
        live.sinkFailure = undefined
        return
      } catch (err) {
        log.warn({ err, topic, partition, attempt }, 're-read after a sink failure: the committed offset could not be read; retrying')
        await sleep(backoffMs(attempt))
      }
    }
    live.sinkFailure = undefined // revoked or stopping: the partition's next owner reads from the last commit
  }

  /** The sink's background failure, or held dead letters that could not be produced: re-read from the last commit. */
  function fail(err: Error, part?: { topic: string; partition: number }): void {
    const candidates = part ? [slots.get(slotKey(part.topic, part.partition))] : [...slots.values()]
    const targets = candidates.filter((slot): slot is PartitionSlot<S> => slot !== undefined && slot.generation === live.generation)
    if (targets.length === 0) {
      // Not (or no longer) assigned here: the rebalance made its owner re-read it from the last commit.
      log.warn({ err, ...part }, 'sink failed in the background for a partition no longer assigned; nothing to re-read here')
      return
    }
    log.error({ err, ...part }, 'sink failed in the background; re-reading from the last commit')
    for (const slot of targets) {
      slot.pendingAcks.length = 0
      slots.delete(slotKey(slot.ref.topic, slot.ref.partition)) // reload state and position
    }
    live.sinkFailure = err // not ready until the re-read is under way
    for (const slot of targets) void reread(slot.ref.topic, slot.ref.partition)
  }

  /** Produces dead letters (and records they went out, for auren_records_produced_total). */
  async function produceDeadLetters(records: readonly ProduceRecord[]): Promise<void> {
    if (records.length === 0) return
    await live.producer!.send([...records])
    countProduced(m, processor, new Map([[ctx.topics.deadLetter, records.length]]))
  }

  return {
    async hand(slot, batch, deadLetters) {
      const json = slot.changedJson()
      const { topic, partition } = slot.ref
      const state = json === undefined ? undefined : { json, changelogRecord: { topic: ctx.stateTopic, key: `${topic}:${partition}`, value: Buffer.from(json) } }
      // 'kafka' positions: dead letters after the sink's acknowledgement, before the commit (module doc).
      const holdDeadLetters = !sink.takesDeadLetters && sink.offsets === 'kafka'
      if (!sink.takesDeadLetters) {
        if (!holdDeadLetters) await produceDeadLetters(deadLetters) // durable before the position is
        if (state && !sink.storesState) await live.producer!.send([state.changelogRecord])
      }
      const result = await sink.write({ ...batch, state, deadLetters: sink.takesDeadLetters ? deadLetters : undefined })
      slot.saved(json)
      if (!holdDeadLetters) return result
      if (result.kind === 'pending') return { ...result, heldDeadLetters: deadLetters }
      await produceDeadLetters(deadLetters)
      return result
    },

    async commitAcknowledged(slot, nextOffset, control) {
      if (sink.offsets === 'in-transaction') {
        control.resolve(nextOffset)
      } else if (sink.offsets === 'sink') {
        slot.stored = BigInt(nextOffset)
        // Kafka's committed offset only shows progress to lag tools; the sink's is the truth. Not
        // awaited: the next batch needs only the sink's position (the offset is resolved at once;
        // the commits of one consumer reach the coordinator in order); stop() waits for it (settled).
        const committing = control.commit(nextOffset).catch((err: unknown) => ctx.partitionLog(slot.ref.topic, slot.ref.partition).warn({ err }, 'offset commit to Kafka failed (sink holds the position)'))
        ackCommits.add(committing)
        void committing.finally(() => ackCommits.delete(committing))
      } else {
        await control.commit(nextOffset)
      }
    },

    acknowledge(position) {
      const slot = slots.get(slotKey(position.topic, position.partition))
      const consumer = live.consumer
      if (!slot || slot.generation !== live.generation || !consumer) return // revoked: the new owner re-reads
      const upTo = BigInt(position.nextOffset)
      const done = slot.pendingAcks.filter((p) => p.nextOffset <= upTo)
      if (done.length === 0) return
      slot.pendingAcks.splice(0, done.length)
      const held = done.flatMap((d) => d.deadLetters ?? [])
      // One partition's acknowledgements in order: a later commit never passes held dead letters not yet produced.
      const previous = acking.get(slot) ?? Promise.resolve()
      const committing = previous.then(async () => {
        try {
          await produceDeadLetters(held)
        } catch (err) {
          if (slot.generation === live.generation) fail(err as Error, { topic: position.topic, partition: position.partition })
          return
        }
        await consumer.commit(position.topic, position.partition, position.nextOffset).then(
          () => done.forEach((d) => d.done()),
          (err: unknown) => ctx.partitionLog(position.topic, position.partition).warn({ err }, 'commit of an acknowledged position failed; the records will be read again'),
        )
      })
      acking.set(slot, committing)
      ackCommits.add(committing)
      void committing.finally(() => {
        ackCommits.delete(committing)
        if (acking.get(slot) === committing) acking.delete(slot)
      })
    },

    fail,

    async settled() {
      await Promise.allSettled([...ackCommits])
    },
  }
}
