/**
 * The gateway's composition root: configuration → logger, metrics registry, PostgreSQL pool,
 * authenticator → buildGateway → listen. SIGTERM/SIGINT (processors/runtime/ops/lifecycle.ts, as every processor) close the app (no new requests,
 * in-flight ones answered; /healthz and /readyz turn 503) and then the pool; if that takes longer
 * than AUREN_GATEWAY_SHUTDOWN_FORCE_MS, or a second signal arrives, the process exits 1.
 *
 * With AUREN_KAFKA_BROKERS (and AUREN_SCHEMA_REGISTRY_URL), the WebSocket stream `/v1/stream`
 * runs too (ws-server.ts fed by kafka-fanout.ts), and the ingest API `POST /v1/events`
 * (ingest/ingest-routes.ts). The stream's consumer starts once the REST API listens, retried with
 * backoff while the broker or registry does not answer (/readyz says `starting` meanwhile). On
 * shutdown the stream's clients are closed (1001), its consumer and the ingest producer stopped (each waiting at most 2 s on the broker) before the HTTP
 * server closes.
 *
 * Run: `node --import tsx gateway/server.ts` with AUREN_DATABASE_URL and
 * AUREN_GATEWAY_JWT_SECRET (or AUREN_GATEWAY_JWKS_URL) set (README.md "Configuration").
 */
import { collectDefaultMetrics, Registry } from 'prom-client'
import { setTimeout as sleep } from 'node:timers/promises'
import { createLogger } from '../processors/runtime/ops/logger.ts'
import { createEpisodeLog } from '../processors/runtime/ops/episode-log.ts'
import { backoffMs } from '../processors/runtime/ops/backoff.ts'
import { installShutdown } from '../processors/runtime/ops/lifecycle.ts'
import { registerMemoryLimitMetric } from '../processors/runtime/ops/metrics.ts'
import { buildGateway } from './app.ts'
import { createAuthenticator } from './auth.ts'
import { parseGatewayConfig } from './config.ts'
import { StreamHistory } from './history.ts'
import { startKafkaFanout, type KafkaFanout } from './kafka-fanout.ts'
import { createStreamMetrics } from './metrics.ts'
import { createEventProducer, type EventProducer } from './ingest/event-producer.ts'
import { registerIngestRoutes } from './ingest/ingest-routes.ts'
import { createPool } from './queries/db.ts'
import { createStreamServer, STREAM_PATH, type StreamServer } from './ws-server.ts'

async function main(): Promise<void> {
  let config
  try {
    config = parseGatewayConfig(process.env)
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`)
    process.exit(2)
  }
  const log = createLogger('gateway', config.logLevel)
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  registerMemoryLimitMetric(registry)
  const pool = createPool({ url: config.databaseUrl, schema: config.dbSchema, max: config.dbPoolSize, statementTimeoutMs: config.dbStatementTimeoutMs })
  const auth = createAuthenticator(config.auth)
  let stream: StreamServer | null = null
  let fanout: KafkaFanout | null = null
  let ingestProducer: EventProducer | null = null
  let startFanout: (() => Promise<KafkaFanout>) | null = null
  let stopping = false
  const streamReadiness = config.stream
    ? () => ({ ready: fanout?.joined ?? false, detail: { consumer: fanout === null ? 'starting' : fanout.joined ? 'joined' : 'joining', connections: stream?.size ?? 0 } })
    : undefined
  const app = buildGateway({ db: pool, auth, registry, api: config.api, logger: log, ...(streamReadiness ? { streamReadiness } : {}) })
  // The live stream needs Kafka: without AUREN_KAFKA_BROKERS only the REST API runs and upgrades of
  // /v1/stream are refused with 503 (README.md "WebSocket stream").
  if (config.stream) {
    const metrics = createStreamMetrics(registry)
    const history = new StreamHistory(config.stream.ws.history, Date.now())
    const streamServer = createStreamServer({ auth, config: config.stream.ws, metrics, history, log: log.child({ part: 'stream' }) })
    stream = streamServer
    ingestProducer = createEventProducer(config.stream, log.child({ part: 'ingest' }))
    registerIngestRoutes(app, { config: config.stream.ingest, auth, producer: ingestProducer, registry })
    await app.ready()
    streamServer.attach(app.server)
    const streamConfig = config.stream
    startFanout = () => startKafkaFanout({ config: streamConfig, log: log.child({ part: 'fanout' }), metrics, publish: (item) => streamServer.publish(item) })
  } else {
    await app.ready()
    app.server.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'))
  }
  const address = await app.listen({ host: config.httpHost, port: config.httpPort })
  log.info({ address, auth: config.auth.mode, schema: config.dbSchema, stream: stream ? STREAM_PATH : 'off (no AUREN_KAFKA_BROKERS)' }, 'gateway listening')
  // The stream's consumer starts after the REST API listens, and a broker or registry that does
  // not answer yet is waited out with backoff (not ready meanwhile), as the processors' runner
  // does: never a reason to exit.
  const fanoutStarted = startFanout ? keepStartingFanout(startFanout) : Promise.resolve()

  /** Starts the stream's consumer, retrying with backoff until it runs or the gateway stops. */
  async function keepStartingFanout(start: () => Promise<KafkaFanout>): Promise<void> {
    const failures = createEpisodeLog(log, 'stream consumer start failed, retrying with backoff')
    for (let attempt = 0; !stopping; attempt++) {
      try {
        const started = await start()
        failures.ended()
        if (stopping) await started.stop()
        else fanout = started
        return
      } catch (err) {
        failures.occurred({ err }, (err as Error).message)
        await sleep(backoffMs(attempt))
      }
    }
  }

  installShutdown({
    log,
    forceMs: config.shutdownForceMs,
    stop: async () => {
      stopping = true
      await stream?.close()
      await withTimeout(fanoutStarted, 2_000, () => log.warn('stream consumer still starting after 2 s (broker unreachable); abandoned'))
      await fanout?.stop()
      if (ingestProducer) await withTimeout(ingestProducer.close(), 2_000, () => log.warn('ingest producer not closed in 2 s (broker unreachable); abandoned'))
      await app.close()
      await pool.end()
    },
  })
}

/** Waits for `p` at most `ms`; on timeout calls `onTimeout` and resolves (a failure of `p` is ignored). */
async function withTimeout(p: Promise<unknown>, ms: number, onTimeout: () => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const late = await Promise.race([p.then(() => false, () => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), ms)))])
  clearTimeout(timer)
  if (late) onTimeout()
}

main().catch((err: unknown) => {
  process.stderr.write(`gateway failed to start: ${err instanceof Error ? err.stack : String(err)}\n`)
  process.exit(1)
})
