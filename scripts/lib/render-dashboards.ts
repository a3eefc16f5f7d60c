/**
 * `npm run render:dashboards`: draws every generated dashboard (grafana/dashboards/*.json) into a
 * PNG, panel by panel at its grid position, from the panels' own queries run against the running
 * stack: Prometheus (range queries for time series, instant queries otherwise) and the rollup
 * schema in PostgreSQL (read-only transaction). Charts are Vega-Lite specs
 * (grafana/src/render/panel-spec.ts) rendered to SVG by Vega and rasterised by resvg. Since no
 * Grafana server can run here, this shows a reviewer what an SRE would see.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import * as vega from 'vega'
import { compile } from 'vega-lite'
import { Resvg } from '@resvg/resvg-js'
import { interpolate, panelQueries, type DashboardJson, type Interpolation, type PanelJson } from '../../grafana/src/panel-queries.ts'
import { promFrame, seriesCount, sqlFrame, sqlSeriesFrame, type PromSeries, type QueryFrame } from '../../grafana/src/render/panel-data.ts'
import { panelSpec, statFigures, type RenderPanel } from '../../grafana/src/render/panel-spec.ts'

/** Where and what to render. */
export interface RenderOptions {
  prometheusUrl: string
  databaseUrl: string
  /** PostgreSQL schema of the rollups. */
  schema: string
  /** Interpolation of the dashboards' variables and macros (instance regex, ranges). */
  interpolation: Interpolation
  /** Time of the instant queries and end of the range queries, epoch s. */
  evalS: number
  /** Length of the Prometheus range queries of time series panels, s. */
  promRangeS: number
  outDir: string
  /** Folder of the dashboard JSON files; default grafana/dashboards of this repo. */
  dashboardDir?: string
}

/**
 * What was drawn: one PNG per dashboard with its panels, how many series (or rows) each showed
 * and, for a stat panel, the figures it shows (label → value, as drawn; a null figure is absent).
 */
export interface RenderedDashboard {
  dashboard: string
  file: string
  panels: Array<{ title: string; type: string; series: number; figures?: Record<string, number> }>
}

const COL_PX = 56
const ROW_PX = 34
const HEADER_PX = 44

async function prom(base: string, path: string, params: Record<string, string>): Promise<PromSeries[]> {
  const res = await fetch(`${base}/api/v1/${path}`, { method: 'POST', body: new URLSearchParams(params) })
  const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: unknown } }
  if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.error ?? res.status}`)
  if (body.data!.resultType === 'scalar') return [{ metric: {}, value: body.data!.result as [number, string] }]
  return body.data!.result as PromSeries[]
}

async function panelFrames(d: DashboardJson, p: PanelJson, o: RenderOptions, client: pg.ClientBase): Promise<QueryFrame[]> {
  const frames: QueryFrame[] = []
  for (const q of panelQueries({ ...d, panels: [p] })) {
    const text = interpolate(q.text, o.interpolation)
    if (q.kind === 'prometheus') {
      const range = p.type === 'timeseries'
      const series = range
        ? await prom(o.prometheusUrl, 'query_range', { query: text, start: String(o.evalS - o.promRangeS), end: String(o.evalS), step: String(Math.max(1, Math.round(o.promRangeS / 240))) })
        : await prom(o.prometheusUrl, 'query', { query: text, time: String(o.evalS) })
      frames.push(promFrame(q.refId, q.legend, series))
    } else {
      const res = await client.query(text)
      const f = sqlFrame(q.refId, res.fields.map((x) => x.name), res.rows as Array<Record<string, unknown>>)
      const target = p.targets?.find((t) => t.refId === q.refId)
      frames.push(target?.format === 'time_series' ? sqlSeriesFrame(f) : f)
    }
  }
  return frames
}

async function svgOf(panel: RenderPanel, frames: QueryFrame[], w: number, h: number): Promise<string> {
  const empty = frames.every((f) => f.rows.length === 0)
  if (empty) {
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><rect width="100%" height="100%" fill="#181b1f"/><text x="8" y="18" fill="#d8d9da" font-size="13" font-family="DejaVu Sans">${escapeXml(panel.title)}</text><text x="${w / 2}" y="${h / 2}" fill="#8e8e8e" font-size="14" text-anchor="middle" font-family="DejaVu Sans">No data</text></svg>`
  }
  const stat = panel.type === 'stat'
  const spec = panelSpec(panel, frames, Math.max(80, stat ? w - 20 : w - 150), Math.max(40, stat ? h - 40 : h - 110))
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' })
  return view.toSVG()
}

