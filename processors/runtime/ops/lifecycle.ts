import type { Logger } from 'pino'

/**
 * Installs the SIGTERM/SIGINT handlers of an app, once, in main.ts (STYLE.md principle 10):
 * the first signal runs `stop` (stop fetching → drain → commit → disconnect → close HTTP) and
 * exits 0; if that takes longer than `forceMs`, or a second signal arrives, the process exits 1.
 * An unhandled rejection exits 1 (logged as fatal), except while stopping, when it is logged as a
 * warning and the stop goes on.
 */
export function installShutdown(opts: { log: Logger; stop: () => Promise<void>; forceMs: number }): void {
  let shuttingDown = false
  const onSignal = (signal: NodeJS.Signals) => {
    if (shuttingDown) {
      opts.log.warn({ signal }, 'second signal: forcing exit')
      process.exit(1)
    }
    shuttingDown = true
    opts.log.info({ signal }, 'shutdown requested')
    const force = setTimeout(() => {
      opts.log.error({ forceMs: opts.forceMs }, 'AUREN_ERR_SHUTDOWN_TIMEOUT: shutdown exceeded the force timeout; exiting')
      process.exit(1)
    }, opts.forceMs)
    opts
      .stop()
      .then(() => {
        clearTimeout(force)
        opts.log.info('shutdown complete')
        opts.log.flush?.()
        process.exit(0)
      })
      .catch((err: unknown) => {
        opts.log.error({ err }, 'shutdown failed')
        process.exit(1)
      })
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
  // Node's default for an unhandled rejection is to print it and exit 1. Outside shutdown that
  // stays so, logged through pino; during shutdown a rejection left behind by a client library
  // (e.g. kafkajs fetch or join requests cut by the disconnect) does not fail a drained stop.
  process.on('unhandledRejection', (reason) => {
    if (shuttingDown) {
      opts.log.warn({ err: reason }, 'unhandled rejection while stopping; shutdown goes on')
      return
    }
    opts.log.fatal({ err: reason }, 'unhandled rejection; exiting')
    opts.log.flush?.()
    process.exit(1)
  })
}
