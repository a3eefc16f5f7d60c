/**
 * The consumer of a runner and its faults: creates it, routes its group events (joins and
 * rebalances to assignment.ts, crashes here), stores positions past transaction markers, and
 * replaces a consumer that kafkajs does not restart, with backoff, until one runs.
 *
 * A crash while the broker is unreachable opens an outage (not ready meanwhile; one warning per
 * episode); rejoining the group closes it. A crash with a non-retriable error is a defect: the
 * app is told to exit (`onFatal`). So is an outage longer than `giveUpMs` (when set).
 */
import type { BatchConsumer } from './kafka/kafka-client.ts'
import { AurenError } from './ops/errors.ts'
import { createEpisodeLog } from './ops/episode-log.ts'
import { backoffMs } from './ops/backoff.ts'
import { isRetriableBatchError, sleep, type RunnerContext } from './runner-context.ts'
import type { Assignment } from './assignment.ts'
import type { BatchLoop } from './batch-loop.ts'

/** The consumer supervision of one runner. */
export interface ConsumerSupervisor {
  /** Creates the consumer, subscribes to its group events and runs it. @throws when the broker is unreachable */
  runConsumer(): Promise<void>
  /** Starts the give-up check (every second): `onFatal` once an outage lasts `giveUpMs`. */
  startGiveUpTimer(): void
  /** Stops the give-up check. */
  stop(): void
}

/** Creates the consumer supervision over the runner's shared parts. */
export function createConsumerSupervisor<In, Out, S>(
  ctx: RunnerContext<In, Out, S>,
  parts: { assignment: Assignment<S>; batches: BatchLoop },
): ConsumerSupervisor {
  const { deps, sink, live, log, groupId, now } = ctx
  /** Consumer crashes (broker unreachable) until the group is joined again. */
  const crashes = createEpisodeLog(log, 'consumer crashed, restarting')
  let giveUpTimer: NodeJS.Timeout | undefined

  function onCrashed(c: BatchConsumer, error: Error, restarting: boolean): void {
    if (live.stopping) {
      // kafkajs reports a crash of a join or fetch still under way when stop() disconnects
      // (its runner calls onCrash whether or not it is running). The drain already committed
      // what was processed; the rest is delivered again after restart: not a failure.
      log.warn({ err: error }, 'consumer crashed while stopping; shutdown goes on')
      return
    }
    live.joined = false
    live.outage ??= { since: now(), reason: error.message }
    live.outage.reason = error.message
    if (!restarting && !isRetriableBatchError(error)) {
      // A processing error that is not a fault of the broker or the sink: a defect to fix.
      log.fatal({ err: error }, 'consumer failed with a non-retriable error')
      deps.onFatal?.(error)
      return
    }
    crashes.occurred({ err: error, restarting }, error.message)
    if (!restarting) void restartConsumer(c)
  }

  async function runConsumer(): Promise<void> {
    const c = deps.driver.consumer({ groupId, maxBytesPerPartition: deps.maxBatchBytes })
    live.consumer = c
    c.onGroupEvent((e) => {
      if (live.consumer !== c) return // an abandoned consumer
      if (e.type === 'joined') {
        if (live.outage) log.info({ groupId, outageMs: now() - live.outage.since }, 'consumer back in its group')
        live.outage = undefined
        crashes.ended()
        parts.assignment.onJoined(e.assignment)
      } else if (e.type === 'rebalancing') parts.assignment.onRebalancing()
      else if (e.type === 'crashed') onCrashed(c, e.error, e.restarting)
    })
    await c.run({
      topics: [...ctx.inputs.keys()],
      fromBeginning: deps.fromBeginning,
      onBatch: parts.batches.onBatch,
      // Past transaction markers there is nothing to produce: commit (and store in the sink), so lag reaches 0.
      onSkipped: async ({ topic, partition, nextOffset, highWatermark }, commit) => {
        try {
          if (sink.offsets === 'sink' && ctx.inputs.has(topic)) {
            const slot = ctx.slotOf(topic, partition)
            await slot.serial(async () => {
              await sink.write({ records: [], position: { groupId, topic, partition, nextOffset }, cause: 'records', nowMs: now() })
              if (slot.stored === undefined || slot.stored < BigInt(nextOffset)) slot.stored = BigInt(nextOffset)
            })
          }
          await commit(nextOffset)
          // The markers read: what is left to read (0 once the markers were the partition's end).
          if (ctx.inputs.has(topic)) ctx.noteLag(topic, partition, BigInt(highWatermark) - BigInt(nextOffset))
        } catch (err) {
          log.warn({ err, partition, nextOffset }, 'commit past transaction markers failed; retried with the next batch')
        }
      },
    })
  }

  /** Replaces a consumer that kafkajs does not restart, with backoff, until one runs or the runner stops. */
  async function restartConsumer(old: BatchConsumer): Promise<void> {
    await old.disconnect().catch(() => undefined)
    for (let attempt = 0; !live.stopping && live.consumer === old; attempt++) {
      await sleep(backoffMs(attempt + 2))
      if (live.stopping || live.consumer !== old) return
      try {
        await runConsumer()
        return
      } catch (err) {
        crashes.occurred({ err }, (err as Error).message)
        const failed = live.consumer
        if (failed && failed !== old) await failed.disconnect().catch(() => undefined)
        live.consumer = old // retry from the same state
      }
    }
  }

  return {
    runConsumer,
    startGiveUpTimer() {
      giveUpTimer = setInterval(() => {
        const giveUpMs = deps.giveUpMs ?? 0
        const outage = live.outage
        if (giveUpMs <= 0 || !outage || live.stopping || now() - outage.since < giveUpMs) return
        clearInterval(giveUpTimer)
        const err = new AurenError('AUREN_ERR_BROKER_UNAVAILABLE', `consumer out of its group for ${now() - outage.since} ms (give-up time ${giveUpMs} ms): ${outage.reason}`)
        log.fatal({ err }, 'giving up')
        deps.onFatal?.(err)
      }, 1_000)
      giveUpTimer.unref()
    },
    stop() {
      clearInterval(giveUpTimer)
    },
  }
}
