/**
 * Alerting's own metrics (CONTRACTS.md section 4), on the app's registry:
 * - `auren_alerts_firing{rule,severity}`: alerts firing now, read at scrape time from the
 *   `alert_active` table, so every instance reports the whole group's figure (take `max`, not
 *   `sum`, over instances); every shipped rule has a series (0 when none fires);
 * - `auren_alert_state_changes_total{rule,status}`: firing and resolved transitions committed
 *   (counted after the commit, so a retried batch counts once);
 * - `auren_alert_rule_evaluations_total{rule}`: condition evaluations of each rule in committed
 *   batches and ticks (on events, merged buckets, metric windows and timers; engine-counters.ts);
 * - `auren_alert_groups_dropped_total{reason}`: groups (fingerprints) dropped at the per-rule cap
 *   `AUREN_ALERTING_MAX_GROUPS_PER_RULE`: `evicted` (a quiet group made room, its window data
 *   lost) or `refused` (every group pending or firing: the new one is not tracked, its alerts
 *   missed);
 * - `auren_alert_late_buckets_total`: partial buckets of the repartitioned rules merged after the
 *   merge's watermark had passed their end (a source partition late to the watermark, e.g. its
 *   upstream wrote nothing for longer than the idle timeout and then caught up): they are applied
 *   at the clock, so a window that closed before they came does not count them (partial-merge.ts).
 * `auren_notifications_total{channel,status}` and the delivery backlog are the delivery's
 * (notifiers/alert-delivery.ts).
 */
import { Counter, Gauge, type Registry } from 'prom-client'
import type { Alert } from '../../schemas/index.ts'
import type { EngineWork } from './engine-counters.ts'
import type { Rule } from './rule-schema.ts'

/**
 * Registers the metrics; returns the hook that counts committed state changes.
 * @param firingCounts reads the firing alerts per rule and severity (alert_active)
 */
export function createAlertingMetrics(registry: Registry, firingCounts: () => Promise<{ rule: string; severity: string; firing: number }[]>, rules: readonly Rule[]): (alerts: readonly Alert[], work: EngineWork) => void {
  new Gauge({
    name: 'auren_alerts_firing',
    help: 'Alerts firing now, by rule and severity (from alert_active; the same figure on every instance)',
    labelNames: ['rule', 'severity'],
    registers: [registry],
    async collect() {
      const rows = await firingCounts()
      this.reset()
      for (const r of rules) this.set({ rule: r.id, severity: r.severity }, 0)
      for (const row of rows) this.set({ rule: row.rule, severity: row.severity }, row.firing)
    },
  })
  const changes = new Counter({ name: 'auren_alert_state_changes_total', help: 'Alert state changes committed, by rule and status (firing, resolved)', labelNames: ['rule', 'status'], registers: [registry] })
  const evaluations = new Counter({ name: 'auren_alert_rule_evaluations_total', help: 'Condition evaluations of each rule in committed batches and ticks (events, merged buckets, metric windows, timers)', labelNames: ['rule'], registers: [registry] })
  const dropped = new Counter({ name: 'auren_alert_groups_dropped_total', help: 'Groups (fingerprints) dropped at the per-rule cap: evicted (quiet, window data lost) or refused (not tracked, alerts missed)', labelNames: ['reason'], registers: [registry] })
  const late = new Counter({ name: 'auren_alert_late_buckets_total', help: 'Partial buckets merged after the watermark had passed their end (a source late to it): applied at the clock, missing the windows that closed before them', registers: [registry] })
  for (const r of rules) evaluations.inc({ rule: r.id }, 0)
  dropped.inc({ reason: 'evicted' }, 0)
  dropped.inc({ reason: 'refused' }, 0)
  return (alerts, work) => {
    for (const a of alerts) changes.inc({ rule: a.rule, status: a.status })
    for (const [rule, n] of work.evaluations) evaluations.inc({ rule }, n)
    if (work.evictedGroups > 0) dropped.inc({ reason: 'evicted' }, work.evictedGroups)
    if (work.refusedGroups > 0) dropped.inc({ reason: 'refused' }, work.refusedGroups)
    if (work.lateBuckets > 0) late.inc(work.lateBuckets)
  }
}
