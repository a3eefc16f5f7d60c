/**
 * The runner's side of consumer group membership: which input partitions this instance holds,
 * and, once per assignment, each partition's stored offset and state.
 *
 * Every join and every rebalance starts a new generation: each slot reloads the offset stored
 * in the sink and the state saved with it, since another instance may have moved them while
 * the partition was elsewhere. Anything not yet committed when a rebalance begins is read again
 * from the last commit, so a buffering sink drops what it holds of those partitions (`revoke`).
 */
import type { PartitionSlot } from './partition-slot.ts'
import type { RunnerContext } from './runner-context.ts'

/** Assignment handling of one runner. */
export interface Assignment<S> {
  /**
   * Reads the stored offset (`offsets: 'sink'` sinks; for `in-transaction` ones, the group's
   * committed offset after the sink settled the partition's transactions) and restores the state of a slot, once per assignment and again before a failed
   * batch is retried; no-op when already loaded.
   * @throws what the sink's `storedOffsets`/`settle`/`loadState`, the admin client or the state codec throws (the batch is retried)
   */
  ensureLoaded(slot: PartitionSlot<S>): Promise<void>
  /** The consumer joined its group with this assignment (full topic name → partitions). */
  onJoined(assigned: Record<string, number[]>): void
  /** The group is rebalancing: every partition is given up until the next join. */
  onRebalancing(): void
}

/** Creates the assignment handling over the runner's shared parts. */
export function createAssignment<In, Out, S>(ctx: RunnerContext<In, Out, S>): Assignment<S> {
  const { def, sink, groupId, live, slots, log } = ctx

  /** The sink's stored offset; for an in-transaction sink, the group's committed one once the sink settled the partition's transactions. */
  async function storedOffset(topic: string, partition: number): Promise<string | undefined> {
    if (sink.offsets === 'sink') return (await sink.storedOffsets!(groupId, topic, [partition])).get(partition)
    await sink.settle?.({ topic, partition })
    return (await ctx.admin.committedOffsets(groupId, topic)).get(partition)
  }

  return {
    async ensureLoaded(slot) {
      if (slot.loaded) return
      const { topic, partition } = slot.ref
      // An in-transaction sink settles the partition's transactions on every load (kafka-topic-sink.ts
      // "Fencing"): its previous owner may have left one open, and a batch tried since the
      // assignment may have committed though the client saw it fail.
      if (sink.offsets === 'sink' || sink.offsets === 'in-transaction') {
        const stored = await storedOffset(topic, partition)
        slot.stored = stored === undefined || BigInt(stored) < 0n ? undefined : BigInt(stored)
      }
      if (def.state) slot.restore(sink.storesState ? await sink.loadState!(groupId, topic, partition) : undefined)
      slot.loaded = true
    },

    onJoined(assigned) {
      live.joined = true
      live.generation++ // every slot reloads its stored offset and state: another instance may have moved them
      live.assignment = Object.fromEntries(Object.entries(assigned).filter(([t]) => ctx.inputs.has(t)))
      for (const k of [...slots.keys()]) if (slots.get(k)!.generation !== live.generation) slots.delete(k)
      for (const [topic, partitions] of Object.entries(live.assignment)) for (const p of partitions) void ctx.slotOf(topic, p)
      for (const l of ctx.lagMonitors.values()) l.prune() // partitions given to other members: their new owners report their lag
      ctx.m.rebalances.inc({ processor: ctx.processor })
      log.info({ groupId, assignment: live.assignment }, 'joined consumer group')
    },

    onRebalancing() {
      live.joined = false
      live.generation++
      // Everything not committed is read again from the last commit: a buffering sink drops it.
      const held = [...slots.values()].map((x) => ({ topic: x.ref.topic, partition: x.ref.partition }))
      slots.clear()
      void sink.revoke?.(held).catch((err: unknown) => log.warn({ err }, 'sink revoke failed'))
      log.info({ groupId }, 'rebalancing')
    },
  }
}
