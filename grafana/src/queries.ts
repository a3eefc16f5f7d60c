/**
 * Query builders of the panels: PromQL through the SDK's Prometheus builder, SQL through a small
 * builder of the PostgreSQL datasource's query model (the SDK ships no PostgreSQL query type).
 *
 * Conventions every dashboard follows (the proof test relies on them):
 * - every PromQL vector selector carries `instance=~"$instance"` (the `instance` variable picks
 *   the deployment's scrape targets), written with {@link sel};
 * - SQL reads epoch-µs windows between `$__unixEpochFrom()` and `$__unixEpochTo()` (seconds),
 *   written with {@link inRange}; variables in SQL use the `regex` format with `.*` as "All".
 */
import * as cog from '@grafana/grafana-foundation-sdk/cog'
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus'
import { POSTGRES, PROMETHEUS } from './datasources.ts'

/** A PromQL selector: `name{instance=~"$instance", …matchers}`. */
export function sel(name: string, ...matchers: string[]): string {
  return `${name}{${['instance=~"$instance"', ...matchers].join(', ')}}`
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

/** The timestamp of a µs window column, for time columns. */
export const timeOf = (col = 'window_start_us'): string => `to_timestamp(${col} / 1000000.0)`

function squash(sql: string): string {
  return sql.replace(/\s+/g, ' ').trim()
}
