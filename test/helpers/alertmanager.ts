/**
 * A test's own Alertmanager (the stack's binary, the repository's routing rendered by
 * scripts/alertmanager-config.sh) whose webhook, Slack and PagerDuty receivers all point at a
 * local HTTP receiver standing in for those services, plus that receiver.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { createServer as createNetServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { waitUntil } from './wait-until.ts'

const REPO = join(import.meta.dirname, '..', '..')

/** One request the receiver got. */
export interface Received {
  /** `/webhook`, `/webhook/replay`, `/slack` or `/pagerduty`. */
  path: string
  body: Record<string, unknown>
  atMs: number
}

/** The local receiver. */
export interface Receiver {
  baseUrl: string
  readonly received: Received[]
  /** Requests to one path. */
  on(path: string): Received[]
  close(): Promise<void>
}

/** Starts the receiver on a free port of 127.0.0.1; every POST is answered 200 and recorded. */
export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      let body: Record<string, unknown> = {}
      try {
        body = JSON.parse(text) as Record<string, unknown>
      } catch {
        body = { raw: text }
      }
      received.push({ path: new URL(req.url ?? '/', 'http://x').pathname, body, atMs: Date.now() })
      res.writeHead(req.url?.startsWith('/pagerduty') ? 202 : 200, { 'content-type': 'application/json' })
      res.end(req.url?.startsWith('/pagerduty') ? '{"status":"success","message":"Event processed"}' : 'ok')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    received,
    on: (path) => received.filter((r) => r.path === path),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const s = createNetServer()
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  const port = (s.address() as { port: number }).port
  await new Promise((resolve) => s.close(resolve))
  return port
}

/** A running test Alertmanager. */
export interface TestAlertmanager {
  url: string
  /** Stops the process (SIGTERM) and waits for its exit; the data dir is kept for {@link start}. */
  stop(): Promise<void>
  /** Starts it again on the same port and data (after {@link stop}). */
  start(): Promise<void>
  /** Stops it and removes its files. */
  close(): Promise<void>
}

/** Options: Alertmanager timings (short ones for tests). */
export interface TestAlertmanagerOptions {
  receiverBaseUrl: string
  groupWait?: string
  groupInterval?: string
  repeatInterval?: string
}

/**
 * Renders the repository's alertmanager.yml with every receiver at `receiverBaseUrl` and starts
 * `prometheus-alertmanager` on a free port (clustering off).
 * @throws when the config does not render or the server is not ready within 20 s
 */
export async function startTestAlertmanager(o: TestAlertmanagerOptions): Promise<TestAlertmanager> {
  const dir = mkdtempSync(join(tmpdir(), 'auren-am-'))
  const render = spawnSync('bash', [join(REPO, 'scripts', 'alertmanager-config.sh'), dir], {
    encoding: 'utf8',
    env: {
      ...process.env,
      AUREN_ALERT_RECEIVER_BASE_URL: o.receiverBaseUrl,
      AUREN_ALERT_GROUP_WAIT: o.groupWait ?? '1s',
      AUREN_ALERT_GROUP_INTERVAL: o.groupInterval ?? '5s',
      AUREN_ALERT_REPEAT_INTERVAL: o.repeatInterval ?? '1h',
    },
  })
  if (render.status !== 0) throw new Error(`alertmanager config did not render: ${render.stderr}`)
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  let child: ChildProcess | null = null
  const start = async () => {
    child = spawn('prometheus-alertmanager', [
      `--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`, `--web.external-url=${url}`, '--cluster.listen-address=', '--log.level=warn',
    ], { stdio: ['ignore', 'ignore', 'inherit'] })
    await waitUntil(`Alertmanager ready at ${url}`, async () => (await fetch(`${url}/-/ready`)).ok, { timeoutMs: 20_000, everyMs: 100 })
  }
  const stop = async () => {
    const c = child
    if (!c || c.exitCode !== null) return
    const exited = new Promise((resolve) => c.once('exit', resolve))
    c.kill('SIGTERM')
    await exited
  }
  await start()
  return { url, stop, start, close: async () => { await stop(); rmSync(dir, { recursive: true, force: true }) } }
}
