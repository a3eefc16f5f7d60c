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
import { randomUUID } from 'node:crypto'
import { stackDir, stackEnv } from './stack-env.ts'
import { createKafkaDriver } from '../../processors/runtime/kafka/kafka-client.ts'
import { createLogger } from '../../processors/runtime/ops/logger.ts'

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
  await waitForBrokerUsable()
}

/**
 * Waits until the restarted broker does real work again: it creates a topic with a leader, takes
 * a record and deletes the topic. The stack script's readiness probe only lists topics, and right
 * after an unclean restart the broker may still refuse a new topic's partitions for a few seconds
 * ("This server does not host this topic-partition"), which would fail the next test's set-up.
 * @throws Error with the last failure when that does not succeed within timeoutMs
 */
export async function waitForBrokerUsable(timeoutMs = 90_000): Promise<void> {
  const driver = createKafkaDriver({ brokers: stackEnv().kafkaBrokers, clientId: 'auren-stack-probe', log: createLogger('stack-probe', 'fatal') })
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    const topic = `auren-probe-${randomUUID().slice(0, 8)}`
    try {
      const admin = await driver.admin()
      try {
        await admin.ensureTopics([{ topic, partitions: 1 }])
        const producer = await driver.producer()
        await producer.send([{ topic, key: 'probe', value: Buffer.from('probe') }]).finally(() => producer.disconnect())
        await admin.deleteTopics([topic]).catch(() => undefined)
        return
      } finally {
        await admin.disconnect()
      }
    } catch (err) {
      last = err
      await sleep(1_000)
    }
  }
  throw new Error(`broker not usable within ${timeoutMs} ms after its restart: ${(last as Error)?.message}`)
}

/** Resolves after ms milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * A broker outage: SIGKILL of the broker, `downMs` with no broker, then a restart through the
 * stack script. `during` runs while the broker is down (its failure is rethrown after the
 * restart). The stack is restored even when something fails.
 * @returns measured times in ms: from the kill to the restart command, and from the kill until
 *   the broker works again (waitForBrokerUsable; the outage clients saw)
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
    // The stack script's own readiness probe starts a JVM per attempt, which on 2 busy cores
    // takes longer than the broker's start: start without it and probe with the Kafka client.
    await stackCommand(['start', 'kafka', '--no-wait']).catch(async () => restoreStack())
    await waitForBrokerUsable(180_000).catch(async () => restoreStack())
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
