/**
 * Durations in rule files: Prometheus style, e.g. `500ms`, `30s`, `5m`, `1h`, `1d`, or a sum
 * such as `1h30m`; `0` or `0s` is zero. Parsed to milliseconds.
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }
const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/

/**
 * Milliseconds of a duration string, or null when it is not one (`5 min`, `-1s`, ``).
 * A bare `0` is accepted as zero.
 */
export function parseDurationMs(text: string): number | null {
  if (text === '0') return 0
  const m = DURATION.exec(text)
  if (!m || text === '') return null
  const [, d, h, min, s, ms] = m
  return (Number(d ?? 0) * UNIT_MS.d!) + (Number(h ?? 0) * UNIT_MS.h!) + (Number(min ?? 0) * UNIT_MS.m!) + (Number(s ?? 0) * UNIT_MS.s!) + Number(ms ?? 0)
}

/** The shortest duration string of a number of ms (`90000` → `1m30s`), for messages. */
export function formatDurationMs(ms: number): string {
  if (ms === 0) return '0s'
  let rest = ms
  let out = ''
  for (const unit of ['d', 'h', 'm', 's', 'ms'] as const) {
    const n = Math.floor(rest / UNIT_MS[unit]!)
    if (n > 0) {
      out += `${n}${unit}`
      rest -= n * UNIT_MS[unit]!
    }
  }
  return out
}
