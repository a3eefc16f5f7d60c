import { describe, expect, it } from 'vitest'
import {
  groupWatermarkWithIdlenessUs,
  EMPTY_CLOCK, advanceClock, classifyInOrder, closingWindows, groupWatermarkUs, isLate, watermarkUs, windowEndUs, windowStartUs, type WindowConfig,
} from '../../../../processors/aggregation/tumbling-window.ts'
import { seededRandom } from '../../../helpers/aggregation-events.ts'

const MIN = 60_000_000 // one minute in µs
const T0 = Date.UTC(2025, 0, 1, 12, 0, 0) * 1000 // a whole UTC minute
const cfg: WindowConfig = { windowMs: 60_000, allowedLatenessMs: 30_000 }
const s = (seconds: number) => T0 + seconds * 1_000_000

describe('window assignment', () => {
  it('aligns 1-minute windows to whole UTC minutes, start inclusive and end exclusive', () => {
    expect(windowStartUs(T0, 60_000)).toBe(T0)
    expect(windowStartUs(s(59.999999), 60_000)).toBe(T0)
    expect(windowStartUs(s(60), 60_000)).toBe(T0 + MIN)
    expect(windowEndUs(T0, 60_000)).toBe(T0 + MIN)
    expect(new Date(windowStartUs(s(61), 60_000) / 1000).toISOString()).toBe('2025-01-01T12:01:00.000Z')
  })

  it('takes the size from configuration and floors before 1970 too', () => {
    expect(windowStartUs(s(299), 300_000)).toBe(T0)
    expect(windowStartUs(-1, 60_000)).toBe(-MIN)
  })
})

describe('watermark and lateness', () => {
  it('has no watermark before the first event; then max event time minus the allowed lateness', () => {
    expect(watermarkUs(EMPTY_CLOCK, 30_000)).toBeNull()
    expect(isLate(s(0), EMPTY_CLOCK, cfg)).toBe(false)
    const clock = advanceClock(advanceClock(EMPTY_CLOCK, s(100)), s(50))
    expect(clock.maxEventUs).toBe(s(100)) // an older event never moves it back
    expect(watermarkUs(clock, 30_000)).toBe(s(70))
  })

  it('out-of-order within the allowed lateness: not late, the window is still open', () => {
    // 12:01:20 seen; watermark 12:00:50: window [12:00, 12:01) is still open
    const { late } = classifyInOrder(EMPTY_CLOCK, [s(80), s(10), s(59)], cfg)
    expect(late).toEqual([false, false, false])
  })

  it('late beyond the allowed lateness: the window closed once the watermark reached its end', () => {
    // 12:01:30 seen → watermark 12:01:00 = end of [12:00, 12:01): closed
    const { late, clock } = classifyInOrder(EMPTY_CLOCK, [s(90), s(59), s(60)], cfg)
    expect(late).toEqual([false, true, false])
    expect(clock.maxEventUs).toBe(s(90))
  })

  it('classifies the same whatever the batch boundaries (the clock is the only state)', () => {
    const rand = seededRandom(3)
    const times = Array.from({ length: 400 }, (_, i) => s(i * 2 + (rand() - 0.5) * 200))
    const whole = classifyInOrder(EMPTY_CLOCK, times, cfg).late
    let clock = EMPTY_CLOCK
    const pieces: boolean[] = []
    for (let i = 0; i < times.length; ) {
      const n = 1 + Math.floor(rand() * 37)
      const r = classifyInOrder(clock, times.slice(i, i + n), cfg)
      pieces.push(...r.late)
      clock = r.clock
      i += n
    }
    expect(pieces).toEqual(whole)
    expect(whole.filter(Boolean).length).toBeGreaterThan(0)
    expect(whole.filter((l) => !l).length).toBeGreaterThan(0)
  })
})

