/**
 * The demo's REST part: signs a short-lived operator token with the run-time secret, reads
 * per-agent performance, costs by agent and by model, projections and recommendations from the
 * gateway (gateway/README.md "Endpoints") and shapes them for the summary. Every figure here is
 * read through the API, none recomputed.
 */
import { SignJWT } from 'jose'
import type { CostGroupFigures } from '../../gateway/analytics/costs.ts'
import type { LatencyFigures } from '../../gateway/analytics/figures.ts'

/** Latency figures of the API (ms; percentiles from merged histogram buckets, within 9.05 %). */
export type ApiLatency = LatencyFigures

/** One agent of `GET /api/v2/agents/performance`, as the demo reports it. */
export interface ApiAgentPerformance {
  events: number
  /** Answered LLM calls (null: the agent has no LLM event). */
  llm_calls: number | null
  /** Answered LLM calls with an error status. */
  llm_calls_failed: number
  /** Failed attempts without an answer (not calls), total and by error_type. */
  llm_failed_attempts: number | null
  llm_failed_attempts_by_error_type: Record<string, number>
  /** Tokens of answered calls (null without one). */
  input_tokens: number | null
  output_tokens: number | null
  /** USD of every event type of the agent (the rollups' exact numeric sum); null when nothing was priced. */
  cost_usd: number | null
  /** USD of LLM calls ÷ answered calls. */
  cost_per_llm_call_usd: number | null
  executions: { started: number; succeeded: number; failed: number; success_rate: number | null } | null
  latency: { execution: ApiLatency | null; llm: ApiLatency }
}

/** One group of `GET /api/v2/costs`. */
export type ApiCostGroup = CostGroupFigures

/** The top cost drivers: the 5 most expensive agents and models of the range. */
export interface ApiTopCostDrivers {
  total_usd: number | null
  unattributed_usd: number | null
  by_agent: ApiCostGroup[]
  by_model: ApiCostGroup[]
}

/** One recommendation of `GET /api/v2/analytics/recommendations`. */
export interface ApiRecommendation {
  kind: string
  summary: string
  evidence: Record<string, unknown>
  method: string
}

/** What the demo read through the REST API (`api` of `auren demo --json`). */
export interface ApiSummary {
  /** Base URL of the gateway and the range every query used, [from, to). */
  gateway: string
  range: { from: string; to: string }
  agents_performance: Record<string, ApiAgentPerformance>
  top_cost_drivers: ApiTopCostDrivers
  /**
   * Per source (`chatdev`, `ag2`, ...): the body of `GET /api/v2/analytics/projections` over
   * that source's span, so each projects from where its own data ends (method, basis, next
   * hour/day/30 days, trend, reasons when null), plus the span and the other sources whose
   * events fall in it (their events share the rollup windows: the basis holds them too).
   */
  projections: Record<string, SourceProjection>
  recommendations: ApiRecommendation[]
  /** Kinds without a recommendation and why (below the minimum support, no data). */
  unqualified: Array<{ kind: string; reason: string }>
}

/** Event time span of one source, epoch µs. */
export interface SourceSpan { readonly minUs: number; readonly maxUs: number }

/** The projection of one source. */
export type SourceProjection = Record<string, unknown> & { span: { from: string; to: string }; overlapping_sources: string[] }

/** Sources whose span overlaps `name`'s span. */
export function overlapping(spans: Readonly<Record<string, SourceSpan>>, name: string): string[] {
  const me = spans[name]!
  return Object.entries(spans).filter(([n, s]) => n !== name && s.minUs <= me.maxUs && s.maxUs >= me.minUs).map(([n]) => n).sort()
}

/** How many agents and models the top cost drivers list. */
const TOP = 5

/**
 * A [from, to) range covering every event time: whole rollup windows (1 min) from the window of
 * the earliest event to the end of the window of the latest.
 * @param minUs earliest event time, epoch µs
 * @param maxUs latest event time, epoch µs
 */
export function rangeCovering(minUs: number, maxUs: number, windowMs = 60_000): { from: string; to: string } {
  const fromMs = Math.floor(minUs / 1000 / windowMs) * windowMs
  const toMs = (Math.floor(maxUs / 1000 / windowMs) + 1) * windowMs
  return { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() }
}

/** An HS256 operator token (sub `demo`, 10 minutes) signed with the gateway's secret. */
export async function operatorToken(secret: string): Promise<string> {
  return runTokenFor(secret, 600)
}

/**
 * An HS256 operator token (sub `demo`) valid `ttlS` seconds, signed with the run's secret (which
 * dies with the run's gateway, so the token is worth nothing after the run).
 */
