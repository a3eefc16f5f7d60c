/**
 * The runner: consume → decode → transform → sink → commit the acknowledged position, plus
 * punctuation, per-partition state and several inputs, for any ProcessorDefinition. This module
 * composes the parts (runner-context.ts lists them) and owns start, stop and health.
 *
 * Commit discipline (sinks/sink.ts): a partition batch's outputs, dead letters and state go to
 * the sink with the batch's position; the position is committed (or trusted, when the sink stores
 * it) only once the sink acknowledged it (acknowledgement.ts). Anything failing before that
 * delivers the batch again from the last acknowledged position, with the partition's state rolled
 * back to its last saved value. Batches and ticks of one partition run one at a time, in order.
 *
 * Positions of sinks that store offsets (`offsets: 'sink'`): on (re)assignment the runner reads
 * the stored offset (assignment.ts); records below it are skipped (applied before); the first
 * batch after an assignment that starts past it makes the runner seek back to it, once
 * (position.ts); any later gap is a read_committed gap (transaction markers, aborted records) and
 * is accepted.
 *
 * Faults: a batch failing with a retriable error (sink or broker unreachable) is retried with
 * backoff (batch-loop.ts); a consumer that crashed (broker unreachable) is restarted until it
 * rejoins (consumer-supervisor.ts); the broker or registry being down at start is waited out.
 * Only a non-retriable error, or an outage longer than `giveUpMs`, ends the process (onFatal).
 * Lag is exported for every assigned partition on a timer (lag-monitor.ts).
 */
import type { TopicNames } from '../../schemas/index.ts'
import type { LagObservation, ProcessorDefinition } from './define-processor.ts'
import type { HealthSource } from './ops/http.ts'
import { startLagMonitor, type OffsetRange } from './lag-monitor.ts'
import { createEpisodeLog } from './ops/episode-log.ts'
import { backoffMs } from './ops/backoff.ts'
import { createRunnerContext, isRetriableBatchError, sleep, type RunnerDeps } from './runner-context.ts'
import { createAssignment } from './assignment.ts'
import { createRecordHandler } from './record-handler.ts'
import { createAcknowledgement } from './acknowledgement.ts'
import { createBatchLoop } from './batch-loop.ts'
import { createPunctuation } from './punctuation.ts'
import { createConsumerSupervisor } from './consumer-supervisor.ts'

export type { LagObservation } from './define-processor.ts'
export { isRetriableBatchError, type RunnerDeps } from './runner-context.ts'

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
  const ctx = createRunnerContext(def, deps)
  const { now, topics, inputs, groupId, processor, log, m, sink, slots, lagMonitors, live } = ctx
  const assignment = createAssignment(ctx)
  const ack = createAcknowledgement(ctx)
  const batches = createBatchLoop(ctx, { handleRecord: createRecordHandler(ctx, observe ?? def.observe), assignment, ack })
  const punctuation = createPunctuation(ctx, { assignment, ack })
  const supervisor = createConsumerSupervisor(ctx, { assignment, batches })

  let stopPromise: Promise<void> | undefined
  let sinkStarted = false

  /** Next offset per partition the processor holds: the sink's stored one, else the group's committed one. */
  async function heldPositions(topic: string, partitions: readonly number[]): Promise<Map<number, string | undefined>> {
    const committed = await ctx.admin.committedOffsets(groupId, topic)
    const stored = sink.offsets === 'sink' ? await sink.storedOffsets!(groupId, topic, partitions) : new Map<number, string>()
    const out = new Map<number, string | undefined>()
    for (const p of partitions) {
      const c = committed.get(p)
      out.set(p, stored.get(p) ?? (c !== undefined && BigInt(c) >= 0n ? c : undefined))
    }
    return out
  }

  async function offsetRanges(topic: string): Promise<Map<number, OffsetRange>> {
    return ctx.admin.use((a) => a.offsetRanges(topic))
  }

  function readiness(): { ready: boolean; detail: Record<string, unknown> } {
    // The lag monitors read offsets every lagIntervalMs: their failure is the first sign of an
    // unreachable broker (or sink), well before the consumer exhausts its retries.
    const offsetsError = [...lagMonitors.values()].map((l) => l.lastError()).find((e) => e !== undefined)
    const { stopping, outage, joined, sinkFailure, assignment: assigned } = live
    const retrying = batches.retrying
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
    return { ready, detail: { groupId, joined, assignment: assigned, ...(reason ? { reason } : {}) } }
  }

  return {
    groupId,
    topics,
    health: { healthy: () => !live.stopping, ready: readiness },
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
            await sink.start({ topics, driver: deps.driver, serde: deps.serde, log, registry: deps.registry, processor, groupId, now, acknowledge: ack.acknowledge, fail: ack.fail })
            sinkStarted = true
          }
          if (!sink.takesDeadLetters) live.producer ??= await deps.driver.producer()
          await supervisor.runConsumer()
          live.outage = undefined
          startFailures.ended()
          break
        } catch (err) {
          const c = live.consumer
          live.consumer = undefined
          await c?.disconnect().catch(() => undefined)
          if (live.stopping) return // stop() during start: nothing to run
          const giveUpMs = deps.giveUpMs ?? 0
          if (!isRetriableBatchError(err) || (giveUpMs > 0 && now() - since >= giveUpMs)) throw err
          live.outage = { since, reason: (err as Error).message }
          startFailures.occurred({ err }, (err as Error).message)
          await sleep(backoffMs(attempt))
          if (live.stopping) return
        }
      }
      for (const topic of inputs.keys()) {
        lagMonitors.set(topic, startLagMonitor({
          processor, topic, gauge: m.consumerLag, assigned: () => live.assignment[topic] ?? [], offsetRanges: () => offsetRanges(topic),
          positions: (partitions) => heldPositions(topic, partitions), log, intervalMs: deps.lagIntervalMs ?? 5_000,
          measured: (partition, lag) => void (ctx.slotOf(topic, partition).lagRecords = lag),
        }))
      }
      supervisor.startGiveUpTimer()
      punctuation.start()
      log.info({ inputs: [...inputs.keys()], sink: sink.kind, groupId, delivery: deps.delivery ?? 'at-least-once', punctuationMs: punctuation.enabled ? punctuation.intervalMs : null }, 'processor started')
    },
    stop() {
      stopPromise ??= (async () => {
        live.stopping = true
        punctuation.stop()
        supervisor.stop()
        for (const l of lagMonitors.values()) l.stop()
        log.info('stopping: no more fetches, draining the batch in progress')
        const graceMs = deps.shutdownGraceMs ?? 10_000
        let timer: NodeJS.Timeout | undefined
        const drained = await Promise.race([
          Promise.allSettled([batches.inFlight() ?? Promise.resolve(), ...[...slots.values()].map((s) => s.serial(async () => undefined))]).then(() => true),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
        ])
        clearTimeout(timer)
        if (!drained) log.warn({ graceMs }, 'batch in progress did not finish within the grace time; it will be redelivered')
        const c = live.consumer
        const producer = live.producer
        const steps: Array<[string, (() => Promise<void>) | undefined]> = [
          ['sink close', () => sink.close()], // a buffered sink flushes; its acknowledgements commit through the consumer
          ['acknowledged commits', () => ack.settled()],
          ['consumer stop', c && (() => c.stop())],
          ['consumer disconnect', c && (() => c.disconnect())],
          ['producer disconnect', producer && (() => producer.disconnect())],
          ['admin disconnect', () => ctx.admin.close()],
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
