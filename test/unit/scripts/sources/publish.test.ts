import { describe, expect, it } from 'vitest'
import { rebaseRun, replaySchedule } from '../../../../scripts/sources/publish.ts'
import { llmCallEvent } from '../../../helpers/events.ts'

const at = (seconds: number, trace: string) => llmCallEvent({ timestampUs: Date.UTC(2023, 8, 18) * 1000 + seconds * 1e6, trace })

describe('replaySchedule', () => {
  it('starts every run at 0 and divides gaps by the speed, merged in due order', () => {
    const runA = { events: [at(0, 'a'), at(10, 'a'), at(30, 'a')] }
    const runB = { events: [at(1000, 'b'), at(1005, 'b')] }
    const schedule = replaySchedule([runA, runB], 10)
    expect(schedule.map((s) => [s.event.trace_id, s.atMs])).toEqual([
      ['a', 0],
      ['b', 0],
      ['b', 500],
      ['a', 1000],
      ['a', 3000],
    ])
  })
})

describe('rebaseRun', () => {
  it('moves a run to start at the given time, keeping order and dividing gaps by speed', () => {
    const events = [at(0, 'a'), at(60, 'a'), at(120, 'a')]
    const rebased = rebaseRun(events, 5_000_000, 2)
    expect(rebased.map((e) => e.timestamp)).toEqual([5_000_000, 35_000_000, 65_000_000])
    expect(rebased.map((e) => e.event_id)).toEqual(events.map((e) => e.event_id))
  })
})