export async function runTokenFor(secret: string, ttlS: number): Promise<string> {
  return new SignJWT({ roles: ['operator'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('demo')
    .setIssuedAt()
    .setExpirationTime(`${ttlS}s`)
    .sign(new TextEncoder().encode(secret))
}

/**
 * What `--keep-running` prints (stderr): a ready `auren tail` command for this run's stream and
 * the /live URL carrying the token in its fragment (never sent to a server, removed from the
 * address bar by the page), and how to stop.
 * @param address gateway host:port
 * @param token operator token valid for the run
 */
export function keepRunningLines(address: string, token: string, prefix: string, ttlS: number): string[] {
  return [
    `enrichment, aggregation and the gateway keep running on topics '${prefix}*'; Ctrl-C stops them and removes the topics, the schema and the Prometheus targets`,
    `operator token valid ${Math.round(ttlS / 3600)} h (for this run only: signed with its own secret):`,
    `  live stream:  npm run auren -- tail --url ws://${address}/v1/stream --token ${token} --channels events,metrics`,
    `  live page:    http://${address}/live#token=${token}`,
    `  REST API:     curl -H 'Authorization: Bearer ${token}' http://${address}/api/v2/overview`,
  ]
}

/** GET one `/api/v2` route. @throws Error with the status and the API's error body */
async function get<T>(base: string, token: string, path: string, params: Record<string, string>): Promise<T> {
  const url = `${base}/api/v2/${path}?${new URLSearchParams(params).toString()}`
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
  const text = await res.text()
  if (res.status !== 200) throw new Error(`GET /api/v2/${path} answered ${res.status}: ${text.slice(0, 500)}`)
  return JSON.parse(text) as T
}

interface PerformanceBody {
  agents: Array<{
    agent_id: string
    events: number
    cost_usd: number | null
    llm_calls: number | null
    llm_failed_attempts: number | null
    llm_failed_attempts_by_error_type: Record<string, number>
    executions: ApiAgentPerformance['executions']
    llm: { failed: number; input_tokens: number | null; output_tokens: number | null; cost_per_call_usd: number | null }
    latency: ApiAgentPerformance['latency']
  }>
}

interface CostsBody {
  total_usd: number | null
  unattributed_usd: number | null
  groups: ApiCostGroup[]
}

/**
 * Reads the demo's figures through the API.
 * @param base gateway base URL, e.g. `http://127.0.0.1:43210`
 * @param secret the HS256 secret the gateway was started with (never printed)
 * @param range the range to read, [from, to)
 */
export async function readApiSummary(base: string, secret: string, range: { from: string; to: string }, spans: Readonly<Record<string, SourceSpan>> = {}): Promise<ApiSummary> {
  const token = await operatorToken(secret)
  const [perf, byAgent, byModel, recs, ...perSource] = await Promise.all([
    get<PerformanceBody>(base, token, 'agents/performance', range),
    get<CostsBody>(base, token, 'costs', { ...range, group_by: 'agent' }),
    get<CostsBody>(base, token, 'costs', { ...range, group_by: 'model' }),
    get<{ recommendations: ApiRecommendation[]; unqualified: Array<{ kind: string; reason: string }> }>(base, token, 'analytics/recommendations', range),
    ...Object.entries(spans).sort(([a], [b]) => a.localeCompare(b)).map(async ([name, span]): Promise<[string, SourceProjection]> => {
      const sourceRange = rangeCovering(span.minUs, span.maxUs)
      const body = await get<Record<string, unknown>>(base, token, 'analytics/projections', sourceRange)
      return [name, { ...body, span: sourceRange, overlapping_sources: overlapping(spans, name) }]
    }),
  ])
  const projections = Object.fromEntries(perSource)
  const agents: Record<string, ApiAgentPerformance> = {}
  for (const a of [...perf.agents].sort((x, y) => x.agent_id.localeCompare(y.agent_id))) {
    agents[a.agent_id] = {
      events: a.events,
      llm_calls: a.llm_calls,
      llm_calls_failed: a.llm.failed,
      llm_failed_attempts: a.llm_failed_attempts,
      llm_failed_attempts_by_error_type: a.llm_failed_attempts_by_error_type,
      input_tokens: a.llm.input_tokens,
      output_tokens: a.llm.output_tokens,
      cost_usd: a.cost_usd,
      cost_per_llm_call_usd: a.llm.cost_per_call_usd,
      executions: a.executions,
      latency: a.latency,
    }
  }
  const top = (c: CostsBody) => [...c.groups].filter((g) => g.cost_usd !== null).sort((x, y) => y.cost_usd! - x.cost_usd!).slice(0, TOP)
  return {
    gateway: base,
    range,
    agents_performance: agents,
    top_cost_drivers: { total_usd: byAgent.total_usd, unattributed_usd: byAgent.unattributed_usd, by_agent: top(byAgent), by_model: top(byModel) },
    projections,
    recommendations: recs.recommendations,
    unqualified: recs.unqualified,
  }
}

const ms = (v: number | null | undefined) => (v === null || v === undefined ? '-' : v >= 1000 ? `${(v / 1000).toFixed(1)}s` : `${v.toFixed(0)}ms`)
const usd = (v: number | null) => (v === null ? 'unknown' : `$${v.toFixed(6)}`)
const pct = (v: number | null) => (v === null ? '-' : `${(v * 100).toFixed(1)}%`)

/** Renders a number of evidence for a person: integers as is, fractions to 6 significant digits. */
function evidenceValue(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)))
  if (Array.isArray(v)) return v.join('+')
  return String(v)
}

