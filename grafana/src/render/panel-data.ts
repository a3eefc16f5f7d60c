/**
 * The data of a panel as the renderer draws it: long-format rows (`series`, `x`, `y` for time
 * series; one record per row for tables, bars, heatmaps and node graphs), built from Prometheus
 * query results or SQL rows. Pure.
 */

/** A Prometheus matrix or vector series. */
export interface PromSeries {
  metric: Record<string, string>
  values?: Array<[number, string]>
  value?: [number, string]
}

/** Rows of one query of a panel. */
export interface QueryFrame {
  refId: string
  /** Column names in order (SQL) or ['series', 'time', 'value'] (Prometheus). */
  columns: string[]
  rows: Array<Record<string, unknown>>
}

/** `{{label}}` substitution of a Prometheus legend; `__auto` or empty → the label set. */
export function legendOf(format: string | undefined, metric: Record<string, string>): string {
  const own = Object.entries(metric).filter(([k]) => k !== '__name__')
  if (!format || format === '__auto') return own.length === 0 ? 'value' : own.map(([k, v]) => `${k}=${v}`).join(', ')
  return format.replace(/\{\{\s*(\w+)\s*\}\}/g, (_m, k: string) => metric[k] ?? '')
}

/** Prometheus series → a frame of (series, time, value) rows; NaN and infinities are left out. */
export function promFrame(refId: string, legend: string | undefined, series: readonly PromSeries[]): QueryFrame {
  const rows: Array<Record<string, unknown>> = []
  for (const s of series) {
    const name = legendOf(legend, s.metric)
    for (const [t, v] of s.values ?? (s.value ? [s.value] : [])) {
      const y = Number(v)
      if (Number.isFinite(y)) rows.push({ series: name, time: t * 1000, value: y, ...s.metric })
    }
  }
  return { refId, columns: ['series', 'time', 'value'], rows }
}

/** A value as a number when it is one (pg returns numeric and bigint as strings), else as is. */
export function cell(v: unknown): unknown {
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v)
  if (v instanceof Date) return v.getTime()
  return v
}

/** SQL rows → a frame with numbers parsed. */
export function sqlFrame(refId: string, columns: readonly string[], rows: ReadonlyArray<Record<string, unknown>>): QueryFrame {
  return { refId, columns: [...columns], rows: rows.map((r) => Object.fromEntries(columns.map((c) => [c, cell(r[c])]))) }
}

/**
 * An SQL time_series frame (columns `time`, optional `metric`, value columns) → (series, time,
 * value) rows, one series per metric and value column.
 */
export function sqlSeriesFrame(f: QueryFrame): QueryFrame {
  const valueCols = f.columns.filter((c) => c !== 'time' && c !== 'metric')
  const rows: Array<Record<string, unknown>> = []
  for (const r of f.rows) {
    for (const c of valueCols) {
      const y = r[c]
      if (typeof y !== 'number' || !Number.isFinite(y)) continue
      const series = typeof r.metric === 'string' ? (valueCols.length > 1 ? `${r.metric} ${c}` : r.metric) : c
      rows.push({ series, time: r.time, value: y })
    }
  }
  return { refId: f.refId, columns: ['series', 'time', 'value'], rows }
}

/** How many distinct series (or rows, for tables) a frame holds. */
export function seriesCount(f: QueryFrame): number {
  return f.columns[0] === 'series' && f.columns[1] === 'time' ? new Set(f.rows.map((r) => r.series)).size : f.rows.length
}
