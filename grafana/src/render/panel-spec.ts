/**
 * Vega-Lite specifications of panels, by Grafana panel type: time series as lines, stat as big
 * figures, table as a text grid, bar chart as bars, heatmap and state timeline as colored cells,
 * node graph as a circle of agents joined by edges whose width is the edge count. Pure.
 */
import type { TopLevelSpec } from 'vega-lite'
import type { QueryFrame } from './panel-data.ts'

/** What the renderer knows of a panel. */
export interface RenderPanel {
  type: string
  title: string
  unit?: string
  /** Thresholds (from value on, color) of the panel, drawn as rules on time series. */
  thresholds?: Array<{ value: number | null; color: string }>
}

const BASE = { background: '#181b1f', config: { view: { stroke: '#2c3235' }, axis: { labelColor: '#ccccdc', titleColor: '#ccccdc', gridColor: '#2c3235', domainColor: '#444' }, legend: { labelColor: '#ccccdc', titleColor: '#ccccdc', labelLimit: 260 }, title: { color: '#d8d9da', anchor: 'start' as const, fontSize: 13 }, text: { color: '#d8d9da' } } }

const UNIT_FORMAT: Record<string, string> = { percentunit: '.1%', currencyUSD: '$,.4~f', s: '.3~s', ms: ',.1f', reqps: '.3~s', short: '.3~s' }
const fmt = (unit?: string) => UNIT_FORMAT[unit ?? 'short'] ?? '.3~s'

function titled(p: RenderPanel, w: number, h: number): { title: string; width: number; height: number } {
  return { title: p.unit ? `${p.title}  [${p.unit}]` : p.title, width: w, height: h }
}

/** The spec of one panel, `w`×`h` pixels of plot area. */
export function panelSpec(p: RenderPanel, frames: readonly QueryFrame[], w: number, h: number): TopLevelSpec {
  const rows = frames.flatMap((f) => f.rows)
  const t = titled(p, w, h)
  switch (p.type) {
    case 'timeseries':
      return timeSeries(p, rows, t)
    case 'stat':
      return statSpec(p, frames, t)
    case 'barchart':
      return barSpec(p, frames[0]!, t)
    case 'heatmap':
    case 'state-timeline':
      return cellsSpec(p, rows, t)
    case 'nodeGraph':
      return nodeGraphSpec(frames, t)
    default:
      return tableSpec(frames[0]!, t)
  }
}

function timeSeries(p: RenderPanel, rows: Array<Record<string, unknown>>, t: ReturnType<typeof titled>): TopLevelSpec {
  const rules = (p.thresholds ?? []).filter((s) => s.value !== null).map((s) => ({ y: s.value, color: s.color }))
  const times = rows.map((r) => Number(r.time)).filter(Number.isFinite)
  const spanMs = times.length > 0 ? Math.max(...times) - Math.min(...times) : 0
  const timeFormat = spanMs > 86_400_000 ? '%b %d' : '%H:%M'
  return {
    ...BASE, ...t,
    layer: [
      { data: { values: rows }, mark: { type: 'line', strokeWidth: 1.5, interpolate: 'monotone' }, encoding: {
        x: { field: 'time', type: 'temporal', title: null, axis: { format: timeFormat, labelOverlap: true } },
        y: { field: 'value', type: 'quantitative', title: null, axis: { format: fmt(p.unit) } },
        color: { field: 'series', type: 'nominal', legend: { orient: 'bottom', columns: 3, title: null, symbolLimit: 12 } },
      } },
      ...(rules.length > 0 ? [{ data: { values: rules }, mark: { type: 'rule' as const, strokeDash: [4, 4] }, encoding: { y: { field: 'y', type: 'quantitative' as const }, color: { field: 'color', type: 'nominal' as const, scale: null } } }] : []),
    ],
  } as TopLevelSpec
}

/**
 * The figures a stat panel shows, in order: the last value of each Prometheus series (labelled
 * by its legend), or each numeric column of each SQL row (labelled by the column name). A null
 * (nobody measured) is left out, as Grafana shows no figure for it.
 */
export function statFigures(frames: readonly QueryFrame[]): Array<{ label: string; value: number }> {
  const values: Array<{ label: string; value: number }> = []
  for (const f of frames) {
    if (f.columns[0] === 'series') {
      const last = new Map<string, number>()
      for (const r of f.rows) last.set(String(r.series), Number(r.value))
      for (const [label, value] of last) values.push({ label, value })
    } else {
      for (const r of f.rows) for (const c of f.columns) if (typeof r[c] === 'number') values.push({ label: c, value: r[c] as number })
    }
  }
  return values
}

function statSpec(p: RenderPanel, frames: readonly QueryFrame[], t: ReturnType<typeof titled>): TopLevelSpec {
  const values = statFigures(frames)
  const shown = values.slice(0, 3).map((v, i) => ({ ...v, i, text: formatted(v.value, i === 0 ? p.unit : undefined) }))
  return {
    ...BASE, ...t,
    data: { values: shown },
    layer: [
      { mark: { type: 'text', fontSize: 30, fontWeight: 'bold', color: '#73bf69', dy: -8 }, encoding: { y: { field: 'i', type: 'ordinal', axis: null }, text: { field: 'text', type: 'nominal' } } },
      { mark: { type: 'text', fontSize: 12, dy: 16, color: '#8e8e8e' }, encoding: { y: { field: 'i', type: 'ordinal', axis: null }, text: { field: 'label', type: 'nominal' } } },
    ],
  } as TopLevelSpec
}

