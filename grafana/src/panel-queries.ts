/**
 * Reading queries back out of generated dashboard JSON, and interpolating Grafana's variables
 * and macros into them as Grafana would before sending them to the datasource. Pure; used by
 * the proof test and the renderer, which run every panel's query against the real servers.
 */

/** The part of a dashboard JSON the readers need. */
export interface DashboardJson {
  uid: string
  title: string
  panels?: PanelJson[]
  templating?: { list?: Array<{ name: string; datasource?: { uid?: string } }> }
}

/** The part of a panel JSON the readers need. */
export interface PanelJson {
  type: string
  title?: string
  datasource?: { type?: string; uid?: string }
  fieldConfig?: { defaults?: { unit?: string } }
  targets?: Array<{ refId?: string; datasource?: { type?: string; uid?: string }; expr?: string; rawSql?: string; format?: string; legendFormat?: string; instant?: boolean }>
}

/** One query of one panel. */
export interface PanelQuery {
  dashboard: string
  panel: string
  panelType: string
  refId: string
  datasourceUid: string
  kind: 'prometheus' | 'sql'
  /** PromQL or SQL as stored in the dashboard (uninterpolated). */
  text: string
  legend?: string
}

/** Every query of every panel of a dashboard. @throws Error when a target has neither expr nor rawSql. */
export function panelQueries(d: DashboardJson): PanelQuery[] {
  const out: PanelQuery[] = []
  for (const p of d.panels ?? []) {
    for (const t of p.targets ?? []) {
      const uid = t.datasource?.uid ?? p.datasource?.uid ?? ''
      const base = { dashboard: d.title, panel: p.title ?? '(untitled)', panelType: p.type, refId: t.refId ?? '', datasourceUid: uid }
      if (typeof t.expr === 'string') out.push({ ...base, kind: 'prometheus', text: t.expr, legend: t.legendFormat })
      else if (typeof t.rawSql === 'string') out.push({ ...base, kind: 'sql', text: t.rawSql })
      else throw new Error(`${d.title} / ${base.panel} ${base.refId}: a target with neither expr nor rawSql`)
    }
  }
  return out
}

/** Values for interpolation. Variables not given are "All" (`.*`). */
export interface Interpolation {
  /** Variable name → value (a regex for multi-value variables). */
  variables: Record<string, string>
  /** `$__rate_interval` and `$__interval`, e.g. `1m`. */
  rateInterval: string
  /** `$__range`, e.g. `600s`. */
  range: string
  /** Dashboard range, epoch seconds (`$__unixEpochFrom()`, `$__unixEpochTo()`). */
  fromS: number
  toS: number
}

/** The text with macros and variables replaced (`${v:fmt}`, `${v}`, `$v`; unknown variables → `.*`). */
export function interpolate(text: string, i: Interpolation): string {
  return text
    .replaceAll('$__rate_interval', i.rateInterval)
    .replaceAll('$__interval', i.rateInterval)
    .replaceAll('$__range', i.range)
    .replaceAll('$__unixEpochFrom()', String(Math.floor(i.fromS)))
    .replaceAll('$__unixEpochTo()', String(Math.ceil(i.toS)))
    .replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (_m, a: string | undefined, b: string | undefined) => i.variables[(a ?? b)!] ?? '.*')
}
