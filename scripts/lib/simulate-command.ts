/** `auren simulate`: synthetic events at a fixed rate for a fixed duration. */
import { randomInt } from 'node:crypto'
import { createSimulator } from '../sources/simulator.ts'
import { toAgentEventRecord } from '../../schemas/index.ts'
import { sendRetrying, type RetryPolicy } from '../sources/publish-retry.ts'
import type { CliContext } from './cli-context.ts'
import { createProgress } from './progress.ts'

/** The seed of a run and whether the user chose it. */
export interface SeedChoice {
  /** 32-bit PRNG seed. */
  readonly seed: number
  /** true when given with --seed (a repeated seed repeats the events and their ids). */
  readonly chosen: boolean
}

/**
 * The run's seed: the one given, else a fresh random 32-bit seed, so two runs without `--seed`
 * produce different event ids (the same ids would be dropped by dedup as repeats).
 */
export function resolveSeed(given: number | undefined): SeedChoice {
  if (given !== undefined && Number.isFinite(given)) return { seed: given, chosen: true }
  return { seed: randomInt(0, 2 ** 31), chosen: false }
}

/** The line printed (stderr) before a run: which seed, and what repeating it means. */
export function seedNotice(s: SeedChoice): string {
  return s.chosen
    ? `seed ${s.seed} (given): a run with this seed repeats the same events and event ids; a pipeline that already counted them drops them as duplicates`
    : `seed ${s.seed} (random; pass --seed ${s.seed} to repeat this run)`
}

/** Most events generated and sent in one round of the pacing loop (5 produce requests). */
const CATCH_UP_RECORDS = 2_000

/** Options of the simulate command. `rate` in events/s, `duration` in seconds. */
export interface SimulateOptions {
  rate: number
  duration: number
  seed: number
  progress: boolean
  /**
   * Events already acknowledged by an earlier run with the same seed (`--skip`): generated and
   * dropped, so the run continues the same sequence of event ids. Default 0.
   */
  skip?: number
  /** Retrying through broker outages (`--give-up-after`, messages on stderr). */
  retry?: RetryPolicy
}

/**
 * Produces `rate × duration` events (the first `skip` of them excepted), paced every 10 ms,
 * retrying through broker outages; resolves with the number acknowledged by this run.
 * @throws PublishInterruptedError when the broker refused events for the give-up time; its `sent`
 *   counts the skipped events too (the `--skip` that resumes).
 */
export async function runSimulate(ctx: CliContext, opts: SimulateOptions, signal?: AbortSignal): Promise<number> {
  const sim = createSimulator({ seed: opts.seed })
  const schemaId = await ctx.serde.register(ctx.topics.agentEvents, 'agent-event')
  const total = Math.round(opts.rate * opts.duration)
  const progress = createProgress('simulate', total, opts.progress)
  const skip = Math.min(total, Math.max(0, Math.floor(opts.skip ?? 0)))
  for (let i = 0; i < skip; i++) sim.next(Date.now() * 1000)
  const retry: RetryPolicy = { ...opts.retry, ...(signal ? { signal } : {}) }
  // Pacing restarts after the skipped events: they count as sent at t0.
  const t0 = Date.now()
  let sent = skip
  try {
    while (sent < total && !signal?.aborted) {
      // At most CATCH_UP_RECORDS per round: after a broker outage the overdue events are sent in
      // rounds instead of being generated and encoded at once, which would block the event loop.
      const due = Math.min(CATCH_UP_RECORDS, Math.min(total, skip + Math.floor(((Date.now() - t0) / 1000) * opts.rate)) - sent)
      if (due <= 0) {
        await new Promise((r) => setTimeout(r, 10))
        continue
      }
      const nowUs = Date.now() * 1000
      const records = Array.from({ length: due }, () => {
        const e = sim.next(nowUs)
        return { topic: ctx.topics.agentEvents, key: e.trace_id, value: ctx.serde.encode(schemaId, 'agent-event', toAgentEventRecord(e)) }
      })
      await sendRetrying(ctx.producer, records, retry, sent, (n) => {
        sent += n
        progress.update(sent)
      })
    }
  } finally {
    progress.stop()
  }
  return sent - skip
}
