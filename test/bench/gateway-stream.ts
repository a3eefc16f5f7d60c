/**
 * The gateway's live stream under load (`npm run bench -- --phases gateway`): one enrichment
 * app and one gateway (processes, fresh topics), clients in this process over loopback.
 *
 * 1. Connections held: `connections` WebSocket clients (Bearer token on the upgrade) are opened
 *    in waves of 250; held = clients welcomed and still open after a 3 s hold (the gateway's
 *    `auren_gateway_connections` gauge is read too).
 * 2. Fan-out: all but `subscribers` of them are closed; each remaining one subscribes to `events`;
 *    seeded simulator events (every tier) are produced at `rate` events/s for `durationSeconds`
 *    (after a 2 s unmeasured warm-up). Each client counts the events it receives and records
 *    receive time − `enriched_at` (both clocks are this machine's), so the latency includes
 *    batching (operational up to 100 ms, analytical up to 500 ms) and this process's own
 *    event-loop delay.
 */
import { randomBytes } from 'node:crypto'
import { SignJWT } from 'jose'
import WebSocket from 'ws'
import { createTestKafka } from '../helpers/kafka.ts'
import { startGateway, type AppProcess } from '../helpers/processes.ts'
import { stackEnv } from '../helpers/stack.ts'
import { metricSum, startEnrichment, stopApp } from './app.ts'
import { startCpuMeter, type CoreUsage } from './cpu.ts'
import { delay, nowMs, summarize, withTimeout, type Summary } from './stats.ts'
import { eventEncoder, eventSource } from './workload.ts'

export interface GatewayBenchOptions {
  /** Connections to open for the held-connections figure (target 10 000). */
  readonly connections: number
  /** Subscribers of `events` during the fan-out measurement. */
  readonly subscribers: number
  /** Offered rate of the fan-out measurement, events/s. */
  readonly rate: number
  readonly durationSeconds: number
  readonly partitions: number
  readonly seed: number
  readonly log: (line: string) => void
  readonly trackGroup: (groupId: string) => void
}

export interface GatewayBenchResult {
  readonly connectionsAttempted: number
  /** Clients welcomed and still open after the hold. */
  readonly connectionsHeld: number
  /** The gateway's auren_gateway_connections gauge at the end of the hold. */
  readonly gatewayGauge: number
  /** Seconds to open and authenticate every connection. */
  readonly connectSeconds: number
  /** Gateway resident memory with every connection held, MiB. */
  readonly gatewayRssMiBHeld: number
  readonly subscribers: number
  readonly offeredRate: number
  /** Events produced in the measured window. */
  readonly sent: number
  /** Events delivered to all subscribers (sum), per second of the measured window. */
  readonly deliveredPerSec: number
  /** Frames received by all subscribers, per second. */
  readonly framesPerSec: number
  /** Delivered / (sent × subscribers). */
  readonly deliveredShare: number
  /** Receive − enriched_at over every delivered measured event, ms; and per tier. */
  readonly latencyMs: Summary
  readonly latencyByTierMs: Record<string, Summary>
  /** Cores used by the gateway and the machine over the measured window. */
  readonly cpu: CoreUsage
  readonly gatewayRssMiB: number
  readonly slowClientDrops: number
}

const SECRET = randomBytes(32).toString('base64')
const TICK_MS = 10

function isoMs(iso: string): number {
  const dot = iso.lastIndexOf('.')
  return Date.parse(`${iso.slice(0, dot)}Z`) + Number(iso.slice(dot + 1, -1).padEnd(6, '0')) / 1000
}

interface BenchClient {
  readonly ws: WebSocket
  welcomed: boolean
  open: boolean
}

