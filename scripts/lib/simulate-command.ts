/** `auren simulate`: synthetic events at a fixed rate for a fixed duration. */
import { createSimulator } from '../../processors/sources/simulator.ts'
import { toAgentEventRecord } from '../../schemas/index.ts'
import type { CliContext } from './cli-context.ts'
import { createProgress } from './progress.ts'

/** Options of the simulate command. `rate` in events/s, `duration` in seconds. */
export interface SimulateOptions {
  rate: number
  duration: number
  seed: number
  progress: boolean
}

/** Produces `rate × duration` events, paced every 10 ms; resolves with the number acknowledged. */
export async function runSimulate(ctx: CliContext, opts: SimulateOptions, signal?: AbortSignal): Promise<number> {
  const sim = createSimulator({ seed: opts.seed })
  const schemaId = await ctx.serde.register(ctx.topics.agentEvents, 'agent-event')
  const total = Math.round(opts.rate * opts.duration)
  const progress = createProgress('simulate', total, opts.progress)
  const t0 = Date.now()
  let sent = 0
  try {
    while (sent < total && !signal?.aborted) {
      const due = Math.min(total, Math.floor(((Date.now() - t0) / 1000) * opts.rate)) - sent
      if (due <= 0) {
        await new Promise((r) => setTimeout(r, 10))
        continue
      }
      const nowUs = Date.now() * 1000
      const records = Array.from({ length: due }, () => {
        const e = sim.next(nowUs)
        return { topic: ctx.topics.agentEvents, key: e.trace_id, value: ctx.serde.encode(schemaId, 'agent-event', toAgentEventRecord(e)) }
      })
      await ctx.producer.send(records)
      sent += due
      progress.update(sent)
    }
  } finally {
    progress.stop()
  }
  return sent
}
