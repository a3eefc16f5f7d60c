/**
 * Punctuation: processing-time timers. On every tick the runner calls the definition's
 * `punctuate(nowMs, partition, ctx)` for each assigned partition, queued behind that partition's
 * batches and within the same commit discipline: the tick's outputs and changed state go to the
 * sink with the partition's current position (the last batch's next offset, else the stored
 * one), and `afterCommit` sees them once acknowledged. A partition whose tick is still queued
 * or running is not queued again. A `punctuate` that throws skips the tick and rolls the state
 * back; a failing write is retried on the next tick.
 */
import type { OutputRecord } from './outcome.ts'
import type { PartitionSlot } from './partition-slot.ts'
import { afterCommitSafely, countProduced } from './runner-metrics.ts'
import type { RunnerContext } from './runner-context.ts'
import type { Assignment } from './assignment.ts'
import type { Acknowledgement } from './acknowledgement.ts'

/** The punctuation timer of one runner. */
export interface Punctuation {
  /** True when the definition punctuates (`punctuate` or `punctuation` given). */
  readonly enabled: boolean
  /** Tick interval, ms: the definition's, else the app's, else 1000. */
  readonly intervalMs: number
  /** Starts ticking (no-op when not enabled). */
  start(): void
  /** Stops ticking; a tick in progress finishes through its partition's queue. */
  stop(): void
}

/** Creates the punctuation timer over the runner's shared parts. */
export function createPunctuation<In, Out, S>(
  ctx: RunnerContext<In, Out, S>,
  parts: { assignment: Assignment<S>; ack: Acknowledgement<Out, S> },
): Punctuation {
  const { def, sink, live, log, m, processor, groupId } = ctx
  const enabled = def.punctuate !== undefined || def.punctuation !== undefined
  const intervalMs = def.punctuation?.intervalMs ?? ctx.deps.punctuationIntervalMs ?? 1_000
  let ticker: NodeJS.Timeout | undefined

  /** One tick: punctuate every assigned partition not already waiting for a tick. */
  function tick(): void {
    if (live.stopping || !live.joined) return
    for (const [topic, partitions] of Object.entries(live.assignment)) {
      if (!ctx.inputs.has(topic)) continue
      for (const partition of partitions) {
        const slot = ctx.slotOf(topic, partition)
        if (slot.tickQueued) continue
        slot.tickQueued = true
        void slot
          .serial(() => punctuate(slot))
          .catch((err: unknown) => ctx.partitionLog(topic, partition).warn({ err }, 'punctuation failed; retried next tick'))
          .finally(() => (slot.tickQueued = false))
      }
    }
  }

  async function punctuate(slot: PartitionSlot<S>): Promise<void> {
    if (live.stopping || slot.generation !== live.generation) return
    await parts.assignment.ensureLoaded(slot)
    const nowMs = ctx.now()
    const { topic, partition } = slot.ref
    let out: readonly OutputRecord<Out>[] = []
    try {
      out = def.punctuate?.(nowMs, slot.ref, { log: ctx.partitionLog(topic, partition), state: slot.state, lastRecordAtMs: slot.lastRecordAtMs, lagRecords: slot.lagRecords }) ?? []
    } catch (err) {
      slot.rollback()
      ctx.partitionLog(topic, partition).error({ err }, 'punctuate threw; tick skipped')
      return
    }
    const nextOffset = slot.position ?? (slot.stored !== undefined ? slot.stored.toString() : '-1')
    // A transactional sink commits the position with the tick's outputs: a partition ticks once its position is known.
    if (nextOffset === '-1' && sink.offsets === 'in-transaction') return
    const offset = (BigInt(nextOffset) - 1n).toString()
    const records = out.map((r) => ({ key: r.key, value: r.value, partition, offset, prepared: sink.prepare?.(r) }))
    try {
      const result = await parts.ack.hand(slot, { records, position: { groupId, topic, partition, nextOffset }, cause: 'punctuation', nowMs }, [])
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
    enabled,
    intervalMs,
    start() {
      if (!enabled) return
      ticker = setInterval(tick, intervalMs)
      ticker.unref()
    },
    stop() {
      clearInterval(ticker)
    },
  }
}
