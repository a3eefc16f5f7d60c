/**
 * The gateway's composition root: configuration → logger, metrics registry, PostgreSQL pool,
 * authenticator → buildGateway → listen. SIGTERM/SIGINT close the app (no new requests,
 * in-flight ones answered; /healthz and /readyz turn 503) and then the pool; if that takes longer
 * than AUREN_GATEWAY_SHUTDOWN_FORCE_MS, or a second signal arrives, the process exits 1.
 *
 * Run: `node --import tsx gateway/server.ts` with AUREN_DATABASE_URL and
 * AUREN_GATEWAY_JWT_SECRET (or AUREN_GATEWAY_JWKS_URL) set (README.md "Configuration").
 */
import { collectDefaultMetrics, Registry } from 'prom-client'
import { createLogger } from '../processors/runtime/logger.ts'
import { buildGateway } from './app.ts'
import { createAuthenticator } from './auth.ts'
import { parseGatewayConfig } from './config.ts'
import { createPool } from './queries/db.ts'

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
  const pool = createPool({ url: config.databaseUrl, schema: config.dbSchema, max: config.dbPoolSize, statementTimeoutMs: config.dbStatementTimeoutMs })
  const app = buildGateway({ db: pool, auth: createAuthenticator(config.auth), registry, api: config.api, logger: log })
  const address = await app.listen({ host: config.httpHost, port: config.httpPort })
  log.info({ address, auth: config.auth.mode, schema: config.dbSchema }, 'gateway listening')

  let stopping = false
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: forcing exit')
      process.exit(1)
    }
    stopping = true
    log.info({ signal }, 'shutdown requested')
    const force = setTimeout(() => {
      log.error({ forceMs: config.shutdownForceMs }, 'shutdown exceeded the force timeout; exiting')
      process.exit(1)
    }, config.shutdownForceMs)
    force.unref()
    app.close()
      .then(() => pool.end())
      .then(() => {
        log.info('shutdown complete')
        process.exit(0)
      })
      .catch((err: unknown) => {
        log.error({ err }, 'shutdown failed')
        process.exit(1)
      })
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

main().catch((err: unknown) => {
  process.stderr.write(`gateway failed to start: ${err instanceof Error ? err.stack : String(err)}\n`)
  process.exit(1)
})
