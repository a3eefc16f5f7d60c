/**
 * Aggregation's view of its PostgreSQL database for `/readyz`: a probe (`SELECT 1` on a
 * one-connection pool of its own, every `probeMs`) records whether the database answers, since
 * when, and why not. Errors of idle connections are logged and the connection discarded (the
 * pool replaces it), never an unhandled 'error' event.
 */
import pg from 'pg'
import type { Logger } from 'pino'
import { createEpisodeLog } from '../runtime/ops/episode-log.ts'

/** State of the database as last seen. */
export interface DatabaseState {
  /** `unknown` before the first probe answered or failed. */
  readonly state: 'up' | 'unreachable' | 'unknown'
  /** Why it is unreachable (the driver's message, with SQLSTATE when there is one). */
  readonly reason?: string
  /** When the state last changed, ISO 8601. */
  readonly since: string
}

/** A running probe. */
export interface DatabaseHealth {
  /** For runProcessorApp's addReadinessCheck: ready when the database answered the last probe. */
  readonly check: () => { ready: boolean; detail: Record<string, unknown> }
  /** Records an observation made elsewhere (e.g. the migrations failing to connect). */
  report(err: unknown): void
  /** Probes once now. */
  probe(): Promise<void>
  stop(): Promise<void>
}

/** `message (SQLSTATE xxxxx)` or `message (code)` of a pg or socket error. */
export function describeDbError(err: unknown): string {
  const e = err as { message?: string; code?: unknown }
  const message = e?.message || String(err)
  return typeof e?.code === 'string' ? `${message} (${/^[0-9A-Z]{5}$/.test(e.code) ? 'SQLSTATE ' : ''}${e.code})` : message
}

/**
 * Starts probing `databaseUrl` every `probeMs` (default 2 000 ms); the first probe runs at once.
 * @param log receives one warning per outage episode and an info line when it ends
 */
export function startDatabaseHealth(databaseUrl: string, log: Logger, probeMs = 2_000): DatabaseHealth {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 0 })
  const outage = createEpisodeLog(log, 'database unreachable (retried)')
  pool.on('error', (err) => outage.occurred({ err }, `idle connection lost: ${describeDbError(err)}`))
  let state: DatabaseState = { state: 'unknown', since: new Date().toISOString() }
  const set = (next: 'up' | 'unreachable', reason?: string) => {
    if (next !== state.state || reason !== state.reason) state = { state: next, ...(reason ? { reason } : {}), since: next === state.state ? state.since : new Date().toISOString() }
  }
  const report = (err: unknown) => {
    const reason = describeDbError(err)
    set('unreachable', reason)
    outage.occurred({ err }, reason)
  }
  let probing: Promise<void> | undefined
  const probe = () =>
    (probing ??= pool
      .query('SELECT 1')
      .then(() => {
        set('up')
        outage.ended()
      }, report)
      .finally(() => (probing = undefined)))
  void probe()
  const timer = setInterval(() => void probe(), probeMs)
  timer.unref()
  return {
    check: () => ({ ready: state.state === 'up', detail: { ...state } }),
    report,
    probe,
    async stop() {
      clearInterval(timer)
      await probing
      await pool.end().catch(() => undefined)
    },
  }
}
