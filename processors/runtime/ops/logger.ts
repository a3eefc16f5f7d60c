import pino, { type Logger } from 'pino'

/**
 * Root pino logger of an app: JSON lines on stdout (or `fd`), `name` set to the app, secrets
 * redacted by path (STYLE.md principle 8). Child loggers are made per processor and per partition.
 * @param level pino level name
 * @param fd file descriptor of the lines: 1 (stdout, default; processor apps) or 2 (stderr; CLI
 *   commands, whose stdout holds only their results)
 */
export function createLogger(name: string, level = 'info', fd: 1 | 2 = 1): Logger {
  return pino(
    {
      name,
      level,
      redact: {
        paths: ['password', '*.password', 'token', '*.token', 'authorization', '*.authorization', 'databaseUrl', '*.databaseUrl', 'sasl', '*.sasl'],
        censor: '[redacted]',
      },
    },
    pino.destination({ fd, sync: true }),
  )
}
