/**
 * The enrichment app under benchmark: started as operators run it (a child process through
 * test/helpers/processes.ts), optionally with the V8 CPU profiler, and stopped with SIGTERM.
 */
import { existsSync, mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startApp, type AppProcess } from '../helpers/processes.ts'

/** What every benchmark phase is given by run.ts. */
export interface PhaseContext {
  /** Partitions of every topic the phase creates. */
  readonly partitions: number
  /** Simulator seed. */
  readonly seed: number
  /** Progress lines, to stderr. */
  readonly log: (line: string) => void
  /** Told every consumer group the phase creates (to delete at the end, even after a failure). */
  readonly trackGroup: (groupId: string) => void
}
import { delay, nowMs, withTimeout } from './stats.ts'

const running = new Set<AppProcess>()

/** SIGKILLs every app this module started that is still running (for an interrupted bench). */
export function killRunningApps(): void {
  for (const app of running) app.kill('SIGKILL')
}

/** Preload of the bench's CPU profiler (cpu-prof-preload.mjs): SIGUSR2 starts it, a second SIGUSR2 writes the file. */
export const PRELOAD = join(dirname(fileURLToPath(import.meta.url)), 'cpu-prof-preload.mjs')

/**
 * Starts the enrichment app on the topics of `prefix` and waits for /readyz.
 * @param opts.groupIdPrefix AUREN_GROUP_ID_PREFIX (default `<prefix>auren.`); a new one re-reads the input
 * @param opts.maxBatchBytes AUREN_MAX_BATCH_BYTES of the app (unset: the app's default)
 * @param opts.cpuProfFile preload cpu-prof-preload.mjs: SIGUSR2 starts the CPU profiler, a second
 *   SIGUSR2 writes the profile to this file
 */
export async function startEnrichment(
  prefix: string,
  opts: { cpuProfFile?: string; maxBatchBytes?: number; groupIdPrefix?: string; readyTimeoutMs?: number } = {},
): Promise<AppProcess> {
  const env: Record<string, string> = { AUREN_LOG_LEVEL: 'warn' }
  if (opts.groupIdPrefix !== undefined) env.AUREN_GROUP_ID_PREFIX = opts.groupIdPrefix
  if (opts.maxBatchBytes !== undefined) env.AUREN_MAX_BATCH_BYTES = String(opts.maxBatchBytes)
  if (opts.cpuProfFile) {
    mkdirSync(dirname(opts.cpuProfFile), { recursive: true })
    env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import ${PRELOAD}`.trim()
    env.AUREN_BENCH_CPU_PROF_FILE = opts.cpuProfFile
  }
  const app = await startApp('enrichment', prefix, env)
  running.add(app)
  void app.exited.then(() => running.delete(app))
  try {
    await app.waitReady(opts.readyTimeoutMs ?? 120_000)
  } catch (err) {
    app.kill('SIGKILL')
    throw err
  }
  return app
}

/** SIGTERM (graceful drain), SIGKILL after timeoutMs; resolves with the exit code or signal. */
export async function stopApp(app: AppProcess, timeoutMs = 30_000): Promise<number | string> {
  if (app.child.exitCode !== null || app.child.signalCode !== null) return app.exited
  app.kill('SIGTERM')
  try {
    return await withTimeout(app.exited, timeoutMs, 'app did not stop after SIGTERM')
  } catch {
    app.kill('SIGKILL')
    return app.exited
  }
}

/** Sum of every series of a metric in Prometheus text format whose labels contain `match` (e.g. `topic="x"`). */
export function metricSum(text: string, name: string, match = ''): number {
  let sum = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue
    const rest = line.slice(name.length)
    if (rest[0] !== '{' && rest[0] !== ' ') continue
    if (match && !rest.includes(match)) continue
    const value = Number(line.slice(line.lastIndexOf(' ') + 1))
    if (Number.isFinite(value)) sum += value
  }
  return sum
}

/**
 * Stops an app's CPU profiler (the second SIGUSR2 of cpu-prof-preload.mjs) and waits up to 15 s
 * for it to write `file`.
 * @returns the file's path, or undefined (logged) when the app wrote none in time
 */
export async function stopCpuProfile(app: AppProcess, appName: string, file: string, log: (line: string) => void): Promise<string | undefined> {
  app.kill('SIGUSR2')
  const until = nowMs() + 15_000
  while (!existsSync(file) && nowMs() < until) await delay(100)
  if (existsSync(file)) return file
  log(`the ${appName} app wrote no CPU profile to ${file}`)
  return undefined
}

/**
 * Waits until an app under measurement has stored positions for `total` records (its sink's
 * offsets table summed over partitions), logging progress every 5 s.
 * @param stored reads the stored position sum (records)
 * @param what the app's name and the verb of its progress line, e.g. `{ app: 'archival', done: 'archived' }`
 * @throws Error when the app exits or `timeoutMs` (ms, from `startMs`) passes first
 */
export async function waitStoredPositions(
  app: AppProcess,
  stored: () => Promise<number>,
  o: { total: number; startMs: number; timeoutMs: number; pollMs: number; what: { app: string; done: string }; log: (line: string) => void },
): Promise<void> {
  const deadline = o.startMs + o.timeoutMs
  let lastLog = o.startMs
  for (;;) {
    const done = await stored()
    if (done >= o.total) return
    if (!app.alive()) throw new Error(`${o.what.app} exited: ${app.output().slice(-2000)}`)
    if (nowMs() > deadline) throw new Error(`${o.what.app} did not catch up within ${o.timeoutMs} ms (${done}/${o.total})`)
    if (nowMs() - lastLog > 5_000) {
      lastLog = nowMs()
      o.log(`  ${done}/${o.total} ${o.what.done}`)
    }
    await delay(o.pollMs)
  }
}
