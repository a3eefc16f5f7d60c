import pino, { type Logger } from 'pino'

/**
 * Root pino logger of an app: JSON lines on stdout, `name` set to the app, secrets redacted
 * by path (STYLE.md principle 8). Child loggers are made per processor and per partition.
 * @param level pino level name
 */
export function createLogger(name: string, level = 'info'): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: ['password', '*.password', 'token', '*.token', 'authorization', '*.authorization', 'databaseUrl', '*.databaseUrl', 'sasl', '*.sasl'],
      censor: '[redacted]',
    },
  })
}
