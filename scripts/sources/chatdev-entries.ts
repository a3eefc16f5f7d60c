/**
 * Splits a ChatDev WareHouse log into entries (data README, section 1 "Format"): a header line
 * `[YYYY-DD-MM HH:MM:SS LEVEL] message`, then every following line that is not a header.
 * Pure: text in, data out.
 */
import { countSkip } from './common.ts'

/** Header of an entry, per the README: `^\[(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) (INFO|WARNING)\] (.*)$`. */
export const HEADER_RE = /^\[(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) (INFO|WARNING)\] (.*)$/

/** The visualizer noise after almost every entry (README "Noise"); dropped with its blank body. */
export const FLASK_NOISE = 'flask app.py did not start for online log'

/** One entry of a log. */
export interface LogEntry {
  /** 0-based ordinal among the entries kept (noise excluded): the replay's entry index. */
  index: number
  /** 1-based line number of the header line in the file. */
  line: number
  level: 'INFO' | 'WARNING'
  /** Log local time read as UTC, epoch microseconds, 1-second resolution. */
  timeUs: number
  /** True when the header used `%Y-%m-%d` and the day/month fields were swapped (README "Timestamp pitfall"). */
  dateSwapped: boolean
  /** Header text after the `[ts LEVEL] ` prefix. */
  header: string
  /** Following lines joined with `\n` (CR removed), as in the file. */
  body: string
}

/** Entries of one log and what was dropped, by reason. */
export interface SplitLog {
  entries: LogEntry[]
  /**
   * Dropped input: `flask_noise` (noise entries), `flask_noise_body_lines` (non-blank lines
   * under a noise header), `orphan_lines` (non-blank lines before the first header),
   * `invalid_timestamp` (headers whose date is valid in neither field order) and
   * `invalid_timestamp_body_lines` (their non-blank body lines, dropped too).
   */
  skipped: Record<string, number>
}

const MICROS_PER_SECOND = 1_000_000

function utcMicros(y: number, month: number, day: number, h: number, mi: number, s: number): number | null {
  if (month < 1 || month > 12 || day < 1 || h > 23 || mi > 59 || s > 59) return null
  const ms = Date.UTC(y, month - 1, day, h, mi, s)
  if (new Date(ms).getUTCDate() !== day) return null // e.g. 31 Feb
  return ms * 1000
}

/**
 * Reads a header timestamp. ChatDev logs with `datefmt='%Y-%d-%m %H:%M:%S'`, so the fields are
 * year-DAY-month; when that is no valid date the two fields are swapped (README: 3 Tetris lines
 * use `%Y-%m-%d`). A date valid both ways is read day-first, as the README prescribes.
 * @returns epoch microseconds (local time taken as UTC) and whether the fields were swapped, or null.
 */
export function parseHeaderTime(fields: readonly string[]): { timeUs: number; swapped: boolean } | null {
  const [y, a, b, h, mi, s] = fields.map(Number) as [number, number, number, number, number, number]
  const dayFirst = utcMicros(y, b, a, h, mi, s)
  if (dayFirst !== null) return { timeUs: dayFirst, swapped: false }
  const monthFirst = utcMicros(y, a, b, h, mi, s)
  return monthFirst === null ? null : { timeUs: monthFirst, swapped: true }
}

/**
 * Splits log text into entries. Accepts LF and CRLF line endings (README: Article_pic uses CRLF)
 * and a leading BOM.
 */
export function splitEntries(text: string): SplitLog {
  const skipped: Record<string, number> = {}
  const entries: LogEntry[] = []
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/)
  let current: { entry: LogEntry; body: string[] } | null = null
  let inNoise = false
  let inInvalid = false
  const close = (): void => {
    if (current) current.entry.body = current.body.join('\n')
    current = null
  }
  lines.forEach((line, i) => {
    const m = HEADER_RE.exec(line)
    if (!m) {
      if (current) current.body.push(line)
      else if (line.trim() !== '') {
        countSkip(skipped, inNoise ? 'flask_noise_body_lines' : inInvalid ? 'invalid_timestamp_body_lines' : 'orphan_lines')
      }
      return
    }
    close()
    inNoise = false
    inInvalid = false
    const message = m[8]!
    if (message.trim() === FLASK_NOISE) {
      countSkip(skipped, 'flask_noise')
      inNoise = true
      return
    }
    const time = parseHeaderTime(m.slice(1, 7))
    if (!time) {
      countSkip(skipped, 'invalid_timestamp')
      inInvalid = true
      return
    }
    const entry: LogEntry = {
      index: entries.length,
      line: i + 1,
      level: m[7] as 'INFO' | 'WARNING',
      timeUs: time.timeUs,
      dateSwapped: time.swapped,
      header: message,
      body: '',
    }
    entries.push(entry)
    current = { entry, body: [] }
  })
  close()
  return { entries, skipped }
}

/** Whole seconds between two entry times, in milliseconds (the logs have 1-second resolution). */
export function diffMs(fromUs: number, toUs: number): number {
  return Math.round((toUs - fromUs) / MICROS_PER_SECOND) * 1000
}
