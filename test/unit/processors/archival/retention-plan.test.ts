import { describe, expect, it } from 'vitest'
import { DEFAULT_RETENTION_MS, planCompaction, planSweep, type PlannedObject } from '../../../../processors/archival/retention-plan.ts'

const H = 3_600_000
const obj = (key: string, date: string, hour: number, tier: PlannedObject['tier'], extra: Partial<PlannedObject> = {}): PlannedObject => ({
  key, date, hour, tier, state: 'live', retiredAt: null, maxEventMs: Date.parse(`${date}T${String(hour).padStart(2, '0')}:59:00Z`), ...extra,
})

describe('retention plan', () => {
  it('defaults to seed 003: critical 72 h, operational 24 h, analytical 6 h', () => {
    expect(DEFAULT_RETENTION_MS).toEqual({ critical: 72 * H, operational: 24 * H, analytical: 6 * H })
  })

  it('expires a live object once the end of its hour is older than its tier retention', () => {
    const objects = [obj('a', '2026-11-30', 0, 'analytical'), obj('b', '2026-11-30', 1, 'analytical'), obj('c', '2026-11-30', 0, 'operational')]
    const nowMs = Date.parse('2026-11-30T07:00:00Z') // hour 0 ended at 01:00, 6 h ago
    const plan = planSweep({ objects, listing: [], nowMs, retention: DEFAULT_RETENTION_MS, graceMs: 0 })
    expect(plan.expire.map((o) => o.key)).toEqual(['a'])
    expect(planSweep({ objects, listing: [], nowMs: nowMs - 1, retention: DEFAULT_RETENTION_MS, graceMs: 0 }).expire).toEqual([])
  })

  it('purges retired objects and orphans only after the grace period', () => {
    const nowMs = Date.parse('2026-11-30T07:00:00Z')
    const objects = [
      obj('old', '2026-11-30', 5, 'critical', { state: 'superseded', retiredAt: new Date(nowMs - 601_000) }),
      obj('new', '2026-11-30', 5, 'critical', { state: 'superseded', retiredAt: new Date(nowMs - 599_000) }),
    ]
    const listing = [
      { key: 'events/x/orphan-old.parquet', lastModified: new Date(nowMs - 601_000) },
      { key: 'events/x/orphan-new.parquet', lastModified: new Date(nowMs - 10_000) },
      { key: 'old', lastModified: new Date(0) },
      { key: 'other/not-ours', lastModified: new Date(0) },
    ]
    const plan = planSweep({ objects, listing, nowMs, retention: DEFAULT_RETENTION_MS, graceMs: 600_000 })
    expect(plan.purge.map((o) => o.key)).toEqual(['old'])
    expect(plan.orphans.map((o) => o.key)).toEqual(['events/x/orphan-old.parquet'])
  })
})

describe('compaction plan', () => {
  it('groups live objects of hours that ended before the watermark, when there is more than one', () => {
    const live = [
      obj('h5-b', '2026-11-30', 5, 'critical'), obj('h5-a', '2026-11-30', 5, 'critical'), obj('h5-op', '2026-11-30', 5, 'operational'),
      obj('h6-a', '2026-11-30', 6, 'critical'), obj('h6-b', '2026-11-30', 6, 'critical'),
      obj('h7', '2026-11-30', 7, 'critical', { maxEventMs: Date.parse('2026-11-30T07:05:00Z') }),
    ]
    // watermark 07:05 - 10 min = 06:55: hour 5 closed, hour 6 open
    const groups = planCompaction(live.map((o) => (o.hour === 6 ? { ...o, maxEventMs: Date.parse('2026-11-30T06:30:00Z') } : o)), 10 * 60_000)
    expect(groups.map((g) => ({ hour: g.hour, tier: g.tier, inputs: g.inputs.map((o) => o.key) }))).toEqual([{ hour: 5, tier: 'critical', inputs: ['h5-a', 'h5-b'] }])
    expect(planCompaction(live, 0).map((g) => g.hour)).toEqual([5, 6])
    expect(planCompaction([], 0)).toEqual([])
  })
})
