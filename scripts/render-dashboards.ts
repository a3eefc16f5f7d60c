/**
 * `npm run render:dashboards -- --schema <rollup schema> [--instances <regex>] [--from <ISO>]
 * [--to <ISO>] [--prom-range <seconds>] [--out <dir>]`: draws every dashboard of grafana/dashboards
 * into `<out>/<uid>.png` (default `.cache/dashboards/`) from the running stack
 * (scripts/lib/render-dashboards.ts) and prints each file with its panels, series counts and the
 * figures of stat panels.
 * `--instances` picks the scrape targets (default: all); `--from`/`--to` the SQL range (default:
 * the span of agg_agent_window in the schema).
 */
import { join } from 'node:path'
import { Command } from 'commander'
import pg from 'pg'
import { stackEnv } from './lib/stack-env.ts'
import { renderDashboards } from './lib/render-dashboards.ts'
import { RT } from '../schemas/rollup-tables.ts'

const program = new Command('render-dashboards')
  .requiredOption('--schema <name>', 'PostgreSQL schema of the rollups')
  .option('--instances <regex>', 'scrape targets to show (the $instance variable)', '.*')
  .option('--from <iso>', 'start of the SQL range (default: first rollup window)')
  .option('--to <iso>', 'end of the SQL range (default: now)')
  .option('--prom-range <seconds>', 'length of the Prometheus time series panels', '900')
  .option('--out <dir>', 'output folder', join(import.meta.dirname, '..', '.cache', 'dashboards'))
  .parse()
const o = program.opts<{ schema: string; instances: string; from?: string; to?: string; promRange: string; out: string }>()
const env = stackEnv()
let fromS = o.from ? Date.parse(o.from) / 1000 : NaN
if (Number.isNaN(fromS)) {
  const c = new pg.Client({ connectionString: env.databaseUrl, options: `-c search_path=${o.schema}` })
  await c.connect()
  const r = await c.query<{ m: string | null }>(`SELECT min(window_start_us)::text AS m FROM ${RT.agent}`).finally(() => c.end())
  if (r.rows[0]?.m === null || r.rows[0]?.m === undefined) throw new Error(`no rollups in schema ${o.schema}: nothing to draw`)
  fromS = Number(r.rows[0].m) / 1e6
}
const evalS = Date.now() / 1000
const toS = o.to ? Date.parse(o.to) / 1000 : evalS + 60
const promRangeS = Number(o.promRange)
const rendered = await renderDashboards({
  prometheusUrl: env.prometheusUrl, databaseUrl: env.databaseUrl, schema: o.schema, evalS, promRangeS, outDir: o.out,
  interpolation: { variables: { instance: o.instances }, rateInterval: '1m', range: `${Math.round(promRangeS)}s`, fromS, toS },
})
for (const d of rendered) {
  console.log(`${d.file}  (${d.dashboard})`)
  for (const p of d.panels) console.log(`  ${p.series.toString().padStart(4)}  ${p.title}${p.figures ? `  ${Object.entries(p.figures).map(([k, v]) => `${k}=${v}`).join(', ')}` : ''}`)
}
