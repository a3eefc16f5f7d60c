/**
 * Proof of the Grafana dashboards (issue: "every panel proven to return data"): one running
 * pipeline for all dashboards — enrichment, aggregation, alerting (sending to the stack's
 * Alertmanager) and the gateway as their own processes, scraped by the real local Prometheus, and
 * the event-store app filling the event store — fed with the recorded runs (replay), a poison record and
 * an invalid event, a minute of simulated live load while a WebSocket client listens and the
 * REST API is read, then one more undecodable record, which makes Prometheus fire the
 * AurenRecordsDeadLettered alert (prometheus/rules/, loaded by the stack's Prometheus) for the
 * Alerts dashboard. Then every query of every panel of every generated dashboard
 * (grafana/dashboards/*.json), interpolated as Grafana would, runs against the real Prometheus
 * (instant query API) and the real PostgreSQL (rollup schema of the run, read-only
 * transaction). A query that returns no series with a finite value, or no row with a value,
 * fails the test naming the dashboard and the panel. The counts per panel are printed and
 * written to test/artifacts/grafana-proof.json. The same queries then draw every dashboard into
 * test/artifacts/dashboards/<uid>.png (`npm run render:dashboards`), and the token economics,
 * memory tier, knowledge heatmap and collaboration pictures show every panel with data.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes, randomUUID } from 'node:crypto'
import pg from 'pg'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCliContext, ensureTopicsAndSchemas, type CliContext } from '../../scripts/lib/cli-context.ts'
import { runReplay } from '../../scripts/lib/replay-command.ts'
import { runSimulate } from '../../scripts/lib/simulate-command.ts'
import { readTopicToEnd, waitForGroupCaughtUp } from '../../scripts/lib/read-topic.ts'
import { summarize } from '../../scripts/demo/summary.ts'
import { startApp, type AppProcess } from '../../scripts/lib/app-process.ts'
import { registerPromTarget, stackEnv } from '../helpers/stack.ts'
import { startStreamGateway, hs256Token } from '../helpers/stream-gateway.ts'
import { llmCallEvent } from '../helpers/events.ts'
import { DEFAULT_PARTITIONS, fromEnrichedRecord, toAgentEventRecord, type EnrichedAgentEvent, type EnrichedAgentEventRecord } from '../../schemas/index.ts'
import { interpolate, panelQueries, type DashboardJson, type Interpolation, type PanelQuery } from '../../grafana/src/panel-queries.ts'
import { uniquePrefix } from '../helpers/kafka.ts'
import { pause, waitUntil } from '../helpers/wait-until.ts'
import { renderDashboards } from '../../scripts/lib/render-dashboards.ts'
import { Ajv } from 'ajv'
import { SIGNAL_RESPONSES } from '../../gateway/queries/signals.ts'
import { requireRecordedRuns } from '../helpers/required-data.ts'

const ROOT = join(import.meta.dirname, '..', '..')
const TRACES = join(ROOT, '..', 'shared', 'data', 'agent-traces')
const DASHBOARD_DIR = join(ROOT, 'grafana', 'dashboards')
/** Simulated live load after the replay: events per second for this many seconds. */
const SIM_RATE = 40
const SIM_SECONDS = 60

interface Outcome {
  dashboard: string
  panel: string
  refId: string
  kind: PanelQuery['kind']
  /** Prometheus: series returned; SQL: rows returned. */
  returned: number
  /** Prometheus: series with a finite value; SQL: rows with at least one non-null numeric value. */
  withData: number
  error?: string
}

async function promInstant(expr: string, timeS?: number): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const params = new URLSearchParams({ query: expr, ...(timeS !== undefined ? { time: String(timeS) } : {}) })
  const res = await fetch(`${stackEnv().prometheusUrl}/api/v1/query`, { method: 'POST', body: params })
  const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: unknown } }
  if (body.status !== 'success') throw new Error(`Prometheus: ${body.error ?? res.status}`)
  const r = body.data!
  if (r.resultType === 'scalar') return [{ metric: {}, value: r.result as [number, string] }]
  return r.result as Array<{ metric: Record<string, string>; value: [number, string] }>
}

const numeric = (v: unknown) => (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)))

