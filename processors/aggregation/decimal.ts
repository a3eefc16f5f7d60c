/**
 * Exact decimal sums for USD amounts and millisecond latency sums.
 *
 * Rollup sums must not depend on the order events are added in (three instances, a restart or
 * a replay must give the same rows), and float addition is not associative. So every amount
 * travels as a decimal string: a JS number becomes its shortest round-trip text
 * (`String(0.001559)` = `'0.001559'`), batches are summed here as BigInt multiples of 10^-18,
 * and PostgreSQL adds them into `numeric` columns, which is exact. Digits beyond 10^-18 are
 * rounded half away from zero, an error below 5·10^-19 per value (far under the 1e-9 USD the
 * acceptance check allows over a whole replay).
 */

/** Decimal places kept. */
export const DECIMAL_SCALE = 18
const ONE = 10n ** BigInt(DECIMAL_SCALE)
const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/

/**
 * Parses a decimal string or a finite number into units of 10^-18.
 * @throws RangeError for NaN, infinities and text that is not a decimal number
 */
export function toScaled(value: string | number): bigint {
  const text = typeof value === 'number' ? numberText(value) : value.trim()
  const m = DECIMAL.exec(text)
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw new RangeError(`not a decimal number: '${text}'`)
  const sign = m[1] === '-' ? -1n : 1n
  const digits = `${m[2]}${m[3] ?? ''}`.replace(/^0+(?=\d)/, '') || '0'
  // value = digits * 10^(exp - fractionDigits); shift to 10^-SCALE units.
  const shift = Number(m[4] ?? '0') - (m[3] ?? '').length + DECIMAL_SCALE
  if (shift >= 0) return sign * BigInt(digits) * 10n ** BigInt(shift)
  const divisor = 10n ** BigInt(-shift)
  const n = BigInt(digits)
  const rounded = (n + divisor / 2n) / divisor
  return sign * rounded
}

/** Formats units of 10^-18 as a plain decimal string without trailing zeros ('0.001559', '12', '-0.5'). */
export function fromScaled(scaled: bigint): string {
  const negative = scaled < 0n
  const abs = negative ? -scaled : scaled
  const whole = abs / ONE
  const fraction = (abs % ONE).toString().padStart(DECIMAL_SCALE, '0').replace(/0+$/, '')
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`
}

/** Exact sum of decimal strings or numbers, as a decimal string. */
export function addDecimal(...values: readonly (string | number)[]): string {
  let sum = 0n
  for (const v of values) sum += toScaled(v)
  return fromScaled(sum)
}

/** The decimal text of a finite number (its shortest round-trip form, normalised). */
export function decimalOf(value: number): string {
  return fromScaled(toScaled(value))
}

function numberText(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`)
  return String(value)
}