describe('several partitions', () => {
  it('each partition keeps its own clock: an event late in one is on time in another', () => {
    const p0 = advanceClock(EMPTY_CLOCK, s(200))
    const p1 = advanceClock(EMPTY_CLOCK, s(65))
    expect(isLate(s(10), p0, cfg)).toBe(true)
    expect(isLate(s(10), p1, cfg)).toBe(false)
  })

  it('the group watermark is the minimum, and waits for partitions that have seen nothing', () => {
    const clocks = [{ maxEventUs: s(200) }, { maxEventUs: s(65) }]
    expect(groupWatermarkUs(clocks, cfg)).toBe(s(35))
    expect(groupWatermarkUs([...clocks, EMPTY_CLOCK], cfg)).toBeNull()
    expect(groupWatermarkUs(clocks, cfg, 3)).toBeNull() // a third partition expected but unknown
    expect(groupWatermarkUs(clocks, cfg, 2)).toBe(s(35))
    expect(groupWatermarkUs([], cfg)).toBeNull()
  })
})

describe('closingWindows', () => {
  it('lists the windows whose end the watermark passed since the last time', () => {
    expect(closingWindows(null, s(59), 60_000)).toEqual({ firstStartUs: null, lastStartUs: T0 - MIN })
    expect(closingWindows(null, s(60), 60_000)).toEqual({ firstStartUs: null, lastStartUs: T0 })
    expect(closingWindows(s(60), s(90), 60_000)).toBeNull() // [12:01, 12:02) not ended yet
    expect(closingWindows(s(60), s(120), 60_000)).toEqual({ firstStartUs: T0 + MIN, lastStartUs: T0 + MIN })
    expect(closingWindows(s(30), s(250), 60_000)).toEqual({ firstStartUs: T0, lastStartUs: T0 + 3 * MIN }) // ends 12:01 … 12:04
  })
})

describe('group watermark with an idle timeout', () => {
  const cfg = { windowMs: 60_000, allowedLatenessMs: 30_000 }
  const MIN = 60_000_000
  const NOW = 1_000_000
  const idle = 2_000
  it('is the minimum over active partitions; idle and unseen partitions do not hold it back', () => {
    const clocks = [
      { maxEventUs: 10 * MIN, lastRecordMs: NOW - 100 }, // active
      { maxEventUs: 3 * MIN, lastRecordMs: NOW - idle }, // idle for exactly the timeout
      { maxEventUs: 12 * MIN, lastRecordMs: NOW - 10 }, // active
    ]
    expect(groupWatermarkWithIdlenessUs(clocks, cfg, 6, NOW, idle)).toBe(10 * MIN - 30_000_000)
    // unseen partitions hold it back until the idle timeout passed since the group's first record
    expect(groupWatermarkWithIdlenessUs(clocks, cfg, 6, NOW, idle, false)).toBeNull()
    // a partition with a backlog at its last batch is never idle
    expect(groupWatermarkWithIdlenessUs([...clocks, { maxEventUs: 2 * MIN, lastRecordMs: NOW - 60_000, caughtUp: false }], cfg, 6, NOW, idle)).toBe(2 * MIN - 30_000_000)
    // without idleness the idle partition and the three unseen ones hold it back
    expect(groupWatermarkWithIdlenessUs(clocks, cfg, 6, NOW, 0)).toBeNull()
    expect(groupWatermarkWithIdlenessUs(clocks, cfg, 0, NOW, 0)).toBe(3 * MIN - 30_000_000)
  })
  it('when every partition is idle, moves to the end of the latest window holding an event', () => {
    const clocks = [
      { maxEventUs: 10 * MIN + 5, lastRecordMs: NOW - 5_000 },
      { maxEventUs: 7 * MIN, lastRecordMs: null }, // unknown last record time: idle
      { maxEventUs: null, lastRecordMs: NOW }, // nothing seen: no say
    ]
    expect(groupWatermarkWithIdlenessUs(clocks, cfg, 6, NOW, idle)).toBe(11 * MIN)
    expect(closingWindows(null, 11 * MIN, cfg.windowMs)?.lastStartUs).toBe(10 * MIN) // the last window closes
    expect(groupWatermarkWithIdlenessUs([{ maxEventUs: null, lastRecordMs: null }], cfg, 0, NOW, idle)).toBeNull()
  })
})
