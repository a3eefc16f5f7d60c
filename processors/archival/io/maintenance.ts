/**
 * The app's background maintenance: every `maintenanceIntervalMs`, one compaction round over
 * closed hours, then one retention sweep (both idempotent; a failure is logged and retried at the
 * next round). Several instances may run it at once: compaction commits only when its inputs are
 * all still live, and the sweep's deletes are idempotent.
 */
import type pg from 'pg'
import type { Logger } from 'pino'
import type { ArchivalConfig } from '../config.ts'
import type { ArchivalMetrics } from '../metrics.ts'
import { compactClosedHours } from './compaction.ts'
import type { ObjectStore } from './s3-store.ts'
import { sweep } from './sweeper.ts'

/**
 * Starts the rounds (none when the interval is 0).
 * @returns stop: waits for the round in progress
 */
export function startMaintenance(deps: { pool: pg.Pool; store: ObjectStore; config: ArchivalConfig; metrics: ArchivalMetrics; log: Logger }): () => Promise<void> {
  const { pool, store, config, metrics, log } = deps
  if (config.maintenanceIntervalMs === 0) return async () => {}
  let running: Promise<void> = Promise.resolve()
  const round = async () => {
    try {
      const merged = await compactClosedHours(pool, store, config.compactLatenessMs, config.rowGroupRows)
      const done = merged.filter((m) => m.committed)
      if (done.length > 0) {
        metrics.compactions.inc(done.length)
        log.info({ hours: done.length, inputs: done.reduce((n, m) => n + m.inputs.length, 0) }, 'compacted closed hours')
      }
      const swept = await sweep(pool, store, { retention: config.retention, graceMs: config.deleteGraceMs })
      for (const o of swept) {
        if (o.reason !== 'retention' || !o.tier) continue
        metrics.retentionDeletedObjects.inc({ tier: o.tier })
        metrics.retentionDeletedBytes.inc({ tier: o.tier }, o.bytes)
      }
      if (swept.length > 0) log.info({ deleted: swept.length, retention: swept.filter((o) => o.reason === 'retention').length }, 'swept archive')
    } catch (err) {
      log.warn({ err }, 'archive maintenance round failed; retrying at the next round')
    }
  }
  const timer = setInterval(() => {
    running = running.then(round)
  }, config.maintenanceIntervalMs)
  timer.unref()
  return async () => {
    clearInterval(timer)
    await running
  }
}
