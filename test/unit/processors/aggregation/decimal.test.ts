import { describe, expect, it } from 'vitest'
import { addDecimal, decimalOf, fromScaled, toScaled } from '../../../../processors/aggregation/decimal.ts'
import { seededRandom } from '../../../helpers/aggregation-events.ts'

describe('exact decimal sums', () => {
  it('parses numbers through their shortest text, exponents included', () => {
    expect(decimalOf(0.001559)).toBe('0.001559')
    expect(decimalOf(1.5e-7)).toBe('0.00000015')
    expect(decimalOf(2e21)).toBe('2000000000000000000000')
    expect(decimalOf(-0.5)).toBe('-0.5')
    expect(decimalOf(0)).toBe('0')
    expect(fromScaled(toScaled('12.50'))).toBe('12.5')
  })

  it('rounds beyond 18 decimals half away from zero', () => {
    expect(addDecimal('0.0000000000000000005')).toBe('0.000000000000000001')
    expect(addDecimal('-0.0000000000000000005')).toBe('-0.000000000000000001')
    expect(addDecimal('0.0000000000000000004')).toBe('0')
  })

  it('is exact and order-free where float addition is not', () => {
    expect(0.1 + 0.2).not.toBe(0.3)
    expect(addDecimal(0.1, 0.2)).toBe('0.3')
    const rand = seededRandom(5)
    const costs = Array.from({ length: 1000 }, () => rand() * 0.05)
    expect(addDecimal(...costs)).toBe(addDecimal(...[...costs].reverse()))
    expect(Math.abs(Number(addDecimal(...costs)) - costs.reduce((a, b) => a + b, 0))).toBeLessThan(1e-9)
  })

  it('rejects what is not a finite decimal', () => {
    expect(() => toScaled(Number.NaN)).toThrow(RangeError)
    expect(() => toScaled(Infinity)).toThrow(RangeError)
    expect(() => toScaled('1.2.3')).toThrow(RangeError)
    expect(() => toScaled('')).toThrow(RangeError)
  })
})
