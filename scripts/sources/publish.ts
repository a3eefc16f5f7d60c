/**
 * Produces AgentEvents to `auren.agent-events.v1` in Schema Registry wire format, keyed by
 * trace_id, either as fast as the broker takes them or paced by event time (`speed` × real time).
 * Used by `auren replay` and `auren simulate`.
 */
import type { RecordProducer } from '../../processors/runtime/kafka/kafka-client.ts'
import { sendRetrying, type RetryPolicy } from './publish-retry.ts'
import type { Serde } from '../../processors/runtime/kafka/serde.ts'
import { toAgentEventRecord, type AgentEvent } from '../../schemas/index.ts'

/** How to pace a replay. */
export interface PublishOptions {
  readonly producer: RecordProducer
  readonly serde: Serde
  /** Concrete input topic name (with prefix). */
  readonly topic: string
  /**
   * 'max': as fast as possible, in batches of `batchSize`; a number: time compression factor
   * (2 = twice as fast as recorded): each run's events are sent at (event time − run start) / speed
   * after the start of the replay, all runs side by side.
   */
  readonly speed: 'max' | number
  /** Records per send in 'max' mode. Default 400 (one produce request, see publish-retry.ts). */
  readonly batchSize?: number
  /**
   * Events (in send order, which is deterministic for the same runs and options) already
   * acknowledged by an earlier run that stopped: they are not sent again. A paced replay starts
   * with the first event not skipped. Default 0.
   */
  readonly skip?: number
  /** How to retry sends through a broker outage (publish-retry.ts); default: give up after 5 min. */
  readonly retry?: RetryPolicy
  /** Called after each acknowledged request with the running count (skipped events included). */
  readonly onProgress?: (sent: number) => void
  /** Stops early when aborted (e.g. Ctrl-C); what was sent stays sent. */
  readonly signal?: AbortSignal
}

/** A group of events replayed together (one recorded run); events ordered by timestamp. */
export interface ReplayRun {
  readonly events: readonly AgentEvent[]
}

/**
 * Shifts a run's timestamps so that it starts at `startUs`, compressing gaps by `speed`
 * (`--rebase-time`): t' = startUs + (t − runStart) / speed. Order and relative spacing are kept.
 */
export function rebaseRun(events: readonly AgentEvent[], startUs: number, speed: number): AgentEvent[] {
  if (events.length === 0) return []
  const runStart = Math.min(...events.map((e) => e.timestamp))
  return events.map((e) => ({ ...e, timestamp: Math.round(startUs + (e.timestamp - runStart) / speed) }))
}

/**
 * When each event is due in a paced replay: all runs start together at 0 ms, and each event
 * comes (event time − its run's start) / speed later; ties keep run and event order.
 * @param speed time compression factor (> 0)
 * @returns events with their due time in ms after the start of the replay, in due order
 */
export function replaySchedule(runs: readonly ReplayRun[], speed: number): Array<{ atMs: number; event: AgentEvent }> {
  return runs
    .flatMap((r) => {
      const start = r.events.length > 0 ? Math.min(...r.events.map((e) => e.timestamp)) : 0
      return r.events.map((e) => ({ atMs: (e.timestamp - start) / 1000 / speed, event: e }))
    })
    .sort((a, b) => a.atMs - b.atMs)
}

/**
 * Produces every event of every run (after the first `skip`), retrying through broker outages;
 * resolves with the number acknowledged by this call.
 * @throws PublishInterruptedError (publish-retry.ts) when the broker refused a request for the
 *   retry policy's give-up time, or the signal was aborted while retrying; its `sent` counts the
 *   skipped events too, so it is the `skip` of the run that resumes.
 */
export async function publishRuns(runs: readonly ReplayRun[], opts: PublishOptions): Promise<number> {
  const schemaId = await opts.serde.register(opts.topic, 'agent-event')
  const encode = (e: AgentEvent) => ({ topic: opts.topic, key: e.trace_id, value: opts.serde.encode(schemaId, 'agent-event', toAgentEventRecord(e)) })
  const skip = Math.max(0, Math.floor(opts.skip ?? 0))
  const retry: RetryPolicy = { ...opts.retry, ...(opts.signal ? { signal: opts.signal } : {}) }
  let sent = 0
  const send = async (events: readonly AgentEvent[]) => {
    await sendRetrying(opts.producer, events.map(encode), retry, skip + sent, (n) => {
      sent += n
      opts.onProgress?.(skip + sent)
    })
  }

  if (opts.speed === 'max') {
    const batchSize = opts.batchSize ?? 400
    const all = runs.flatMap((r) => r.events).slice(skip)
    for (let i = 0; i < all.length && !opts.signal?.aborted; i += batchSize) await send(all.slice(i, i + batchSize))
    return sent
  }

  const schedule = replaySchedule(runs, opts.speed).slice(skip)
  const t0 = Date.now() - (schedule[0]?.atMs ?? 0)
  let i = 0
  while (i < schedule.length && !opts.signal?.aborted) {
    const due: AgentEvent[] = []
    const elapsed = Date.now() - t0
    while (i < schedule.length && schedule[i]!.atMs <= elapsed) due.push(schedule[i++]!.event)
    if (due.length > 0) {
      await send(due)
    } else {
      const wait = Math.min(250, schedule[i]!.atMs - elapsed)
      await new Promise((r) => setTimeout(r, Math.max(1, wait)))
    }
  }
  return sent
}