/** Text sections of the API figures: latency per agent, top cost drivers, projections, recommendations. */
export function renderApiSummary(api: ApiSummary): string {
  const lines: string[] = []
  lines.push(`read through the REST API (${api.gateway}), range ${api.range.from} .. ${api.range.to}:`)
  lines.push('')
  const all = Object.entries(api.agents_performance)
  const rows = all.filter(([, a]) => (a.latency.execution?.count ?? 0) > 0 || a.latency.llm.count > 0)
  lines.push(`latency per agent (ms or s; p50/p95/p99 from histogram buckets, within 9.05 %)${all.length > rows.length ? `, ${all.length - rows.length} agents without timed executions or LLM calls left out` : ''}:`)
  const w = Math.max(5, ...rows.map(([id]) => id.length))
  const cols = ['exec n', 'exec p50', 'exec p95', 'exec p99', 'llm n', 'llm p50', 'llm p95', 'llm p99']
  lines.push(`${'agent'.padEnd(w)}  ${cols.map((c) => c.padStart(8)).join('  ')}`)
  for (const [id, a] of rows) {
    const e = a.latency.execution
    const l = a.latency.llm
    const cells = [String(e?.count ?? '-'), ms(e?.p50_ms), ms(e?.p95_ms), ms(e?.p99_ms), String(l.count), ms(l.p50_ms), ms(l.p95_ms), ms(l.p99_ms)]
    lines.push(`${id.padEnd(w)}  ${cells.map((c) => c.padStart(8)).join('  ')}`)
  }
  lines.push('')
  lines.push(`top cost drivers (total ${usd(api.top_cost_drivers.total_usd)}, unattributed ${usd(api.top_cost_drivers.unattributed_usd)}):`)
  for (const [what, groups] of [['agent', api.top_cost_drivers.by_agent], ['model', api.top_cost_drivers.by_model]] as const) {
    groups.forEach((g, i) => {
      lines.push(`  ${what} ${i + 1}. ${g.key.padEnd(28)} ${usd(g.cost_usd).padStart(12)}  ${pct(g.share).padStart(6)}  ${String(g.llm_calls).padStart(5)} answered calls  ${g.cost_per_call_usd === null ? '' : `${usd(g.cost_per_call_usd)}/call`}${g.llm_failed_attempts > 0 ? `  (${g.llm_failed_attempts} failed attempts apart)` : ''}`)
    })
  }
  type H = { cost_usd: number | null; tokens: number | null; trend_cost_usd: number | null }
  type P = { as_of?: string | null; next_hour?: H; next_day?: H; next_30_days?: H; overlapping_sources: string[]
    basis?: { minutes: number; windows_with_tokens: number; windows_with_cost: number; min_windows: number }; trend?: { cost_usd: { r2: number | null } }
    reasons?: { tokens: string | null; cost: string | null; trend_cost: string | null } }
  const entries = Object.entries(api.projections) as [string, P][]
  if (entries.length > 0) {
    lines.push('')
    lines.push('projections per source, each from where its own data ends (basis: the minutes before; null below the minimum data, with the reason):')
    for (const [name, p] of entries) {
      if (!p.next_hour || !p.next_day || !p.next_30_days || !p.basis) continue
      const r2 = p.trend?.cost_usd.r2
      lines.push(`  ${name}: as of ${p.as_of ?? '-'}, basis ${p.basis.minutes} min with ${p.basis.windows_with_cost} priced and ${p.basis.windows_with_tokens} token windows (minimum ${p.basis.min_windows}), cost trend r² ${r2 === null || r2 === undefined ? '-' : r2.toFixed(3)}` +
        `${p.overlapping_sources.length > 0 ? `; shares minutes with ${p.overlapping_sources.join(', ')}` : ''}`)
      if (p.reasons?.cost) lines.push(`    cost: not projected: ${p.reasons.cost}`)
      else lines.push(`    cost: next hour ${usd(p.next_hour.cost_usd)}, next day ${usd(p.next_day.cost_usd)}, next 30 days ${usd(p.next_30_days.cost_usd)}${p.next_day.trend_cost_usd === null ? `; no trend (${p.reasons?.trend_cost ?? 'beyond its reach'})` : `; trend next day ${usd(p.next_day.trend_cost_usd)}`}`)
      lines.push(p.reasons?.tokens ? `    tokens: not projected: ${p.reasons.tokens}` : `    tokens: next hour ${p.next_hour.tokens}, next day ${p.next_day.tokens}`)
    }
  }
  lines.push('')
  lines.push(`recommendations (${api.recommendations.length}):`)
  if (api.recommendations.length === 0) lines.push('  none qualifies for this range')
  for (const u of api.unqualified) lines.push(`  no ${u.kind}: ${u.reason}`)
  for (const r of api.recommendations) {
    lines.push(`  [${r.kind}] ${r.summary}`)
    lines.push(`      ${Object.entries(r.evidence).map(([k, v]) => `${k}=${evidenceValue(v)}`).join(', ')}`)
  }
  return lines.join('\n')
}
