import { describe, expect, it } from 'vitest'
import type { Alert } from '../../../../schemas/index.ts'
import { toPostableAlert } from '../../../../processors/alerting/alertmanager-payload.ts'

const NOW = Date.UTC(2026, 10, 30, 12, 0, 0)
const alert = (p: Partial<Alert> = {}): Alert => ({
  fingerprint: '0123456789abcdef', rule: 'agent-rate-limited', severity: 'warning', status: 'firing',
  labels: { alertname: 'agent-rate-limited', severity: 'warning', agent: 'CEO' },
  annotations: { summary: 'CEO hit 3 rate limits', description: 'd', runbook: 'prometheus/runbooks.md#agent-rate-limited' },
  value: 3, threshold: 3, starts_at: (NOW - 60_000) * 1000, ends_at: null,
  source_window: { start: (NOW - 360_000) * 1000, end: (NOW - 60_000) * 1000 }, ...p,
})
const timing = { nowMs: NOW, resendIntervalMs: 60_000, generatorBaseUrl: 'http://10.0.0.1:9464/' }

describe('Alert record → Alertmanager v2 postable alert', () => {
  it('sends a firing alert with endsAt 4 re-send intervals ahead, its labels, annotations and generatorURL', () => {
    expect(toPostableAlert(alert(), timing)).toEqual({
      labels: { alertname: 'agent-rate-limited', severity: 'warning', agent: 'CEO' },
      annotations: {
        summary: 'CEO hit 3 rate limits', description: 'd', runbook_url: 'prometheus/runbooks.md#agent-rate-limited', value: '3', threshold: '3',
        fingerprint: '0123456789abcdef', window_start: '2026-11-30T11:54:00.000Z', window_end: '2026-11-30T11:59:00.000Z',
      },
      startsAt: '2026-11-30T11:59:00.000Z',
      endsAt: '2026-11-30T12:04:00.000Z',
      generatorURL: 'http://10.0.0.1:9464/alerts/0123456789abcdef?rule=agent-rate-limited',
    })
  })
  it('sends a resolved alert with endsAt now and its event-time resolution as an annotation', () => {
    const p = toPostableAlert(alert({ status: 'resolved', ends_at: (NOW - 30_000) * 1000 }), timing)
    expect(p.endsAt).toBe('2026-11-30T12:00:00.000Z')
    expect(p.annotations.resolved_at).toBe('2026-11-30T11:59:30.000Z')
  })
  it('never sends a startsAt after endsAt (a producer clock ahead of ours)', () => {
    const p = toPostableAlert(alert({ status: 'resolved', starts_at: (NOW + 120_000) * 1000, ends_at: (NOW + 180_000) * 1000 }), timing)
    expect(p.startsAt).toBe(p.endsAt)
  })
})