const escapeXml = (s: string) => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!)

/** Renders every dashboard; resolves with what each PNG shows. */
export async function renderDashboards(o: RenderOptions): Promise<RenderedDashboard[]> {
  const dir = o.dashboardDir ?? join(import.meta.dirname, '..', '..', 'grafana', 'dashboards')
  mkdirSync(o.outDir, { recursive: true })
  const client = new pg.Client({ connectionString: o.databaseUrl, options: `-c search_path=${o.schema} -c default_transaction_read_only=on` })
  await client.connect()
  const out: RenderedDashboard[] = []
  try {
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.json')).sort()) {
      const d = JSON.parse(readFileSync(join(dir, f), 'utf8')) as DashboardJson
      const parts: string[] = []
      const panels: RenderedDashboard['panels'] = []
      let bottom = 0
      for (const p of d.panels ?? []) {
        const g = (p as { gridPos?: { x: number; y: number; w: number; h: number } }).gridPos ?? { x: 0, y: bottom, w: 12, h: 8 }
        const w = g.w * COL_PX - 8
        const h = g.h * ROW_PX - 8
        const steps = (p.fieldConfig?.defaults as { thresholds?: { steps?: Array<{ value: number | null; color: string }> } } | undefined)?.thresholds?.steps
        const rp: RenderPanel = { type: p.type, title: p.title ?? '', unit: p.fieldConfig?.defaults?.unit, thresholds: steps }
        const frames = await panelFrames(d, p, o, client)
        panels.push({
          title: rp.title, type: p.type, series: frames.reduce((n, fr) => n + seriesCount(fr), 0),
          ...(p.type === 'stat' ? { figures: Object.fromEntries(statFigures(frames).map((f) => [f.label, f.value])) } : {}),
        })
        const svg = await svgOf(rp, frames, w, h)
        const open = /^<svg([^>]*)>/.exec(svg)
        const attrs = open?.[1] ?? ''
        const sw = /\swidth="([\d.]+)"/.exec(attrs)?.[1] ?? String(w)
        const sh = /\sheight="([\d.]+)"/.exec(attrs)?.[1] ?? String(h)
        const kept = attrs.replace(/\s(width|height|viewBox|x|y)="[^"]*"/g, '')
        const inner = svg.replace(/^<svg[^>]*>/, `<svg${kept} x="${g.x * COL_PX + 4}" y="${HEADER_PX + g.y * ROW_PX + 4}" width="${w}" height="${h}" viewBox="0 0 ${sw} ${sh}" preserveAspectRatio="xMidYMid meet">`)
        parts.push(`<rect x="${g.x * COL_PX + 2}" y="${HEADER_PX + g.y * ROW_PX + 2}" width="${w + 4}" height="${h + 4}" fill="#181b1f" stroke="#2c3235"/>`, inner)
        bottom = Math.max(bottom, g.y + g.h)
      }
      const width = 24 * COL_PX
      const height = HEADER_PX + bottom * ROW_PX + 8
      const header = `<text x="12" y="28" fill="#d8d9da" font-size="20" font-family="DejaVu Sans">${escapeXml(d.title)}</text><text x="${width - 12}" y="28" fill="#8e8e8e" font-size="11" text-anchor="end" font-family="DejaVu Sans">${escapeXml(`rendered ${new Date(o.evalS * 1000).toISOString()} from the running stack`)}</text>`
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#111217"/>${header}${parts.join('')}</svg>`
      const png = new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' }, background: '#111217' }).render().asPng()
      const file = join(o.outDir, `${d.uid}.png`)
      writeFileSync(file, png)
      out.push({ dashboard: d.title, file, panels })
    }
  } finally {
    await client.end()
  }
  return out
}
