/**
 * Fault injection on the local stack, through `scripts/stack.sh` (the same script that started
 * it): SIGKILL the broker, stop PostgreSQL for a while, start either again with its data kept.
 * Used by the conformance suite's fault cases and by `auren chaos`.
 *
 * The stack instance is the one of `$AUREN_STACK_DIR` (default `~/.cache/auren/run`), with the
 * ports `scripts/stack.sh up` recorded in `$AUREN_STACK_DIR/ports.env`; point AUREN_STACK_DIR at
 * a stack nobody else uses while other tests run on the shared one.
 */
import { execFile } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stackDir } from './stack-env.ts'

const stackScript = join(dirname(fileURLToPath(import.meta.url)), '..', 'stack.sh')

/** A server of the local stack, as `scripts/stack.sh` names it. */
export type StackServer = 'kafka' | 'schema-registry' | 'postgres' | 'prometheus'

/**
 * Runs `bash scripts/stack.sh <args…>` on the stack of `$AUREN_STACK_DIR`.
 * @returns what the script printed (stdout and stderr)
 * @throws Error with the script's output when it exits non-zero or runs longer than timeoutMs
 *   (default 180 000 ms: a broker restart after SIGKILL takes 20–60 s on 2 cores)
 */
export function stackCommand(args: readonly string[], timeoutMs = 180_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', [stackScript, ...args], { env: { ...process.env, AUREN_STACK_DIR: stackDir() }, timeout: timeoutMs, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      const out = `${stdout}${stderr}`
      if (err) reject(new Error(`scripts/stack.sh ${args.join(' ')} failed (${err.message.split('\n')[0]}):\n${out.slice(-3000)}`))
      else resolve(out)
    })
  })
}

/** SIGKILLs a server (no shutdown at all). @throws Error when it was not running or did not die */
export async function killServer(server: Exclude<StackServer, 'postgres'>): Promise<void> {
  await stackCommand(['kill', server])
}

/** Stops a server as `stack.sh down` does (PostgreSQL: fast shutdown, data kept). */
export async function stopServer(server: StackServer): Promise<void> {
  await stackCommand(['stop', server])
}

/** Starts a server with its data kept and resolves once it answers (a no-op when it is up). */
export async function startServer(server: StackServer): Promise<void> {
  await stackCommand(['start', server])
}

/**
 * Starts whatever of the stack is down (`stack.sh up`): the way back after a fault, called in
 * `finally`/`afterEach` so a failed fault case never leaves later tests without a broker or
 * database.
 */
export async function restoreStack(): Promise<void> {
  await stackCommand(['up'], 300_000)
}

/** Resolves after ms milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * A broker outage: SIGKILL of the broker, `downMs` with no broker, then a restart through the
 * stack script. `during` runs while the broker is down (its failure is rethrown after the
 * restart). The stack is restored even when something fails.
 * @returns measured times in ms: from the kill to the restart command, and from the kill until
 *   the broker answered again (the outage clients saw)
 */
export async function brokerOutage(downMs: number, during?: () => Promise<void>): Promise<{ downMs: number; outageMs: number }> {
  const t0 = Date.now()
  let failure: unknown
  let restartAt = t0
  try {
    await killServer('kafka')
    await Promise.all([sleep(downMs), during?.().catch((err: unknown) => void (failure = err))])
  } finally {
    restartAt = Date.now()
    await startServer('kafka').catch(async () => restoreStack())
  }
  if (failure) throw failure
  return { downMs: restartAt - t0, outageMs: Date.now() - t0 }
}

/**
 * A database outage: PostgreSQL stopped (fast shutdown, data kept) for `downMs`, then started
 * through the stack script; `during` runs while it is down (its failure is rethrown after the
 * restart). The stack is restored even when something fails.
 * @returns measured ms from the stop until PostgreSQL answered again
 */
export async function databaseOutage(downMs: number, during?: () => Promise<void>): Promise<{ outageMs: number }> {
  const t0 = Date.now()
  let failure: unknown
  try {
    await stopServer('postgres')
    await Promise.all([sleep(downMs), during?.().catch((err: unknown) => void (failure = err))])
  } finally {
    await startServer('postgres').catch(async () => restoreStack())
  }
  if (failure) throw failure
  return { outageMs: Date.now() - t0 }
}
