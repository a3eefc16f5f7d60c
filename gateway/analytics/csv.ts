/**
 * CSV of export rows (pure): RFC 4180 (comma separated, CRLF line ends, a header row, fields
 * with a comma, quote or line break quoted, quotes doubled). Text cells that a spreadsheet would
 * run as a formula (starting with `=`, `+`, `-`, `@`, tab or CR; OWASP "CSV injection") get a
 * leading `'`; numbers are written as JavaScript prints them, null as an empty field.
 */

/** A cell value. */
export type Cell = string | number | boolean | null

const FORMULA = /^[=+\-@\t\r]/

/** One field. */
export function csvField(v: Cell): string {
  if (v === null) return ''
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : ''
  if (typeof v === 'boolean') return v ? 'true' : 'false'
  const text = FORMULA.test(v) ? `'${v}` : v
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

/** The CSV text of rows under a header of `columns` (values taken by column name). */
export function toCsv(columns: readonly string[], rows: readonly Readonly<Record<string, Cell>>[]): string {
  const lines = [columns.map(csvField).join(',')]
  for (const r of rows) lines.push(columns.map((c) => csvField(r[c] ?? null)).join(','))
  return `${lines.join('\r\n')}\r\n`
}

/** Parses CSV written by {@link toCsv} (for tests and clients): rows of strings. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"'
        i++
      } else if (ch === '"') quoted = false
      else field += ch
    } else if (ch === '"') quoted = true
    else if (ch === ',') {
      row.push(field)
      field = ''
    } else if (ch === '\n' || (ch === '\r' && text[i + 1] === '\n')) {
      if (ch === '\r') i++
      row.push(field)
      rows.push(row)
      row = []
      field = ''
    } else field += ch
  }
  if (field !== '' || row.length > 0) {
    row.push(field)
    rows.push(row)
  }
  return rows
}
