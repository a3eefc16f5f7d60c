/**
 * Starts processor apps as real child processes (`node --import tsx <main.ts>`), as operators
 * run them, so tests can SIGKILL and SIGTERM them.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stackEnv } from './stack-env.ts'

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** A running app process. */
export interface AppProcess {
  readonly child: ChildProcess
  /** `127.0.0.1:<port>` of its /metrics, /healthz, /readyz. */
  readonly address: string
  /** Everything it printed (pino JSON lines on stdout, anything on stderr). */
  output(): string
  /** True until the process has exited (by itself or by a signal). */
  alive(): boolean
  /** Resolves with the exit code (or signal name) when the process ends. */
  readonly exited: Promise<number | string>
  /** Polls /readyz until 200, or throws after timeoutMs with the process output. */
  waitReady(timeoutMs?: number): Promise<void>
  /** Fetches and returns /metrics text. */
  metrics(): Promise<string>
  kill(signal: NodeJS.Signals): void
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}

/**
 * Spawns `processors/<app>/main.ts` with the stack's addresses, the given topic prefix and extra env.
 */
export async function startApp(app: string, prefix: string, extraEnv: Record<string, string> = {}): Promise<AppProcess> {
  return startAppScript(app, join('processors', app, 'main.ts'), prefix, extraEnv)
}

/** Spawns a processor app's main script at `script` (repo-relative, e.g. a test processor) as startApp does. */
export async function startAppScript(name: string, script: string, prefix: string, extraEnv: Record<string, string> = {}): Promise<AppProcess> {
  const env = stackEnv()
  const port = await freePort()
  return spawnScript(name, script, port, {
    AUREN_KAFKA_BROKERS: env.kafkaBrokers.join(','),
    AUREN_SCHEMA_REGISTRY_URL: env.schemaRegistryUrl,
    AUREN_TOPIC_PREFIX: prefix,
    AUREN_GROUP_ID_PREFIX: `${prefix}auren.`,
    AUREN_HTTP_PORT: String(port),
    AUREN_LOG_LEVEL: 'info',
    ...extraEnv,
  })
}

/**
 * Spawns the REST gateway (`gateway/server.ts`) on a free port of 127.0.0.1, reading the stack's
 * PostgreSQL; `extraEnv` carries its AUREN_GATEWAY_* settings (JWT secret or JWKS URL, schema…).
 * Its /readyz answers 200 once the rollup tables exist.
 */
export async function startGateway(extraEnv: Record<string, string>): Promise<AppProcess> {
  const port = await freePort()
  return spawnScript('gateway', join('gateway', 'server.ts'), port, {
    AUREN_DATABASE_URL: stackEnv().databaseUrl,
    AUREN_GATEWAY_HTTP_HOST: '127.0.0.1',
    AUREN_GATEWAY_HTTP_PORT: String(port),
    AUREN_GATEWAY_LOG_LEVEL: 'info',
    ...extraEnv,
  })
}

/** Spawns `node --import tsx <script>` (path relative to the repo root) listening on `port`. */
function spawnScript(name: string, script: string, port: number, env: Record<string, string>): AppProcess {
  const app = name
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, script)], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()))
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)))
  const address = `127.0.0.1:${port}`
  let ended = false
  void exited.then(() => (ended = true))
  return {
    child,
    address,
    exited,
    output: () => out,
    alive: () => child.exitCode === null && child.signalCode === null,
    kill: (signal) => void child.kill(signal),
    metrics: async () => (await fetch(`http://${address}/metrics`)).text(),
    async waitReady(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs
      while (Date.now() < deadline) {
        if (ended) throw new Error(`${app} exited before it was ready:\n${out}`)
        try {
          const res = await fetch(`http://${address}/readyz`)
          if (res.status === 200) return
        } catch {
          // not listening yet
        }
        await new Promise((r) => setTimeout(r, 200))
      }
      throw new Error(`${app} not ready after ${timeoutMs} ms:\n${out.slice(-4000)}`)
    },
  }
}
