import { describe, expect, it } from 'vitest'
import { chaosResult, renderChaosTable, type ChaosObservations } from '../../../scripts/lib/chaos/chaos-report.ts'

const ids = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `00000000-0000-4000-8000-${String(from + i).padStart(12, '0')}`)

function observations(over: Partial<ChaosObservations> = {}): ChaosObservations {
  const input = ids(100)
  return {
    delivery: 'exactly-once',
    durationMs: 300_000,
    faults: { processorKills: { enrichment: 20, aggregation: 18 }, brokerKills: 1, brokerOutagesMs: [41_000], databaseStops: 1, databaseOutagesMs: [21_500], unexpectedExits: { enrichment: 0, aggregation: 0 } },
    poisonSent: 2,
    inputIds: new Set(input),
    inputRecords: 103,
    enrichedCounts: new Map(input.map((id) => [id, 1])),
    deadLetters: [
      { reason: 'DESERIALIZATION_FAILED', eventId: null, source: 'in/0/5' },
      { reason: 'DESERIALIZATION_FAILED', eventId: null, source: 'in/3/9' },
    ],
    appliedIds: new Set(input),
    rollupEvents: 100,
    maxLag: { enrichment: 812, aggregation: 4_410 },
    drainMs: 12_300,
    ...over,
  }
}

describe('chaosResult', () => {
  it('passes a run where every input was applied once and only the poison was dead-lettered', () => {
    const r = chaosResult(observations())
    expect(r).toMatchObject({ eventsIn: 100, lost: 0, doubleCounted: 0, unexpectedDeadLetters: 0, deadLettersByReason: { DESERIALIZATION_FAILED: 2 }, ok: true })
    const table = renderChaosTable(observations(), r)
    expect(table).toContain('| faults: processor SIGKILL')
    expect(table).toContain('38 (enrichment 20, aggregation 18)')
    expect(table).toContain('PASS')
  })

  it('counts inputs missing from the applied set as lost, unless dead-lettered by validation', () => {
    const input = ids(100)
    const o = observations({
      appliedIds: new Set(input.slice(0, 90)),
      rollupEvents: 90,
      deadLetters: [{ reason: 'VALIDATION_FAILED', eventId: input[95]!, source: 'in/1/1' }],
    })
    const r = chaosResult(o)
    expect(r.lostAggregation).toBe(9)
    expect(r.lost).toBe(9)
    expect(r.unexpectedDeadLetters).toBe(1)
    expect(r.ok).toBe(false)
    expect(renderChaosTable(o, r)).toContain('FAIL')
  })

  it('counts rollup events beyond the distinct applied inputs, and in exactly-once a repeated enriched event, as double-counted', () => {
    const input = ids(100)
    const twice = new Map(input.map((id, i) => [id, i < 3 ? 2 : 1]))
    expect(chaosResult(observations({ rollupEvents: 104, enrichedCounts: twice }))).toMatchObject({ doubleCountedRollups: 4, enrichedDuplicates: 3, doubleCounted: 7, ok: false })
    // At-least-once: copies on the enriched topic are allowed (deduped downstream), the rollups are not.
    expect(chaosResult(observations({ delivery: 'at-least-once', enrichedCounts: twice }))).toMatchObject({ enrichedDuplicates: 3, doubleCounted: 0, ok: true })
  })

  it('fails a run that did not drain, and counts a poison dead-lettered twice once', () => {
    const dup = observations().deadLetters.concat([{ reason: 'DESERIALIZATION_FAILED', eventId: null, source: 'in/0/5' }])
    expect(chaosResult(observations({ deadLetters: dup })).deadLettersByReason).toEqual({ DESERIALIZATION_FAILED: 2 })
    expect(chaosResult(observations({ drainMs: null })).ok).toBe(false)
  })
})
