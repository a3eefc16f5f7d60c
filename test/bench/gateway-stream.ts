/**
 * The gateway's live stream under load (`npm run bench -- --phases gateway`): one enrichment
 * app and one gateway (processes, fresh topics), and the clients spread over `clientProcesses`
 * forked processes (test/helpers/gateway-client-worker.ts), so that parsing frames for hundreds of
 * subscribers is not one event loop's delay counted as the gateway's.
 *
 * 1. Connections held: `connections` WebSocket clients (Bearer token on the upgrade) are opened
 *    in waves of 250 per client process; held = clients welcomed and still open after a 3 s hold
 *    (the gateway's `auren_gateway_connections` gauge is read too).
 * 2. Fan-out: all but `subscribers` of them are closed; each remaining one subscribes to `events`;
 *    seeded simulator events (every tier) are produced at `rate` events/s for `durationSeconds`
 *    (after a 2 s unmeasured warm-up). Each client counts the events it receives and records
 *    receive time − `enriched_at` (both clocks are this machine's), so the latency includes
 *    the Kafka hop from enrichment and batching (operational frames are written 60 ms and
 *    analytical 450 ms after enrichment, gateway/subscriptions.ts TIER_BUDGETS), reported per tier.
 */
import { randomBytes } from 'node:crypto'
import { SignJWT } from 'jose'
import { ClientProcess } from '../helpers/gateway-client-process.ts'
import { createTestKafka } from '../helpers/kafka.ts'
import { startGateway, type AppProcess } from '../helpers/processes.ts'
import { stackEnv } from '../helpers/stack.ts'
import { metricSum, startEnrichment, stopApp, type PhaseContext } from './app.ts'
import { startCpuMeter, type CoreUsage } from './cpu.ts'
import { delay, nowMs, summarize, withTimeout, type Summary } from './stats.ts'
import { eventEncoder, eventSource } from './workload.ts'

export interface GatewayBenchOptions extends PhaseContext {
  /** Connections to open for the held-connections figure (target 10 000). */
  readonly connections: number
  /** Subscribers of `events` during the fan-out measurement. */
  readonly subscribers: number
  /** Client processes the connections are spread over. */
  readonly clientProcesses: number
  /** Offered rate of the fan-out measurement, events/s. */
  readonly rate: number
  readonly durationSeconds: number
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
  readonly clientProcesses: number
  /**
   * Gateway side, from its own histogram (auren_gateway_delivery_latency_seconds, event time to
   * frame written) over the measured window: share of deliveries written within 50 ms
   * (critical), 100 ms (operational) or 500 ms (analytical) of the event's time, 0..1. The event
   * time is the produce time here, so the enrichment hop is included; the clients' parsing is not.
   */
  readonly writtenWithinBudget: Record<string, number>
}

/** Budget per tier, seconds, as `le` labels of auren_gateway_delivery_latency_seconds. */
const TIER_BUDGET_LE: Record<string, string> = { critical: '0.05', operational: '0.1', analytical: '0.5' }

/** Per tier: [deliveries written within the tier's budget, all deliveries] from /metrics text. */
function budgetCounts(text: string): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {}
  for (const [tier, le] of Object.entries(TIER_BUDGET_LE)) {
    out[tier] = [
      metricSum(text, 'auren_gateway_delivery_latency_seconds_bucket', `le="${le}",tier="${tier}"`),
      metricSum(text, 'auren_gateway_delivery_latency_seconds_count', `tier="${tier}"`),
    ]
  }
  return out
}

const SECRET = randomBytes(32).toString('base64')
const TICK_MS = 10

/** Splits `n` into `parts` near-equal non-negative integers. */
const split = (n: number, parts: number) => Array.from({ length: parts }, (_, i) => Math.floor(n / parts) + (i < n % parts ? 1 : 0))

