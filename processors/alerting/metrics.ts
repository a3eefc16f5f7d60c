/**
 * Alerting's own metrics (CONTRACTS.md section 4), on the app's registry:
 * - `auren_alerts_firing{rule,severity}`: alerts firing now, read at scrape time from the
 *   `alert_active` table, so every instance reports the whole group's figure (take `max`, not
 *   `sum`, over instances); every shipped rule has a series (0 when none fires);
 * - `auren_alert_state_changes_total{rule,status}`: firing and resolved transitions committed
 *   (counted after the commit, so a retried batch counts once).
 * `auren_notifications_total{channel,status}` and the delivery backlog are the delivery's
 * (notifiers/alert-delivery.ts).
 */
import { Counter, Gauge, type Registry } from 'prom-client'
import type { Alert } from '../../schemas/index.ts'
import type { Rule } from './rule-schema.ts'

/**
 * Registers the metrics; returns the hook that counts committed state changes.
 * @param firingCounts reads the firing alerts per rule and severity (alert_active)
 */
export function createAlertingMetrics(registry: Registry, firingCounts: () => Promise<{ rule: string; severity: string; firing: number }[]>, rules: readonly Rule[]): (alerts: readonly Alert[]) => void {
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
  return (alerts) => {
    for (const a of alerts) changes.inc({ rule: a.rule, status: a.status })
  }
}