export async function measureGateway(opts: GatewayBenchOptions): Promise<GatewayBenchResult> {
  const kafka = await createTestKafka(opts.partitions)
  opts.trackGroup(`${kafka.prefix}auren.enrichment`)
  let enrichment: AppProcess | undefined
  let gateway: AppProcess | undefined
  const clients: BenchClient[] = []
  try {
    enrichment = await startEnrichment(kafka.prefix)
    const env = stackEnv()
    gateway = await startGateway({
      AUREN_KAFKA_BROKERS: env.kafkaBrokers.join(','),
      AUREN_SCHEMA_REGISTRY_URL: env.schemaRegistryUrl,
      AUREN_TOPIC_PREFIX: kafka.prefix,
      AUREN_GATEWAY_JWT_SECRET: SECRET,
      AUREN_GATEWAY_LOG_LEVEL: 'warn',
      AUREN_GATEWAY_WS_MAX_CONNECTIONS: String(opts.connections + 100),
    })
    const gw = gateway
    const deadline = nowMs() + 60_000
    while (!(await fetch(`http://${gw.address}/healthz`).then((r) => r.ok, () => false))) {
      if (nowMs() > deadline) throw new Error(`gateway not up:\n${gw.output().slice(-4000)}`)
      await delay(200)
    }
    const token = await new SignJWT({ roles: ['operator'] }).setProtectedHeader({ alg: 'HS256' }).setSubject('bench').setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + 3600).sign(new TextEncoder().encode(SECRET))
    const url = `ws://${gw.address}/v1/stream`
    const rss = async () => metricSum(await gw.metrics(), 'process_resident_memory_bytes') / 2 ** 20

    // ---- 1. connections held ----
    opts.log(`gateway: opening ${opts.connections} connections`)
    const connectStart = nowMs()
    for (let i = 0; i < opts.connections; i += 250) {
      const wave: Promise<void>[] = []
      for (let j = i; j < Math.min(opts.connections, i + 250); j++) {
        const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${token}` }, perMessageDeflate: false })
        const c: BenchClient = { ws, welcomed: false, open: true }
        clients.push(c)
        ws.on('error', () => undefined)
        ws.on('close', () => (c.open = false))
        wave.push(new Promise<void>((resolve) => {
          const done = () => resolve()
          ws.once('message', () => {
            c.welcomed = true
            done()
          })
          ws.once('close', done)
          setTimeout(done, 30_000).unref()
        }))
      }
      await Promise.all(wave)
    }
    const connectSeconds = (nowMs() - connectStart) / 1000
    await delay(3_000)
    const connectionsHeld = clients.filter((c) => c.welcomed && c.open).length
    const heldMetrics = await gw.metrics()
    const gatewayGauge = metricSum(heldMetrics, 'auren_gateway_connections')
    const gatewayRssMiBHeld = metricSum(heldMetrics, 'process_resident_memory_bytes') / 2 ** 20
    opts.log(`gateway: ${connectionsHeld}/${opts.connections} held (gauge ${gatewayGauge}) after ${connectSeconds.toFixed(1)} s; RSS ${gatewayRssMiBHeld.toFixed(0)} MiB`)

    // ---- 2. fan-out to `subscribers` ----
    const subs = clients.filter((c) => c.welcomed && c.open).slice(0, opts.subscribers)
    for (const c of clients) if (!subs.includes(c)) c.ws.terminate()
    clients.splice(0, clients.length, ...subs)
    const measureFromMs = nowMs() + 2_000 + 1_000 // after the subscriptions and the warm-up
    let measureFromUs = Number.POSITIVE_INFINITY
    const latencies: number[] = []
    const byTier: Record<string, number[]> = { critical: [], operational: [], analytical: [] }
    let delivered = 0
    let frames = 0
    let probes = 0
    const subscribed = subs.map((c) => new Promise<void>((resolve, reject) => {
      c.ws.removeAllListeners('message')
      c.ws.on('message', (data) => {
        const recv = nowMs()
        const m = JSON.parse(data.toString()) as { type: string; event?: unknown; events?: unknown[] }
        if (m.type === 'subscribed') return resolve()
        if (m.type === 'error') return reject(new Error(JSON.stringify(m)))
        const events = (m.type === 'event' ? [m.event] : m.type === 'batch' ? m.events! : []) as { enriched_at: string; tier: string; timestamp: string; source: string }[]
        for (const e of events) {
          if (e.source === 'bench-probe') {
            probes++
            continue
          }
          if (isoMs(e.timestamp) * 1000 < measureFromUs) continue
          const l = recv - isoMs(e.enriched_at)
          latencies.push(l)
          byTier[e.tier]?.push(l)
          delivered++
        }
        if (events.length > 0 && recv >= measureFromMs) frames++
      })
      c.ws.send(JSON.stringify({ type: 'subscribe', channels: ['events'] }))
    }))
    await withTimeout(Promise.all(subscribed), 60_000, 'subscriptions not confirmed within 60 s')

    const encode = await eventEncoder(kafka)
    const source = eventSource(opts.seed)
    // The fan-out reads from the latest offsets once it joined its group: probe until delivered.
    while (probes === 0) {
      await kafka.producer.send([encode({ ...source.next(Math.round(nowMs() * 1000)), source: 'bench-probe' })])
      await delay(1_000)
      if (nowMs() > deadline + 60_000) throw new Error(`stream never delivered:\n${gw.output().slice(-4000)}`)
    }
    opts.log(`gateway: ${subs.length} subscribers; offering ${opts.rate} events/s for 2 s warm-up + ${opts.durationSeconds} s`)
    const startMs = nowMs()
    measureFromUs = Math.round((startMs + 2_000) * 1000)
    const total = Math.round(opts.rate * (2 + opts.durationSeconds))
    let sent = 0
    let measuredSent = 0
    let meter: (() => CoreUsage) | undefined
    let measuredStartMs = Number.NaN
    const pending = new Set<Promise<unknown>>()
    while (sent < total) {
      const due = Math.min(total, Math.floor(((nowMs() - startMs) / 1000) * opts.rate))
      if (due > sent) {
        const stampUs = Math.round(nowMs() * 1000)
        const measured = stampUs >= measureFromUs
        if (measured && !meter) {
          meter = startCpuMeter(gw.child.pid)
          measuredStartMs = nowMs()
          frames = 0
        }
        const records = []
        for (let i = sent; i < due; i++) records.push(encode(source.next(stampUs)))
        const p = kafka.producer.send(records)
        pending.add(p)
        void p.finally(() => pending.delete(p))
        if (measured) measuredSent += records.length
        sent = due
      }
      await delay(TICK_MS - ((nowMs() - startMs) % TICK_MS))
    }
    const measuredSeconds = (nowMs() - measuredStartMs) / 1000
    const cpu = meter ? meter() : {}
    await withTimeout(Promise.all(pending), 60_000, 'produce acknowledgements did not arrive within 60 s')
    const expected = measuredSent * subs.length
    const drainDeadline = nowMs() + 20_000
    while (delivered < expected && nowMs() < drainDeadline) await delay(50)
    const endMetrics = await gw.metrics()
    const result: GatewayBenchResult = {
      connectionsAttempted: opts.connections,
      connectionsHeld,
      gatewayGauge,
      connectSeconds,
      gatewayRssMiBHeld,
      subscribers: subs.length,
      offeredRate: opts.rate,
      sent: measuredSent,
      deliveredPerSec: delivered / measuredSeconds,
      framesPerSec: frames / measuredSeconds,
      deliveredShare: expected > 0 ? delivered / expected : Number.NaN,
      latencyMs: summarize(latencies),
      latencyByTierMs: Object.fromEntries(Object.entries(byTier).map(([t, v]) => [t, summarize(v)])),
      cpu,
      gatewayRssMiB: await rss(),
      slowClientDrops: metricSum(endMetrics, 'auren_gateway_dropped_messages_total', 'reason="slow_client"'),
    }
    return result
  } finally {
    for (const c of clients) c.ws.terminate()
    if (gateway) await stopApp(gateway, 10_000)
    if (enrichment) await stopApp(enrichment, 10_000)
    await kafka.close()
  }
}