describe('Grafana dashboards: every panel returns data on a running pipeline', () => {
  const prefix = `${uniquePrefix()}graf-`
  const schema = prefix.replace(/[^a-z0-9]+/gi, '_').toLowerCase().replace(/_+$/, '')
  const procs: AppProcess[] = []
  const removeTargets: Array<() => void> = []
  let ctx: CliContext
  let pool: pg.Pool
  let ws: WebSocket | undefined
  let framesReceived = 0
  let interp: Interpolation
  let evalTimeS = 0
  let loadStartS = 0
  let apiBase = ''
  let operatorToken = ''
  let apiSecret = ''
  const outcomes: Outcome[] = []

  beforeAll(async () => {
    requireRecordedRuns(TRACES)
    const t0 = Date.now()
    ctx = await createCliContext(prefix)
    await ensureTopicsAndSchemas(ctx, DEFAULT_PARTITIONS)
    const databaseUrl = stackEnv().databaseUrl
    const [enrichment, aggregation] = await Promise.all([
      startApp('enrichment', prefix),
      startApp('aggregation', prefix, {
        AUREN_DATABASE_URL: databaseUrl, AUREN_AGGREGATION_DB_SCHEMA: schema, AUREN_AGGREGATION_EXPECTED_PARTITIONS: String(DEFAULT_PARTITIONS),
      }),
    ])
    procs.push(enrichment, aggregation)
    await Promise.all([enrichment.waitReady(90_000), aggregation.waitReady(90_000)])
    // The event-store app appends every enriched event to es_events in the rollups' schema,
    // where the reasoning-chains panel reads it.
    const eventStore = await startApp('event-store', prefix, { AUREN_DATABASE_URL: databaseUrl, AUREN_EVENT_STORE_DB_SCHEMA: schema })
    procs.push(eventStore)
    await eventStore.waitReady(90_000)
    // The alerting app, for the Alerts dashboard's stream-rule panels (its own schema of alert tables).
    const alerting = await startApp('alerting', prefix, { AUREN_DATABASE_URL: databaseUrl, AUREN_ALERTING_DB_SCHEMA: `${schema}_alerting`, AUREN_ALERTMANAGER_URL: stackEnv().alertmanagerUrl })
    procs.push(alerting)
    await alerting.waitReady(90_000)
    const secret = randomBytes(48).toString('base64')
    const gateway = await startStreamGateway(prefix, secret, { AUREN_GATEWAY_DB_SCHEMA: schema, AUREN_GATEWAY_MAX_RANGE_MS: String(10 * 365 * 86_400_000) }, 90_000)
    procs.push(gateway)
    for (const [name, p] of [['enrichment', enrichment], ['aggregation', aggregation], ['alerting', alerting], ['gateway', gateway]] as const) {
      removeTargets.push(registerPromTarget(`${prefix}${name}`.replace(/[^A-Za-z0-9_.-]/g, '_'), p.address))
    }
    const token = await hs256Token(secret, 'sre', ['operator'])
    operatorToken = token
    apiSecret = secret
    ws = new WebSocket(`ws://${gateway.address}/v1/stream`, { headers: { Authorization: `Bearer ${token}` } })
    ws.on('message', () => (framesReceived += 1))
    await new Promise<void>((resolve, reject) => {
      ws!.once('open', () => resolve())
      ws!.once('error', reject)
    })
    ws.send(JSON.stringify({ type: 'subscribe', id: 'all', channels: ['events', 'metrics', 'alerts'] }))

    // The recorded runs, then bad input (undecodable bytes; an event breaking a validation rule).
    const replay = await runReplay(ctx, { traces: TRACES, speed: 'max', rebaseTime: false, progress: false })
    expect(replay.events).toBeGreaterThan(1000)
    const schemaId = await ctx.serde.register(ctx.topics.agentEvents, 'agent-event')
    const invalid = llmCallEvent({ input: -5, trace: `poison-${randomUUID().slice(0, 8)}` })
    await ctx.producer.send([
      { topic: ctx.topics.agentEvents, key: 'poison-bytes', value: Buffer.from('not an avro record') },
      { topic: ctx.topics.agentEvents, key: invalid.trace_id, value: ctx.serde.encode(schemaId, 'agent-event', toAgentEventRecord(invalid)) },
    ])

    // A minute of live load, with the REST API read every few seconds meanwhile.
    const api = `http://${gateway.address}/api/v2`
    apiBase = api
    let reading = true
    const reads = (async () => {
      while (reading) {
        for (const path of ['overview', 'agents/performance', 'costs', 'memory/tier-stats']) {
          await fetch(`${api}/${path}`, { headers: { Authorization: `Bearer ${token}` } }).then((r) => r.arrayBuffer()).catch(() => undefined)
        }
        await pause(3_000)
      }
    })()
    loadStartS = Date.now() / 1000
    const simulated = await runSimulate(ctx, { rate: SIM_RATE, duration: SIM_SECONDS, seed: 12, progress: false })
    reading = false
    await reads
    expect(simulated).toBe(SIM_RATE * SIM_SECONDS)
    // A second undecodable record after the load: the dead-letter counter (present since the
    // first) rises within 5 minutes, so Prometheus fires AurenRecordsDeadLettered and the Alerts
    // dashboard's ALERTS / ALERTS_FOR_STATE panels have a firing alert to show.
    await ctx.producer.send([{ topic: ctx.topics.agentEvents, key: 'poison-bytes-2', value: Buffer.from('still not an avro record') }])

    await waitForGroupCaughtUp(ctx.admin, `${prefix}auren.enrichment`, ctx.topics.agentEvents, 300_000)
    await waitForGroupCaughtUp(ctx.admin, `${prefix}auren.aggregation`, ctx.topics.enrichedEvents, 300_000)
    await waitForGroupCaughtUp(ctx.admin, `${prefix}auren.event-store`, ctx.topics.enrichedEvents, 300_000)

    pool = new pg.Pool({ connectionString: databaseUrl, max: 2, options: `-c search_path=${schema} -c default_transaction_read_only=on` })
    // Sentinel: Prometheus has scraped the final counters of both apps (input fully consumed by
    // enrichment; aggregation's LLM call counter equal to the rollups).
    const inputEnds = await ctx.admin.endOffsets(ctx.topics.agentEvents)
    const inputTotal = [...inputEnds.values()].reduce((n, o) => n + Number(o), 0)
    const dbCalls = Number((await pool.query<{ n: string }>('SELECT coalesce(sum(calls), 0)::text AS n FROM agg_llm_window')).rows[0]!.n)
    expect(dbCalls).toBeGreaterThan(0)
    const inst = (p: AppProcess) => `instance="${p.address}"`
    await waitUntil('Prometheus to scrape the final counters', async () => {
      const consumed = await promInstant(`sum(auren_records_consumed_total{${inst(enrichment)}})`)
      const calls = await promInstant(`sum(auren_llm_calls_total{${inst(aggregation)}})`)
      const evaluations = await promInstant(`sum(auren_alert_rule_evaluations_total{${inst(alerting)}})`)
      return Number(consumed[0]?.value[1]) === inputTotal && Number(calls[0]?.value[1]) === dbCalls && Number(evaluations[0]?.value[1]) > 0
    }, { timeoutMs: 60_000, everyMs: 500 })
    expect(framesReceived).toBeGreaterThan(0)
    await waitUntil('Prometheus to fire AurenRecordsDeadLettered for the dead-lettered records', async () => {
      const firing = await promInstant('ALERTS{alertname="AurenRecordsDeadLettered", alertstate="firing", processor="enrichment"}')
      return firing.length > 0
    }, { timeoutMs: 60_000, everyMs: 500 })

    const minUs = Number((await pool.query<{ m: string }>('SELECT min(window_start_us)::text AS m FROM agg_agent_window')).rows[0]!.m)
    evalTimeS = Date.now() / 1000
    interp = {
      variables: { instance: procs.map((p) => p.address).join('|') },
      rateInterval: '1m',
      range: `${Math.ceil(evalTimeS - t0 / 1000) + 5}s`,
      fromS: minUs / 1e6,
      toS: evalTimeS + 60,
    }
  }, 900_000)

  afterAll(async () => {
    ws?.close()
    for (const remove of removeTargets) remove()
    for (const p of procs) p.kill('SIGTERM')
    await Promise.all(procs.map((p) => p.exited))
    await pool?.end()
    const admin = new pg.Client({ connectionString: stackEnv().databaseUrl })
    await admin.connect()
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}_alerting" CASCADE`).finally(() => admin.end())
    await ctx?.admin.deleteTopics(Object.values(ctx.topics)).catch(() => undefined)
    await ctx?.close()
  })

  it('every Prometheus and SQL query of every panel returns data', { timeout: 300_000 }, async () => {
    const files = readdirSync(DASHBOARD_DIR).filter((f) => f.endsWith('.json')).sort()
    expect(files.length).toBeGreaterThanOrEqual(10)
    for (const f of files) {
      const d = JSON.parse(readFileSync(join(DASHBOARD_DIR, f), 'utf8')) as DashboardJson
      for (const q of panelQueries(d)) {
        const text = interpolate(q.text, interp)
        const o: Outcome = { dashboard: q.dashboard, panel: q.panel, refId: q.refId, kind: q.kind, returned: 0, withData: 0 }
        try {
          if (q.kind === 'prometheus') {
            const series = await promInstant(text, evalTimeS)
            o.returned = series.length
            o.withData = series.filter((s) => Number.isFinite(Number(s.value[1]))).length
          } else {
            const rows = (await pool.query<Record<string, unknown>>(text)).rows
            o.returned = rows.length
            o.withData = rows.filter((r) => Object.values(r).some(numeric)).length
          }
        } catch (err) {
          o.error = (err as Error).message
        }
        outcomes.push(o)
      }
    }
    mkdirSync(join(ROOT, 'test', 'artifacts'), { recursive: true })
    writeFileSync(join(ROOT, 'test', 'artifacts', 'grafana-proof.json'), `${JSON.stringify(outcomes, null, 2)}\n`)
    console.log(outcomes.map((o) => `${o.dashboard} | ${o.panel} | ${o.refId} | ${o.kind} | ${o.kind === 'prometheus' ? 'series' : 'rows'} ${o.returned} (with data ${o.withData})${o.error ? ` | ERROR ${o.error}` : ''}`).join('\n'))
    const broken = outcomes.filter((o) => o.error !== undefined || o.withData === 0)
      .map((o) => `${o.dashboard} / ${o.panel} [${o.refId}, ${o.kind}]: ${o.error ?? (o.returned === 0 ? 'returned nothing' : `returned ${o.returned} but none with a value`)}`)
    expect(broken, `panels without data:\n${broken.join('\n')}`).toEqual([])
  })

  it('range totals count counters born already filled: answered calls and failed attempts equal the enriched topic\'s, dead-lettered the DLQ topic\'s', { timeout: 300_000 }, async () => {
    // The replay runs at full speed, so the LLM call and failure counter series (and the
    // dead-letter series) are born holding their count: increase() over the range read 0 failed
    // attempts here (issue 12). The stats must show the totals counted independently, from the
    // topics, each event once.
    const enriched: EnrichedAgentEvent[] = []
    for (const r of await readTopicToEnd(ctx.driver, ctx.admin, ctx.topics.enrichedEvents)) {
      enriched.push(fromEnrichedRecord((await ctx.serde.decode(r.value, 'enriched-agent-event')) as EnrichedAgentEventRecord))
    }
    const dlq = await readTopicToEnd(ctx.driver, ctx.admin, ctx.topics.deadLetter)
    const counted = summarize(enriched.length, enriched, [])
    const answered = Object.values(counted.agents).reduce((n, a) => n + (a.llm_calls ?? 0), 0)
    const failed = Object.values(counted.agents).reduce((n, a) => n + (a.llm_failed_attempts ?? 0), 0)
    expect(failed, 'the recorded runs hold failed attempts').toBeGreaterThan(0)
    expect(dlq.length).toBeGreaterThanOrEqual(3)
    const queryOf = (uid: string, title: string) => {
      const d = JSON.parse(readFileSync(join(DASHBOARD_DIR, `${uid}.json`), 'utf8')) as DashboardJson
      const qs = panelQueries(d).filter((q) => q.panel.startsWith(title))
      expect(qs.length, `${uid} / ${title}`).toBe(1)
      return interpolate(qs[0]!.text, interp)
    }
    const stat = (await pool.query<Record<string, string | null>>(queryOf('auren-token-economics', 'How many LLM calls were answered, and how many attempts failed'))).rows
    expect(stat.map((r) => ({ answered: Number(r['answered calls']), failed: Number(r['failed attempts']) }))).toEqual([{ answered, failed }])
    const deadLettered = await promInstant(queryOf('auren-pipeline-health', 'How many records were dead-lettered in the range?'), evalTimeS)
    expect(deadLettered.map((s) => Number(s.value[1]))).toEqual([dlq.length])
  })

  it('draws every dashboard into a PNG; the token economics, memory tier, knowledge and collaboration pictures have data in every panel', { timeout: 300_000 }, async () => {
    const outDir = join(ROOT, 'test', 'artifacts', 'dashboards')
    const rendered = await renderDashboards({
      prometheusUrl: stackEnv().prometheusUrl, databaseUrl: stackEnv().databaseUrl, schema, interpolation: interp, evalS: evalTimeS,
      promRangeS: Math.ceil(evalTimeS - loadStartS) + 30, outDir,
    })
    console.log(rendered.map((d) => `${d.file}\n${d.panels.map((p) => `  ${String(p.series).padStart(4)}  ${p.title}`).join('\n')}`).join('\n'))
    expect(rendered.length).toBe(readdirSync(DASHBOARD_DIR).filter((f) => f.endsWith('.json')).length)
    for (const d of rendered) {
      const png = readFileSync(d.file)
      expect(png.subarray(1, 4).toString(), d.file).toBe('PNG')
      expect(png.length, d.file).toBeGreaterThan(20_000)
    }
    for (const uid of ['auren-token-economics', 'auren-memory-tier-flow', 'auren-knowledge-heatmap', 'auren-collaboration-network']) {
      const d = rendered.find((r) => r.file.endsWith(`${uid}.png`))
      expect(d, uid).toBeDefined()
      const empty = d!.panels.filter((p) => p.series === 0).map((p) => p.title)
      expect(empty, `${d!.dashboard}: panels drawn empty`).toEqual([])
    }
  })

  it('the REST routes of the signal rollups answer with the rollups\' figures, a viewer sees only its own biometrics', { timeout: 60_000 }, async () => {
    const range = new URLSearchParams({ from: new Date(interp.fromS * 1000).toISOString(), to: new Date(interp.toS * 1000).toISOString() })
    const ajv = new Ajv({ strict: false, allErrors: true })
    const get = async (path: string, token = operatorToken, extra: Record<string, string> = {}) => {
      const res = await fetch(`${apiBase}/${path}?${new URLSearchParams({ ...Object.fromEntries(range), ...extra })}`, { headers: { Authorization: `Bearer ${token}` } })
      const body = (await res.json()) as Record<string, unknown>
      expect(res.status, `${path}: ${JSON.stringify(body)}`).toBe(200)
      const validate = ajv.compile(SIGNAL_RESPONSES[path]!)
      expect(validate(body), `${path}: ${JSON.stringify(validate.errors)}`).toBe(true)
      return body
    }
    const sum = async (sql: string) => Number((await pool.query<{ n: string | null }>(sql)).rows[0]!.n ?? 0)
    const decisions = await get('intelligence/decisions')
    expect(decisions.total).toBe(await sum('SELECT sum(decisions) AS n FROM agg_decision_window'))
    expect(decisions.total).toBeGreaterThan(0)
    const ops = await get('memory/operations')
    expect(ops.total).toBe(await sum('SELECT sum(operations) AS n FROM agg_memory_operation_window'))
    const bio = (await get('body/biometrics')) as { metrics: Array<{ samples: number; mean: number | null }> }
    expect(bio.metrics.reduce((n, m) => n + m.samples, 0)).toBe(await sum('SELECT sum(samples) AS n FROM agg_biometric_window'))
    expect(bio.metrics.every((m) => m.mean !== null)).toBe(true)
    const viewer = await hs256Token(apiSecret, 'user-001', ['viewer'])
    const own = (await get('body/biometrics', viewer)) as { metrics: Array<{ samples: number }>; scope: { user_id: string } }
    expect(own.scope.user_id).toBe('user-001')
    expect(own.metrics.reduce((n, m) => n + m.samples, 0)).toBe(await sum("SELECT sum(samples) AS n FROM agg_biometric_window WHERE user_id = 'user-001'"))
    const health = (await get('system/health')) as { components: Array<{ reports: Record<string, number> }> }
    expect(health.components.flatMap((c) => Object.values(c.reports)).reduce((a, b) => a + b, 0)).toBe(await sum('SELECT sum(reports) AS n FROM agg_system_health_window'))
    const perf = (await get('system/performance-metrics')) as { metrics: Array<{ samples: number }> }
    expect(perf.metrics.reduce((n, m) => n + m.samples, 0)).toBe(await sum('SELECT sum(samples) AS n FROM agg_performance_metric_window'))
    const traces = (await get('costs/traces', operatorToken, { limit: '5' })) as { traces: number; total_cost_usd: number; mean_cost_per_trace_usd: number | null; top: Array<{ cost_usd: number }> }
    expect(traces.traces).toBe(await sum('SELECT count(DISTINCT trace_id) AS n FROM agg_trace_window'))
    expect(Math.abs(traces.total_cost_usd - await sum('SELECT sum(cost_usd) AS n FROM agg_trace_window'))).toBeLessThan(1e-9)
    // a trace's cost equals the enriched cost of its events: the sum over traces is the sum over agents
    expect(Math.abs(traces.total_cost_usd - await sum('SELECT sum(cost_usd) AS n FROM agg_agent_window'))).toBeLessThan(1e-9)
    expect(traces.top.length).toBe(5)
    expect(traces.top[0]!.cost_usd).toBeGreaterThanOrEqual(traces.top[4]!.cost_usd)
    expect(traces.mean_cost_per_trace_usd).toBeCloseTo(traces.total_cost_usd / traces.traces, 12)
  })
})
