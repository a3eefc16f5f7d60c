/** `auren replay`: load the recorded runs, report what was skipped, produce the events. */
import { loadTraceRuns } from '../sources/trace-files.ts'
import { publishRuns, rebaseRun } from '../sources/publish.ts'
import type { RetryPolicy } from '../sources/publish-retry.ts'
import type { AttributionRule } from '../sources/chatdev-attribution.ts'
import type { CliContext } from './cli-context.ts'
import { createProgress } from './progress.ts'

/** Options of the replay command (see `auren replay --help`). */
export interface ReplayOptions {
  traces: string
  speed: 'max' | number
  rebaseTime: boolean
  userId?: string
  attribution?: AttributionRule
  progress: boolean
  /** Events already acknowledged by an earlier replay of the same runs and options (`--skip`). */
  skip?: number
  /** Retrying through broker outages (`--give-up-after`, messages on stderr). */
  retry?: RetryPolicy
}

/** What a replay did: counts and a printable report. */
export interface ReplayReport {
  runs: number
  events: number
  skippedFiles: Array<{ file: string; reason: string }>
  skippedInput: Record<string, number>
  text: string
}

/**
 * Loads, converts and produces every run under `opts.traces` (after the first `opts.skip` events).
 * @throws when the folder cannot be read; PublishInterruptedError when the broker refused events
 *   for the give-up time (its `sent` is the `--skip` that resumes).
 */
export async function runReplay(ctx: CliContext, opts: ReplayOptions, signal?: AbortSignal): Promise<ReplayReport> {
  const found = loadTraceRuns(opts.traces, { userId: opts.userId ?? null, attribution: opts.attribution })
  const nowUs = Date.now() * 1000
  const runs = found.runs.map((r) => ({ ...r, events: opts.rebaseTime ? rebaseRun(r.events, nowUs, opts.speed === 'max' ? 1 : opts.speed) : r.events }))
  const total = runs.reduce((n, r) => n + r.events.length, 0)
  const progress = createProgress('replay', total, opts.progress)
  let sent: number
  try {
    sent = await publishRuns(runs, { producer: ctx.producer, serde: ctx.serde, topic: ctx.topics.agentEvents, speed: opts.speed, skip: opts.skip ?? 0, ...(opts.retry ? { retry: opts.retry } : {}), onProgress: (n) => progress.update(n), signal })
  } finally {
    progress.stop()
  }
  const skippedInput: Record<string, number> = {}
  for (const r of found.runs) for (const [reason, n] of Object.entries(r.skipped)) skippedInput[reason] = (skippedInput[reason] ?? 0) + n
  const lines = [`replayed ${sent} events${opts.skip ? ` (after skipping the first ${opts.skip}, sent before)` : ''} from ${runs.length} runs (${runs.filter((r) => r.kind === 'chatdev').length} ChatDev, ${runs.filter((r) => r.kind === 'who-and-when').length} Who&When) to ${ctx.topics.agentEvents}`]
  if (found.skipped.length > 0) {
    const byReason = new Map<string, string[]>()
    for (const s of found.skipped) byReason.set(s.reason, [...(byReason.get(s.reason) ?? []), s.file])
    lines.push(`files not replayed: ${found.skipped.length}`)
    for (const [reason, files] of byReason) {
      lines.push(`  ${files.length} × ${reason}${files.length <= 3 ? `: ${files.join(', ')}` : ` (e.g. ${files[0]})`}`)
    }
  }
  const inputSkips = Object.entries(skippedInput).sort(([, a], [, b]) => b - a)
  if (inputSkips.length > 0) lines.push('log input not converted, by reason:', ...inputSkips.map(([reason, n]) => `  ${reason}: ${n}`))
  return { runs: runs.length, events: sent, skippedFiles: found.skipped, skippedInput, text: lines.join('\n') }
}
