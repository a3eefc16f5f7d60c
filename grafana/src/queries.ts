/**
 * Query builders of the panels: PromQL through the SDK's Prometheus builder, SQL through a small
 * builder of the PostgreSQL datasource's query model (the SDK ships no PostgreSQL query type).
 *
 * Conventions every dashboard follows (the proof test relies on them):
 * - every PromQL vector selector carries `instance=~"$instance"` (the `instance` variable picks
 *   the deployment's scrape targets), written with {@link sel};
 * - SQL reads epoch-µs windows between `$__unixEpochFrom()` and `$__unixEpochTo()` (seconds),
 *   written with {@link inRange}; variables in SQL use the `regex` format with `.*` as "All".
 * - A total over the dashboard range (a stat or table figure, not a per-second series) never
 *   uses `increase()` / `rate()` over `[$__range]`: a counter series born inside the range (its
 *   first scraped sample already holds its count, as after a fast replay) adds nothing to
 *   `increase()`, which cannot count a series' first value. Totals of events the rollups hold
 *   are read from PostgreSQL ({@link measuredCount}: each event once, exactly-once, by event
 *   time); totals only Prometheus knows use {@link rangeTotal}.
 */
import * as cog from '@grafana/grafana-foundation-sdk/cog'
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus'
import { POSTGRES, PROMETHEUS } from './datasources.ts'
import { RT } from '../../schemas/rollup-tables.ts'

/** Each event once per window and type: rows here mean the pipeline processed events then. */
const EVENT_TABLE = RT.event

/** A PromQL selector: `name{instance=~"$instance", …matchers}`. */
export function sel(name: string, ...matchers: string[]): string {
  return `${name}{${['instance=~"$instance"', ...matchers].join(', ')}}`
}

/**
 * PromQL total of the counter `selector` over the dashboard range (`$__range`), summed `by` the
 * given labels: per series its value now minus its value `$__range` ago
 * (`x - x offset $__range`), or its whole value when the series has no sample `$__range` ago,
 * i.e. was born inside the range (`or x`; set operators match label sets without the metric
 * name). Exact integers, no extrapolation, unlike `increase()`, which drops a born-filled series'
 * first value. Stands on: no counter reset of a series inside the range (a process restarted
 * under the same `instance`), and series still present at the range's end (a process stopped
 * inside the range is left out).
 * @param selector a counter selector, e.g. `sel('auren_records_dead_lettered_total', P)`
 * @param by grouping labels; none = one total
 */
export function rangeTotal(selector: string, by: readonly string[] = []): string {
  const group = by.length > 0 ? ` by (${by.join(', ')})` : ''
  return `sum${group} ((${selector} - ${selector} offset $__range) or ${selector})`
}

/** A PromQL query target with a legend. */
export function prom(expr: string, legend = '', instant = false): cog.Builder<cog.Dataquery> {
  const q = new DataqueryBuilder().datasource(PROMETHEUS).expr(expr).legendFormat(legend || '__auto')
  return instant ? q.instant() : q.range()
}

/** PostgreSQL query model as the Grafana PostgreSQL datasource stores it (raw SQL, code mode). */
export interface SqlQuery extends cog.Dataquery {
  refId: string
  datasource: typeof POSTGRES
  rawSql: string
  /** `time_series` (columns time, metric, value) or `table`. */
  format: 'time_series' | 'table'
  rawQuery: true
  editorMode: 'code'
}

/** Builder of a {@link SqlQuery}. */
export class SqlQueryBuilder implements cog.Builder<cog.Dataquery> {
  constructor(private readonly rawSql: string, private readonly format: 'time_series' | 'table') {}

  build(): SqlQuery {
    return {
      refId: '', datasource: POSTGRES, rawSql: this.rawSql, format: this.format, rawQuery: true, editorMode: 'code',
      _implementsDataqueryVariant() {},
    }
  }
}

/** An SQL table query. */
export const sqlTable = (rawSql: string): SqlQueryBuilder => new SqlQueryBuilder(squash(rawSql), 'table')
/** An SQL time-series query (columns `time`, optional `metric`, values). */
export const sqlSeries = (rawSql: string): SqlQueryBuilder => new SqlQueryBuilder(squash(rawSql), 'time_series')

/** `<col> BETWEEN <range start µs> AND <range end µs>`: the dashboard's time range on a µs column. */
export const inRange = (col = 'window_start_us'): string => `${col} BETWEEN $__unixEpochFrom()::bigint * 1000000 AND $__unixEpochTo()::bigint * 1000000`

/** `<col> ~ '^(${var:regex})$'`: a multi-value variable with All = `.*` applied to a text column. */
export const matches = (col: string, variable: string): string => `${col} ~ '^(\${${variable}:regex})$'`

/**
 * SQL of a count over the dashboard range from a rollup table: `sum(<column>)` of the rows of
 * `table` in the range matching `where`, 0 when none match but the pipeline processed events
 * in the range (agg_event_window has rows: the count was measured and is zero), null when it
 * processed none (nobody measured). Each event counts once (the rollups are written
 * exactly-once, by event time).
 * @param table a rollup table (`RT.*`)
 * @param column its additive counter column
 * @param where extra SQL conditions (`matches(...)`)
 */
export function measuredCount(table: string, column: string, where: readonly string[] = []): string {
  const cond = [inRange(), ...where].join(' AND ')
  return `CASE WHEN EXISTS (SELECT 1 FROM ${EVENT_TABLE} WHERE ${inRange()}) THEN (SELECT coalesce(sum(${column}), 0) FROM ${table} WHERE ${cond}) END`
}

/** The timestamp of a µs window column, for time columns. */
export const timeOf = (col = 'window_start_us'): string => `to_timestamp(${col} / 1000000.0)`

function squash(sql: string): string {
  return sql.replace(/\s+/g, ' ').trim()
}
