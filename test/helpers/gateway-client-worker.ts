/**
 * A WebSocket client process of the gateway (gateway-client-process.ts forks it): the gateway
 * bench (test/bench/gateway-stream.ts) forks several, so that parsing frames for hundreds of
 * subscribers does not run on one event loop and inflate the latency it attributes to the
 * gateway; the tier budget test forks one, so that its frames are not timed on the test's own
 * event loop.
 *
 * Driven over the fork IPC channel, one request at a time, each answered with `{ type: 'done', … }`:
 * - `{ type: 'open', url, token, count }`: opens `count` WebSocket connections (Bearer token on the
 *   upgrade) in waves of 250; answers `{ welcomed }` (connections that got `welcome`).
 * - `{ type: 'held' }`: answers `{ open }` (welcomed connections still open).
 * - `{ type: 'subscribe', keep }`: closes all but `keep` open connections, subscribes each kept
 *   one to `events`; answers once every `subscribed` arrived.
 * - `{ type: 'measure', fromUs }`: from now on, counts events whose `timestamp` is at or after
 *   `fromUs` (epoch µs) and records receive time − `enriched_at` per tier (ms); the counts, delays
 *   and frames of an earlier measurement are cleared. Events from source `bench-probe` are
 *   counted as probes.
 * - `{ type: 'probes' }`: answers `{ probes }` (probe events received by every connection).
 * - `{ type: 'report' }`: answers `{ delivered, frames, latencies: { tier: number[] } }`.
 * - `{ type: 'close' }`: terminates every connection and exits.
 */
import WebSocket from 'ws'

interface Client {
  readonly ws: WebSocket
  welcomed: boolean
  open: boolean
}

type Request =
  | { type: 'open'; url: string; token: string; count: number }
  | { type: 'held' }
  | { type: 'subscribe'; keep: number }
  | { type: 'measure'; fromUs: number }
  | { type: 'probes' }
  | { type: 'report' }
  | { type: 'close' }

const WAVE = 250
const clients: Client[] = []
let measureFromUs = Number.POSITIVE_INFINITY
let measuring = false
let delivered = 0
let frames = 0
let probes = 0
const latencies: Record<string, number[]> = { critical: [], operational: [], analytical: [] }

/** ISO-8601 with microseconds → epoch ms (fractional). */
function isoMs(iso: string): number {
  const dot = iso.lastIndexOf('.')
  return Date.parse(`${iso.slice(0, dot)}Z`) + Number(iso.slice(dot + 1, -1).padEnd(6, '0')) / 1000
}

function onFrame(data: WebSocket.RawData): void {
  const recv = Date.now()
  const m = JSON.parse(data.toString()) as { type: string; event?: unknown; events?: unknown[] }
  const events = (m.type === 'event' ? [m.event] : m.type === 'batch' ? m.events! : []) as { enriched_at: string; tier: string; timestamp: string; source: string }[]
  if (events.length > 0 && measuring) frames++
  for (const e of events) {
    if (e.source === 'bench-probe') {
      probes++
      continue
    }
    if (isoMs(e.timestamp) * 1000 < measureFromUs) continue
    latencies[e.tier]?.push(recv - isoMs(e.enriched_at))
    delivered++
  }
}

async function open(url: string, token: string, count: number): Promise<number> {
  for (let i = 0; i < count; i += WAVE) {
    const wave: Promise<void>[] = []
    for (let j = i; j < Math.min(count, i + WAVE); j++) {
      const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${token}` }, perMessageDeflate: false })
      const c: Client = { ws, welcomed: false, open: true }
      clients.push(c)
      ws.on('error', () => undefined)
      ws.on('close', () => (c.open = false))
      wave.push(new Promise<void>((resolve) => {
        ws.once('message', () => {
          c.welcomed = true
          resolve()
        })
        ws.once('close', () => resolve())
        // eslint-disable-next-line no-restricted-syntax -- a guard, not a sleep: a connection with no answer in 30 s counts as not welcomed
        setTimeout(resolve, 30_000).unref()
      }))
    }
    await Promise.all(wave)
  }
  return clients.filter((c) => c.welcomed).length
}

async function subscribe(keep: number): Promise<void> {
  const kept = clients.filter((c) => c.welcomed && c.open).slice(0, keep)
  for (const c of clients) if (!kept.includes(c)) c.ws.terminate()
  clients.splice(0, clients.length, ...kept)
  await Promise.all(kept.map((c) => new Promise<void>((resolve, reject) => {
    c.ws.removeAllListeners('message')
    c.ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as { type: string }
      if (m.type === 'subscribed') {
        c.ws.removeAllListeners('message')
        c.ws.on('message', onFrame)
        resolve()
      } else if (m.type === 'error') reject(new Error(JSON.stringify(m)))
    })
    c.ws.send(JSON.stringify({ type: 'subscribe', channels: ['events'] }))
  })))
}

async function handle(req: Request): Promise<Record<string, unknown>> {
  switch (req.type) {
    case 'open':
      return { welcomed: await open(req.url, req.token, req.count) }
    case 'held':
      return { open: clients.filter((c) => c.welcomed && c.open).length }
    case 'subscribe':
      await subscribe(req.keep)
      return { subscribers: clients.length }
    case 'measure':
      measureFromUs = req.fromUs
      measuring = true
      frames = 0
      delivered = 0
      for (const t of Object.keys(latencies)) latencies[t] = []
      return {}
    case 'probes':
      return { probes }
    case 'report':
      return { delivered, frames, latencies }
    case 'close':
      for (const c of clients) c.ws.terminate()
      setImmediate(() => process.exit(0))
      return {}
  }
}

process.on('message', (req: Request) => {
  handle(req).then(
    (body) => process.send!({ type: 'done', request: req.type, ...body }),
    (err: unknown) => process.send!({ type: 'failed', request: req.type, message: err instanceof Error ? err.message : String(err) }),
  )
})
process.on('disconnect', () => process.exit(0))
