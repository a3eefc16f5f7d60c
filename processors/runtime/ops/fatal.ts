import { createLogger } from './logger.ts'

/**
 * Ends an app that could not start or run: one pino JSON line at level fatal with the cause
 * (`err`: message, type, stack, cause chain; an AUREN_ERR_CONFIG lists every invalid variable),
 * then exit code 1. For main.ts files; never a bare console.error.
 * @param name the app's logger name, e.g. 'auren-aggregation'
 */
export function reportFatal(name: string, err: unknown): never {
  const log = createLogger(name)
  log.fatal({ err }, `cannot run: ${(err as Error)?.message ?? String(err)}`)
  log.flush?.()
  process.exit(1)
}
