import { describe, expect, it } from 'vitest'
import { resolveSeed, seedNotice } from '../../../scripts/lib/simulate-command.ts'

describe('simulate seed', () => {
  it('varies the default seed per run, so a second run does not repeat the first run\'s event ids', () => {
    const seeds = new Set(Array.from({ length: 20 }, () => resolveSeed(undefined).seed))
    expect(seeds.size).toBeGreaterThan(15)
    expect(resolveSeed(undefined).chosen).toBe(false)
    expect(seedNotice({ seed: 9, chosen: false })).toContain('pass --seed 9 to repeat')
  })
  it('keeps a given seed and says loudly that it repeats the events and their ids', () => {
    expect(resolveSeed(42)).toEqual({ seed: 42, chosen: true })
    expect(seedNotice(resolveSeed(42))).toMatch(/repeats the same events and event ids.*duplicates/)
  })
})
