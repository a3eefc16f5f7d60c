import { describe, expect, it } from 'vitest'
import { alertLine } from '../../../scripts/lib/tail-command.ts'

/** An alert frame body as the gateway's alerts channel sends it (gateway/event-json.ts alertJson). */
const frame = (over: Record<string, unknown> = {}) => ({
  fingerprint: '3f2a9c1d0e4b5a6c', rule: 'agent-rate-limits', severity: 'warning', status: 'firing',
  labels: { replay: 'true', agent: 'Programmer', alertname: 'agent-rate-limits', severity: 'warning', team: 'ml' },
  annotations: { summary: 'Programmer hit 5 rate limits in 5m', description: '5 rate-limit failures', runbook: null },
  value: 5, threshold: 5, starts_at: '2026-03-02T10:00:00.000000Z', ends_at: null,
  source_window: { start: '2026-03-02T09:55:00.000000Z', end: '2026-03-02T10:00:00.000000Z' },
  ...over,
})

describe('auren tail: alert lines', () => {
  it('a firing alert: start time, state, severity, rule, sorted labels, summary, value against threshold', () => {
    expect(alertLine(frame())).toBe(
      '2026-03-02T10:00:00.000000Z FIRING   warning  agent-rate-limits {agent=Programmer,replay=true,team=ml} Programmer hit 5 rate limits in 5m (value 5, threshold 5)')
  })
  it('a resolved alert: its end time, and how long it fired from when', () => {
    // the severity label differs from the alert's severity here, so it is shown
    const line = alertLine(frame({ status: 'resolved', severity: 'critical', ends_at: '2026-03-02T10:12:05.000000Z', value: 0.0712345, threshold: 0.05 }))
    expect(line).toBe('2026-03-02T10:12:05.000000Z RESOLVED critical agent-rate-limits {agent=Programmer,replay=true,severity=warning,team=ml} Programmer hit 5 rate limits in 5m ' +
      '(value 0.07123, threshold 0.05, fired 12m 5s from 2026-03-02T10:00:00.000000Z)')
  })
  it('an alert without labels or summary still reads as one line', () => {
    expect(alertLine(frame({ labels: {}, annotations: { summary: '', description: '', runbook: null } }))).toBe(
      '2026-03-02T10:00:00.000000Z FIRING   warning  agent-rate-limits {} (value 5, threshold 5)')
  })
})