/** A figure in the panel's unit (the first figure of a stat) or plain. */
function formatted(v: number, unit?: string): string {
  if (unit === 'currencyUSD') return `$${v < 1 ? v.toPrecision(3) : v.toFixed(2)}`
  if (unit === 'percentunit') return `${(v * 100).toFixed(1)}%`
  return Number.isInteger(v) ? String(v) : v.toPrecision(4)
}

function barSpec(p: RenderPanel, f: QueryFrame, t: ReturnType<typeof titled>): TopLevelSpec {
  const x = f.columns.find((c) => f.rows.some((r) => typeof r[c] === 'string')) ?? f.columns[0]!
  const y = f.columns.find((c) => c !== x && f.rows.some((r) => typeof r[c] === 'number')) ?? f.columns[1]!
  return {
    ...BASE, ...t,
    data: { values: f.rows },
    mark: { type: 'bar', color: '#5794f2' },
    encoding: {
      x: { field: x, type: 'nominal', sort: null, title: null, axis: { labelAngle: -30, labelLimit: 140 } },
      y: { field: y, type: 'quantitative', title: y, axis: { format: fmt(p.unit) } },
    },
  } as TopLevelSpec
}

function cellsSpec(p: RenderPanel, rows: Array<Record<string, unknown>>, t: ReturnType<typeof titled>): TopLevelSpec {
  const states = p.type === 'state-timeline'
  return {
    ...BASE, ...t,
    data: { values: rows },
    mark: { type: 'rect' },
    encoding: {
      x: { field: 'time', type: 'ordinal', timeUnit: 'utcyearmonthdatehoursminutes', title: null, axis: { format: '%H:%M', labelOverlap: true } },
      y: { field: 'series', type: 'nominal', title: null },
      color: states
        ? { field: 'value', type: 'ordinal', scale: { domain: [0, 1, 2], range: ['#73bf69', '#ff9830', '#f2495c'] }, legend: { title: '0 healthy · 1 degraded · 2 unhealthy', orient: 'bottom' } }
        : { field: 'value', type: 'quantitative', scale: { scheme: 'oranges' }, legend: { orient: 'bottom', title: null } },
    },
  } as TopLevelSpec
}

function tableSpec(f: QueryFrame, t: ReturnType<typeof titled>): TopLevelSpec {
  const cols = f.columns.filter((c) => c !== 'time').slice(0, 7)
  const shown = f.rows.slice(0, Math.max(1, Math.floor(t.height / 16) - 1))
  const cells: Array<{ row: number; col: string; text: string }> = []
  for (const c of cols) cells.push({ row: 0, col: c, text: c })
  shown.forEach((r, i) => {
    for (const c of cols) {
      const v = r[c]
      cells.push({ row: i + 1, col: c, text: v === null || v === undefined ? '—' : typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(4)) : String(v).slice(0, 28) })
    }
  })
  return {
    ...BASE, ...t,
    data: { values: cells },
    mark: { type: 'text', align: 'left', fontSize: 10, limit: Math.floor(t.width / cols.length) - 4 },
    encoding: {
      x: { field: 'col', type: 'nominal', sort: cols, axis: null, scale: { paddingOuter: 0, align: 0 } },
      y: { field: 'row', type: 'ordinal', axis: null },
      text: { field: 'text', type: 'nominal' },
      color: { condition: { test: 'datum.row === 0', value: '#8ab8ff' }, value: '#d8d9da' },
    },
  } as TopLevelSpec
}

function nodeGraphSpec(frames: readonly QueryFrame[], t: ReturnType<typeof titled>): TopLevelSpec {
  const nodes = frames[0]?.rows ?? []
  const edges = frames[1]?.rows ?? []
  const pos = new Map<string, { x: number; y: number }>()
  nodes.forEach((n, i) => {
    const a = (2 * Math.PI * i) / Math.max(1, nodes.length)
    pos.set(String(n.id), { x: Math.cos(a), y: Math.sin(a) })
  })
  const lines = edges.filter((e) => pos.has(String(e.source)) && pos.has(String(e.target))).map((e) => {
    const s = pos.get(String(e.source))!
    const d = pos.get(String(e.target))!
    return { x: s.x, y: s.y, x2: d.x, y2: d.y, count: Number(e.mainstat) }
  })
  const points = nodes.map((n) => ({ ...pos.get(String(n.id))!, label: String(n.title), count: Number(n.mainstat) }))
  const scale = { domain: [-1.35, 1.35] }
  return {
    ...BASE, ...t,
    layer: [
      { data: { values: lines }, mark: { type: 'rule', color: '#5794f2', opacity: 0.5 }, encoding: {
        x: { field: 'x', type: 'quantitative', scale, axis: null }, y: { field: 'y', type: 'quantitative', scale, axis: null },
        x2: { field: 'x2' }, y2: { field: 'y2' }, strokeWidth: { field: 'count', type: 'quantitative', scale: { range: [0.5, 6] }, legend: { title: 'edge count', orient: 'bottom' } },
      } },
      { data: { values: points }, mark: { type: 'circle', color: '#73bf69', opacity: 1 }, encoding: {
        x: { field: 'x', type: 'quantitative', scale, axis: null }, y: { field: 'y', type: 'quantitative', scale, axis: null },
        size: { field: 'count', type: 'quantitative', scale: { range: [60, 700] }, legend: null },
      } },
      { data: { values: points }, mark: { type: 'text', dy: -14, fontSize: 10, color: '#d8d9da' }, encoding: {
        x: { field: 'x', type: 'quantitative', scale, axis: null }, y: { field: 'y', type: 'quantitative', scale, axis: null }, text: { field: 'label' },
      } },
    ],
  } as TopLevelSpec
}
