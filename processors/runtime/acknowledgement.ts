/**
 * The commit path: a batch's (or tick's) outputs, dead letters and changed state go to the sink
 * with the batch's position; the position becomes durable only once the sink acknowledged it
 * (sinks/sink.ts).
 *
 * - Dead letters and the state's changelog record, when the sink does not take them, are
 *   produced first, so they are durable before the position is.
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
import { slotKey, type RunnerContext } from './runner-context.ts'

/** The commit path of one runner (module doc). */
export interface Acknowledgement<Out, S> {
  /**
   * Produces what the sink does not take itself, then hands the batch to the sink and marks the
   * slot's state saved.
   * @throws what the producer or the sink's `write` throws (the caller rolls the state back)
   */
  hand(slot: PartitionSlot<S>, batch: Omit<SinkBatch<Out>, 'state' | 'deadLetters'>, deadLetters: ProduceRecord[]): Promise<WriteResult>
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

  async function reread(topic: string, partition: number): Promise<void> {
    try {
      const committed = (await ctx.admin.committedOffsets(groupId, topic)).get(partition)
      live.consumer?.seek(topic, partition, committed !== undefined && BigInt(committed) >= 0n ? committed : '0')
      live.sinkFailure = undefined
    } catch (err) {
      log.error({ err, topic, partition }, 're-read after a sink failure failed')
    }
  }

  return {
    async hand(slot, batch, deadLetters) {
      const json = slot.changedJson()
      const { topic, partition } = slot.ref
      const state = json === undefined ? undefined : { json, changelogRecord: { topic: ctx.stateTopic, key: `${topic}:${partition}`, value: Buffer.from(json) } }
      if (!sink.takesDeadLetters) {
        const early = [...deadLetters, ...(state && !sink.storesState ? [state.changelogRecord] : [])]
        if (early.length > 0) {
          await live.producer!.send(early) // durable before the position is
          countProduced(m, processor, new Map([[ctx.topics.deadLetter, deadLetters.length]]))
        }
      }
      const result = await sink.write({ ...batch, state, deadLetters: sink.takesDeadLetters ? deadLetters : undefined })
      slot.saved(json)
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
      const committing = consumer.commit(position.topic, position.partition, position.nextOffset).then(
        () => done.forEach((d) => d.done()),
        (err: unknown) => ctx.partitionLog(position.topic, position.partition).warn({ err }, 'commit of an acknowledged position failed; the records will be read again'),
      )
      ackCommits.add(committing)
      void committing.finally(() => ackCommits.delete(committing))
    },

    fail(err, part) {
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
    },

    async settled() {
      await Promise.allSettled([...ackCommits])
    },
  }
}
