/**
 * Produces AgentEvents to `auren.agent-events.v1` in Schema Registry wire format, keyed by
 * trace_id, either as fast as the broker takes them or paced by event time (`speed` × real time).
 * Used by `auren replay` and `auren simulate`.
 */
import type { RecordProducer } from '../runtime/kafka-client.ts'
import type { Serde } from '../runtime/serde.ts'
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
  /** Records per produce request in 'max' mode. Default 500. */
  readonly batchSize?: number
  /** Called after each acknowledged batch with the running count. */
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
 * Produces every event of every run; resolves with the number acknowledged.
 * @throws whatever the producer throws (broker unreachable after retries); the count of what
 *   was acknowledged before is reported through onProgress.
 */
export async function publishRuns(runs: readonly ReplayRun[], opts: PublishOptions): Promise<number> {
  const schemaId = await opts.serde.register(opts.topic, 'agent-event')
  const encode = (e: AgentEvent) => ({ topic: opts.topic, key: e.trace_id, value: opts.serde.encode(schemaId, 'agent-event', toAgentEventRecord(e)) })
  let sent = 0

  if (opts.speed === 'max') {
    const batchSize = opts.batchSize ?? 500
    const all = runs.flatMap((r) => r.events)
    for (let i = 0; i < all.length && !opts.signal?.aborted; i += batchSize) {
      const batch = all.slice(i, i + batchSize)
      await opts.producer.send(batch.map(encode))
      sent += batch.length
      opts.onProgress?.(sent)
    }
    return sent
  }

  const schedule = replaySchedule(runs, opts.speed)
  const t0 = Date.now()
  let i = 0
  while (i < schedule.length && !opts.signal?.aborted) {
    const due: AgentEvent[] = []
    const elapsed = Date.now() - t0
    while (i < schedule.length && schedule[i]!.atMs <= elapsed) due.push(schedule[i++]!.event)
    if (due.length > 0) {
      await opts.producer.send(due.map(encode))
      sent += due.length
      opts.onProgress?.(sent)
    } else {
      const wait = Math.min(250, schedule[i]!.atMs - elapsed)
      await new Promise((r) => setTimeout(r, Math.max(1, wait)))
    }
  }
  return sent
}
