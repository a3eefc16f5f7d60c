/**
 * Shared panel helpers: every panel is named for the question it answers, carries its unit,
 * and is laid out on a 24-column grid by {@link layout}. Thresholds come from `thresholds.ts`.
 */
import * as cog from '@grafana/grafana-foundation-sdk/cog'
import * as commonSdk from '@grafana/grafana-foundation-sdk/common'
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard'
import * as barchart from '@grafana/grafana-foundation-sdk/barchart'
import * as heatmap from '@grafana/grafana-foundation-sdk/heatmap'
import * as nodegraph from '@grafana/grafana-foundation-sdk/nodegraph'
import * as stat from '@grafana/grafana-foundation-sdk/stat'
import * as statetimeline from '@grafana/grafana-foundation-sdk/statetimeline'
import * as table from '@grafana/grafana-foundation-sdk/table'
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries'
import { POSTGRES, PROMETHEUS } from './datasources.ts'
import type { SqlQueryBuilder } from './queries.ts'

/** One threshold step: from `value` (null = the base) on, `color`. */
export type Step = { value: number | null; color: string }

/** What every panel has. */
export interface PanelCommon {
  /** The question the panel answers. */
  title: string
  /** How the figure is computed: its source and, for a rate, its denominator. */
  description: string
  /** Grafana unit id (`reqps`, `s`, `currencyUSD`, `percentunit`, `short`, …). */
  unit?: string
  targets: cog.Builder<cog.Dataquery>[]
  /** Width in grid columns (24 = full); default 12. */
  w?: number
  /** Height in grid rows; default 8. */
  h?: number
  thresholds?: Step[]
}

type AnyPanelBuilder = cog.Builder<dashboard.Panel> & {
  title(t: string): unknown
  description(d: string): unknown
  datasource(d: dashboard.DataSourceRef): unknown
  unit(u: string): unknown
  withTarget(t: cog.Builder<cog.Dataquery>): unknown
  thresholds(t: cog.Builder<dashboard.ThresholdsConfig>): unknown
  gridPos(g: dashboard.GridPos): unknown
}

/** A panel with its size, ready for {@link layout}. */
export interface SizedPanel {
  builder: cog.Builder<dashboard.Panel>
  w: number
  h: number
}

function common<B extends AnyPanelBuilder>(b: B, spec: PanelCommon): SizedPanel {
  const sqlOnly = spec.targets.every((t) => (t as unknown) instanceof Object && (t.build() as { rawSql?: string }).rawSql !== undefined)
  b.title(spec.title)
  b.description(spec.description)
  b.datasource(sqlOnly ? POSTGRES : PROMETHEUS)
  if (spec.unit) b.unit(spec.unit)
  spec.targets.forEach((t, i) => {
    const built = t.build() as { refId?: string }
    built.refId = String.fromCharCode(65 + i)
    b.withTarget({ build: () => built as cog.Dataquery })
  })
  if (spec.thresholds) {
    b.thresholds(new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps(spec.thresholds))
  }
  return { builder: b, w: spec.w ?? 12, h: spec.h ?? 8 }
}

/** A time series (lines; `stack` for shares of a whole). */
export function series(spec: PanelCommon & { stack?: boolean; thresholdLines?: boolean; min?: number; max?: number }): SizedPanel {
  const b = new timeseries.PanelBuilder().legend(new commonSdk.VizLegendOptionsBuilder().showLegend(true).displayMode(commonSdk.LegendDisplayMode.Table).placement(commonSdk.LegendPlacement.Bottom).calcs(['lastNotNull', 'max']))
  if (spec.min !== undefined) b.min(spec.min)
  if (spec.max !== undefined) b.max(spec.max)
  if (spec.stack) b.stacking(new commonSdk.StackingConfigBuilder().mode(commonSdk.StackingMode.Normal))
  if (spec.thresholdLines) b.thresholdsStyle(new commonSdk.GraphThresholdsStyleConfigBuilder().mode(commonSdk.GraphThresholdsStyleMode.Line))
  return common(b as unknown as AnyPanelBuilder, spec)
}

/** A single figure (or one per series). */
export function single(spec: PanelCommon & { decimals?: number }): SizedPanel {
  const b = new stat.PanelBuilder().reduceOptions(new commonSdk.ReduceDataOptionsBuilder().calcs(['lastNotNull']))
  if (spec.decimals !== undefined) b.decimals(spec.decimals)
  return common(b as unknown as AnyPanelBuilder, { w: 6, h: 5, ...spec })
}

/** A table (SQL rows or instant Prometheus vectors). */
export function grid(spec: PanelCommon): SizedPanel {
  return common(new table.PanelBuilder() as unknown as AnyPanelBuilder, spec)
}

/** Bars per category (hour of day, item, …). */
export function bars(spec: PanelCommon & { x?: string }): SizedPanel {
  const b = new barchart.PanelBuilder()
  if (spec.x) b.xField(spec.x)
  return common(b as unknown as AnyPanelBuilder, spec)
}

/** A heatmap of a time series per row (`calculate: false`: the query gives the cells). */
export function heat(spec: PanelCommon): SizedPanel {
  return common(new heatmap.PanelBuilder().calculate(false) as unknown as AnyPanelBuilder, spec)
}

/** A node graph from a nodes query (id, title, mainstat) and an edges query (id, source, target, mainstat). */
export function network(spec: PanelCommon): SizedPanel {
  return common(new nodegraph.PanelBuilder() as unknown as AnyPanelBuilder, { w: 24, h: 12, ...spec })
}

/** A state timeline (one row per component, colored by state). */
export function states(spec: PanelCommon & { mappings?: dashboard.ValueMapping[] }): SizedPanel {
  const b = new statetimeline.PanelBuilder()
  if (spec.mappings) b.mappings(spec.mappings)
  return common(b as unknown as AnyPanelBuilder, spec)
}

/** Places panels left to right, wrapping at 24 columns, and adds them to the dashboard. */
export function layout(d: dashboard.DashboardBuilder, panels: SizedPanel[]): dashboard.DashboardBuilder {
  let x = 0
  let y = 0
  let rowH = 0
  for (const p of panels) {
    if (x + p.w > 24) {
      x = 0
      y += rowH
      rowH = 0
    }
    ;(p.builder as unknown as AnyPanelBuilder).gridPos({ x, y, w: p.w, h: p.h })
    d.withPanel(p.builder)
    x += p.w
    rowH = Math.max(rowH, p.h)
  }
  return d
}

/** Re-export for dashboards that build SQL queries. */
export type { SqlQueryBuilder }
