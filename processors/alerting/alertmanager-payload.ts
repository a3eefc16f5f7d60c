/**
 * Alert records (schemas/avro/alert.avsc) as Alertmanager v2 API alerts
 * (`POST /api/v2/alerts`, a JSON array of `postableAlert`: labels, annotations, startsAt, endsAt,
 * generatorURL). Pure.
 *
 * Like Prometheus (rules/alerting.go, `resendDelay` and `endsAt = now + 4 × max(resend
 * interval, evaluation interval)`), a firing alert is sent with an `endsAt` in the future and
 * re-sent on an interval before it passes, so an alert whose sender died resolves by itself; a
 * resolved alert is sent with `endsAt` = now (the processing time of the delivery; its event
 * time is in `annotations.resolved_at`).
 */
import type { Alert } from '../../schemas/index.ts'

/** An alert as the Alertmanager v2 API takes it. */
export interface PostableAlert {
  labels: Record<string, string>
  annotations: Record<string, string>
  /** RFC 3339. */
  startsAt: string
  /** RFC 3339. */
  endsAt: string
  generatorURL: string
}

/** How firing alerts are timed (see the module doc). */
export interface PayloadTiming {
  /** Processing time of the delivery, epoch ms. */
  nowMs: number
  /** Interval at which firing alerts are re-sent, ms; endsAt of a firing alert is now + 4 × this. */
  resendIntervalMs: number
  /** Base of generatorURL: the alerting app's address (the fingerprint and rule are appended). */
  generatorBaseUrl: string
}

const iso = (ms: number) => new Date(ms).toISOString()

/** The Alertmanager form of an Alert record (labels include alertname and severity already). */
export function toPostableAlert(alert: Alert, t: PayloadTiming): PostableAlert {
  const startsMs = Math.floor(alert.starts_at / 1000)
  const endsMs = alert.status === 'firing' ? t.nowMs + 4 * t.resendIntervalMs : t.nowMs
  const annotations: Record<string, string> = {
    summary: alert.annotations.summary,
    description: alert.annotations.description,
    value: String(alert.value),
    threshold: String(alert.threshold),
    fingerprint: alert.fingerprint,
  }
  if (alert.annotations.runbook) annotations.runbook_url = alert.annotations.runbook
  if (alert.ends_at !== null) annotations.resolved_at = iso(Math.floor(alert.ends_at / 1000))
  if (alert.source_window) {
    annotations.window_start = iso(Math.floor(alert.source_window.start / 1000))
    annotations.window_end = iso(Math.floor(alert.source_window.end / 1000))
  }
  const url = new URL(t.generatorBaseUrl)
  url.pathname = `${url.pathname.replace(/\/$/, '')}/alerts/${alert.fingerprint}`
  url.searchParams.set('rule', alert.rule)
  return {
    labels: { ...alert.labels, alertname: alert.rule, severity: alert.severity },
    annotations,
    // Alertmanager refuses startsAt after endsAt: a start later than now (a producer clock ahead
    // of ours) is sent as now.
    startsAt: iso(Math.min(startsMs, endsMs)),
    endsAt: iso(endsMs),
    generatorURL: url.toString(),
  }
}