export async function measureGateway(opts: GatewayBenchOptions): Promise<GatewayBenchResult> {
  const kafka = await createTestKafka(opts.partitions)
  opts.trackGroup(`${kafka.prefix}auren.enrichment`)
  let enrichment: AppProcess | undefined
  let gateway: AppProcess | undefined
  const workers = Array.from({ length: Math.max(1, opts.clientProcesses) }, () => new ClientProcess())
  const all = <T>(f: (w: ClientProcess, i: number) => Promise<T>) => Promise.all(workers.map(f))
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
    opts.log(`gateway: opening ${opts.connections} connections from ${workers.length} client processes`)
    const connectStart = nowMs()
    const perWorker = split(opts.connections, workers.length)
    await all((w, i) => w.request({ type: 'open', url, token, count: perWorker[i] }))
    const connectSeconds = (nowMs() - connectStart) / 1000
    await delay(3_000)
    const held = await all((w) => w.request<{ open: number }>({ type: 'held' }))
    const heldCounts = held.map((h) => h.open)
    const connectionsHeld = heldCounts.reduce((a, b) => a + b, 0)
    const heldMetrics = await gw.metrics()
    const gatewayGauge = metricSum(heldMetrics, 'auren_gateway_connections')
    const gatewayRssMiBHeld = metricSum(heldMetrics, 'process_resident_memory_bytes') / 2 ** 20
    opts.log(`gateway: ${connectionsHeld}/${opts.connections} held (gauge ${gatewayGauge}) after ${connectSeconds.toFixed(1)} s; RSS ${gatewayRssMiBHeld.toFixed(0)} MiB`)

    // ---- 2. fan-out to `subscribers` ----
    const keep = split(Math.min(opts.subscribers, connectionsHeld), workers.length).map((k, i) => Math.min(k, heldCounts[i]!))
    const subscribers = (await withTimeout(all((w, i) => w.request<{ subscribers: number }>({ type: 'subscribe', keep: keep[i] })), 60_000, 'subscriptions not confirmed within 60 s'))
      .reduce((a, r) => a + r.subscribers, 0)

    const encode = await eventEncoder(kafka)
    const source = eventSource(opts.seed)
    // The fan-out reads from the latest offsets once it joined its group: probe until every
    // subscriber got one.
    for (;;) {
      await kafka.producer.send([encode({ ...source.next(Math.round(nowMs() * 1000)), source: 'bench-probe' })])
      await delay(1_000)
      const probes = (await all((w) => w.request<{ probes: number }>({ type: 'probes' }))).reduce((a, r) => a + r.probes, 0)
      if (probes >= subscribers) break
      if (nowMs() > deadline + 60_000) throw new Error(`stream never delivered:\n${gw.output().slice(-4000)}`)
    }
    opts.log(`gateway: ${subscribers} subscribers; offering ${opts.rate} events/s for 2 s warm-up + ${opts.durationSeconds} s`)
    const startMs = nowMs()
    const measureFromUs = Math.round((startMs + 2_000) * 1000)
    await all((w) => w.request({ type: 'measure', fromUs: measureFromUs }))
    const total = Math.round(opts.rate * (2 + opts.durationSeconds))
    let sent = 0
    let measuredSent = 0
    let meter: (() => CoreUsage) | undefined
    let measuredStartMs = Number.NaN
    let budgetAtStart: Record<string, [number, number]> = {}
    const pending = new Set<Promise<unknown>>()
    while (sent < total) {
      const due = Math.min(total, Math.floor(((nowMs() - startMs) / 1000) * opts.rate))
      if (due > sent) {
        const stampUs = Math.round(nowMs() * 1000)
        const measured = stampUs >= measureFromUs
        if (measured && !meter) {
          meter = startCpuMeter(gw.child.pid)
          measuredStartMs = nowMs()
          void gw.metrics().then((t) => (budgetAtStart = budgetCounts(t)))
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
    const expected = measuredSent * subscribers
    type Report = { delivered: number; frames: number; latencies: Record<string, number[]> }
    const collect = () => all((w) => w.request<Report>({ type: 'report' }))
    let reports = await collect()
    const drainDeadline = nowMs() + 20_000
    while (reports.reduce((a, r) => a + r.delivered, 0) < expected && nowMs() < drainDeadline) {
      await delay(500)
      reports = await collect()
    }
    const delivered = reports.reduce((a, r) => a + r.delivered, 0)
    const frames = reports.reduce((a, r) => a + r.frames, 0)
    const byTier: Record<string, number[]> = { critical: [], operational: [], analytical: [] }
    const latencies: number[] = []
    for (const r of reports) {
      for (const [tier, values] of Object.entries(r.latencies)) {
        for (const v of values) {
          byTier[tier]?.push(v)
          latencies.push(v)
        }
      }
    }
    const endMetrics = await gw.metrics()
    const budgetAtEnd = budgetCounts(endMetrics)
    const writtenWithinBudget = Object.fromEntries(Object.entries(budgetAtEnd).map(([tier, [within, all]]) => {
      const [within0, all0] = budgetAtStart[tier] ?? [0, 0]
      return [tier, all - all0 > 0 ? (within - within0) / (all - all0) : Number.NaN]
    }))
    return {
      connectionsAttempted: opts.connections,
      connectionsHeld,
      gatewayGauge,
      connectSeconds,
      gatewayRssMiBHeld,
      subscribers,
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
      clientProcesses: workers.length,
      writtenWithinBudget,
    }
  } finally {
    await Promise.all(workers.map((w) => w.close()))
    if (gateway) await stopApp(gateway, 10_000)
    if (enrichment) await stopApp(enrichment, 10_000)
    await kafka.close()
  }
}
