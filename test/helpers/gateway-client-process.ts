/**
 * The gateway's clients in a process of their own (gateway-client-worker.ts), for the gateway
 * bench (test/bench/gateway-stream.ts), the tier budget test
 * (test/integration/gateway-budgets.test.ts) and the slow-client test's reading client
 * (test/integration/gateway-slow-client.test.ts).
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { withTimeout } from '../bench/stats.ts'

/**
 * One forked WebSocket client process of the gateway (gateway-client-worker.ts, its requests),
 * answering one request at a time. Frames are timed in that small process, so a pause of the
 * process that drives a test or a bench (its garbage collection, its producer) is not counted as
 * the stream's latency.
 */
export class ClientProcess {
  private readonly child: ChildProcess
  private chain: Promise<unknown> = Promise.resolve()
  private readonly exited: Promise<void>

  constructor() {
    this.child = fork(fileURLToPath(new URL('./gateway-client-worker.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()))
  }

  /** Sends a request and resolves with its answer; rejects on a failure answer or an exit. */
  request<T = Record<string, unknown>>(msg: Record<string, unknown>): Promise<T> {
    const next = this.chain.then(() => new Promise<T>((resolve, reject) => {
      const onMessage = (m: { type: string; message?: string }) => {
        this.child.off('exit', onExit)
        if (m.type === 'done') resolve(m as T)
        else reject(new Error(`client process: ${msg.type as string} failed: ${m.message}`))
      }
      const onExit = (code: number | null) => {
        this.child.off('message', onMessage)
        reject(new Error(`client process exited (${code}) during ${msg.type as string}`))
      }
      this.child.once('message', onMessage)
      this.child.once('exit', onExit)
      this.child.send(msg)
    }))
    this.chain = next.catch(() => undefined)
    return next
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    await this.request({ type: 'close' }).catch(() => undefined)
    await withTimeout(this.exited, 10_000, 'client process did not exit').catch(() => this.child.kill('SIGKILL'))
  }
}
