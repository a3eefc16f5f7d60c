/**
 * `auren demo`, the main job: topics and schemas ready, the enrichment, aggregation, archival,
 * event-store and alerting apps and the REST gateway running as their own processes (scraped by the local
 * Prometheus), the recorded runs replayed, then a summary read back from the enriched and
 * dead-letter topics, plus per-agent latency percentiles, top cost drivers, projections and
 * recommendations read through the REST API, the archive, the event store, and the alerts the recorded runs raised
 * with their Alertmanager receivers (./alerts-summary.ts). Then a labelled simulated part
 * (./simulated-part.ts) runs through the same pipeline, reported apart, and the Grafana
 * dashboards are drawn. Each demo uses its own topic prefix and PostgreSQL schema, so runs never
 * mix; its topics, schema and Prometheus targets are removed at the end, after Ctrl-C with
 * --keep-running too. With --keep-running the gateway also streams (/v1/stream, /live) and the
 * demo prints a ready `auren tail` command and the /live URL with a token valid for the run.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { createCliContext, ensureTopicsAndSchemas, type CliContext } from '../lib/cli-context.ts'
import { runReplay } from '../lib/replay-command.ts'
import { readTopicToEnd, waitForGroupCaughtUp } from '../lib/read-topic.ts'
import { startApp, startGateway, type AppProcess } from '../lib/app-process.ts'
import { registerPromTarget, stackEnv } from '../lib/stack-env.ts'
import { DEFAULT_PARTITIONS, DLQ_HEADERS, fromEnrichedRecord, type EnrichedAgentEvent, type EnrichedAgentEventRecord } from '../../schemas/index.ts'
import { renderSummary, summarize } from './summary.ts'
import { keepRunningLines, rangeCovering, readApiSummary, renderApiSummary, runTokenFor, type SourceSpan } from './api-summary.ts'

/** Lifetime of the operator token printed by --keep-running, seconds (the run's working day). */
const KEEP_RUNNING_TOKEN_TTL_S = 12 * 3600
/**
 * Processing time after which an alerting partition without records is idle, ms
 * (AUREN_ALERTING_IDLE_TIMEOUT_MS). It is also how long a partition whose first records come
 * later holds the repartition back, so on a busy machine (every app and the stack on 2 cores) the
 * replay's partitions must start and go on within it of each other: at 5 s one fresh-clone run
 * alerted 1 of the 5 rate-limited agents.
 */
const ALERTING_IDLE_MS = 15_000
import type { RenderedDashboard } from '../lib/render-dashboards.ts'
import { join } from 'node:path'
import { archivalDemoEnv, createDemoBucket, readArchiveSummary, renderArchiveSummary } from './archive-summary.ts'
import { eventStoreDemoEnv, readEventStoreSummary, renderEventStoreSummary } from './event-store-summary.ts'
import type { AttributionRule } from '../sources/chatdev-attribution.ts'
import { readAlertsSummary, renderAlertsSummary, waitAlertsDelivered, waitRepartitionSettled } from './alerts-summary.ts'
import { DEFAULT_SIMULATED_LOAD, renderSimulatedSummary, runSimulatedPart, summarizeSimulated, type SimulatedLoad } from './simulated-part.ts'
import { resolveSeed } from '../lib/simulate-command.ts'

/** Options of `auren demo`. */
export interface DemoOptions {
  traces: string
  json: boolean
  keepRunning: boolean
  /** ChatDev call attribution rule (default next-utterance). */
  attribution?: AttributionRule
  /** '' means: a fresh `demo-<time>-` prefix. */
  topicPrefix: string
  /** The simulated part's load (default DEFAULT_SIMULATED_LOAD with a random seed). */
  simulated?: SimulatedLoad
}

const say = (json: boolean, text: string) => {
  if (!json) console.error(`[demo] ${text}`)
}

/** Longest API query range the demo's gateway allows: the recorded runs are months apart. */
const DEMO_MAX_RANGE_MS = 10 * 365 * 86_400_000

/** A fresh PostgreSQL schema name per demo, derived from the topic prefix (`demo_<time>`). */
export function demoSchema(prefix: string): string {
  const s = prefix.toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '')
  return (s.startsWith('demo_') ? s : `demo_${s}`).slice(0, 63)
}

/** Prometheus target name of one process of the demo. */
const targetName = (prefix: string, what: string) => `${prefix}${what}`.replace(/[^A-Za-z0-9_.-]/g, '_')

async function dropSchema(databaseUrl: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  } finally {
    await client.end()
  }
}

/** The enriched topic from its beginning to its current end, decoded. */
async function readEnriched(ctx: CliContext): Promise<EnrichedAgentEvent[]> {
  const out: EnrichedAgentEvent[] = []
  for (const r of await readTopicToEnd(ctx.driver, ctx.admin, ctx.topics.enrichedEvents)) {
    out.push(fromEnrichedRecord((await ctx.serde.decode(r.value, 'enriched-agent-event')) as EnrichedAgentEventRecord))
  }
  return out
}

/** Runs the demo; resolves when done (or, with keepRunning, after Ctrl-C). */
export async function runDemo(opts: DemoOptions): Promise<void> {
  const t0 = Date.now()
  const secs = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`
  const prefix = opts.topicPrefix || `demo-${new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)}-`
  const schema = demoSchema(prefix)
  const ctx = await createCliContext(prefix)
  const databaseUrl = stackEnv().databaseUrl
  const enrichmentGroup = `${prefix}auren.enrichment`
  const aggregationGroup = `${prefix}auren.aggregation`
  const archivalGroup = `${prefix}auren.archival`
  const eventStoreGroup = `${prefix}auren.event-store`
  const alertingGroup = `${prefix}auren.alerting`
  const alertmanagerUrl = stackEnv().alertmanagerUrl
  const bucket = await createDemoBucket(prefix)
  say(opts.json, `topics with prefix '${prefix}', schemas registered at ${ctx.env.schemaRegistryUrl}, PostgreSQL schema '${schema}'`)
  await ensureTopicsAndSchemas(ctx, DEFAULT_PARTITIONS)

  const procs: AppProcess[] = []
  const removeTargets: Array<() => void> = []
  let schemaCreated = false
  let finished = false
  const cleanup = async () => {
    if (finished) return
    finished = true
    for (const p of procs) p.kill('SIGTERM')
    await Promise.all(procs.map((p) => p.exited))
    for (const remove of removeTargets) remove()
    // the same end after Ctrl-C of --keep-running as after a normal run: nothing of the demo stays
    if (schemaCreated) await dropSchema(databaseUrl, schema).catch((err: unknown) => say(opts.json, `could not drop schema ${schema}: ${(err as Error).message}`))
    await ctx.admin.deleteTopics(Object.values(ctx.topics)).catch(() => undefined)
    await bucket.remove().catch((err: unknown) => say(opts.json, `could not remove bucket ${bucket.s3.bucket}: ${(err as Error).message}`))
    await ctx.close()
    say(opts.json, `stopped; removed topics '${prefix}*', schema '${schema}' and the Prometheus targets`)
  }
  try {
    const started = (p: AppProcess) => (procs.push(p), p)
    const [enrichment, aggregation, archival, eventStore, alerting] = await Promise.all([
      startApp('enrichment', prefix, { AUREN_GROUP_ID_PREFIX: `${prefix}auren.` }).then(started),
      startApp('aggregation', prefix, {
        AUREN_GROUP_ID_PREFIX: `${prefix}auren.`,
        AUREN_DATABASE_URL: databaseUrl,
        AUREN_AGGREGATION_DB_SCHEMA: schema,
        AUREN_AGGREGATION_EXPECTED_PARTITIONS: String(DEFAULT_PARTITIONS),
      }).then(started),
      startApp('archival', prefix, { AUREN_GROUP_ID_PREFIX: `${prefix}auren.`, ...archivalDemoEnv(bucket.s3, databaseUrl, schema) }).then(started),
      startApp('event-store', prefix, { AUREN_GROUP_ID_PREFIX: `${prefix}auren.`, ...eventStoreDemoEnv(databaseUrl, schema) }).then(started),
      startApp('alerting', prefix, {
        AUREN_GROUP_ID_PREFIX: `${prefix}auren.`,
        AUREN_DATABASE_URL: databaseUrl,
        AUREN_ALERTING_DB_SCHEMA: schema,
        AUREN_ALERTMANAGER_URL: alertmanagerUrl,
        // The recorded runs end at different event times on different partitions: a partition
        // idle this long sends every bucket it holds, so the repartitioned rules see every run
        // (processors/alerting/README.md "Co-location and scaling"); which alerts fire, at which
        // event times, does not depend on when.
        AUREN_ALERTING_IDLE_TIMEOUT_MS: String(ALERTING_IDLE_MS),
        AUREN_ALERTING_DELIVERY_POLL_MS: '100',
      }).then(started),
    ])
    schemaCreated = true // the aggregation's migrations create it
    removeTargets.push(registerPromTarget(targetName(prefix, 'enrichment'), enrichment.address, { processor: 'enrichment', demo: prefix }))
    removeTargets.push(registerPromTarget(targetName(prefix, 'aggregation'), aggregation.address, { processor: 'aggregation', demo: prefix }))
    removeTargets.push(registerPromTarget(targetName(prefix, 'archival'), archival.address, { processor: 'archival', demo: prefix }))
    removeTargets.push(registerPromTarget(targetName(prefix, 'event-store'), eventStore.address, { processor: 'event-store', demo: prefix }))
    const removeAlertingTarget = registerPromTarget(targetName(prefix, 'alerting'), alerting.address, { processor: 'alerting', demo: prefix })
    removeTargets.push(removeAlertingTarget) // idempotent: also removed when alerting stops below
    await Promise.all([enrichment.waitReady(90_000), aggregation.waitReady(90_000), archival.waitReady(90_000), eventStore.waitReady(90_000), alerting.waitReady(90_000)])
    say(opts.json, `enrichment, aggregation, archival, event store and alerting ready (${secs()})`)

    // The secret lives only in this process and the gateway's environment: never printed or stored.
    const secret = randomBytes(48).toString('base64')
    const gateway = started(await startGateway({
      AUREN_GATEWAY_JWT_SECRET: secret,
      AUREN_GATEWAY_DB_SCHEMA: schema,
      AUREN_GATEWAY_MAX_RANGE_MS: String(DEMO_MAX_RANGE_MS),
      // the live stream (/v1/stream, /live) of this demo's topics
      AUREN_KAFKA_BROKERS: ctx.env.kafkaBrokers.join(','),
      AUREN_SCHEMA_REGISTRY_URL: ctx.env.schemaRegistryUrl,
      AUREN_TOPIC_PREFIX: prefix,
    }))
    removeTargets.push(registerPromTarget(targetName(prefix, 'gateway'), gateway.address, { processor: 'gateway', demo: prefix }))
    const gatewayUrl = `http://${gateway.address}`
    const gatewayReady = gateway.waitReady(90_000)
    gatewayReady.catch(() => undefined) // awaited below

    const replay = await runReplay(ctx, { traces: opts.traces, speed: 'max', rebaseTime: false, attribution: opts.attribution, progress: !opts.json })
    say(opts.json, `${replay.text} (${secs()})`)

    await waitForGroupCaughtUp(ctx.admin, enrichmentGroup, ctx.topics.agentEvents)
    say(opts.json, `enrichment caught up (${secs()})`)
    await waitForGroupCaughtUp(ctx.admin, aggregationGroup, ctx.topics.enrichedEvents)
    say(opts.json, `aggregation caught up (${secs()})`)
    await waitForGroupCaughtUp(ctx.admin, archivalGroup, ctx.topics.enrichedEvents)
    const archive = await readArchiveSummary(bucket.s3, schema)
    say(opts.json, `archival caught up, archive read with DuckDB (${secs()})`)
    await waitForGroupCaughtUp(ctx.admin, eventStoreGroup, ctx.topics.enrichedEvents)
    const eventStoreSummary = await readEventStoreSummary(databaseUrl, schema)
    say(opts.json, `event store caught up: ${eventStoreSummary.events} events appended (${secs()})`)
    const inputEnds = await ctx.admin.endOffsets(ctx.topics.agentEvents)
    const eventsIn = [...inputEnds.values()].reduce((n, o) => n + Number(o), 0)
    const enriched = await readEnriched(ctx)
    const dlq = await readTopicToEnd(ctx.driver, ctx.admin, ctx.topics.deadLetter)
    const summary = summarize(eventsIn, enriched, dlq.map((r) => r.headers[DLQ_HEADERS.reason] ?? 'UNKNOWN'))
    say(opts.json, `enriched and dead-letter topics read back (${secs()})`)

    // The alerts the recorded runs raised: alerting caught up on both inputs, its outboxes drained.
    await waitForGroupCaughtUp(ctx.admin, alertingGroup, ctx.topics.enrichedEvents)
    await waitForGroupCaughtUp(ctx.admin, alertingGroup, ctx.topics.agentMetrics)
    await waitRepartitionSettled(ctx, databaseUrl, schema, alertingGroup)
    await waitAlertsDelivered(databaseUrl, schema)
    const alerts = await readAlertsSummary(ctx, alertmanagerUrl)
    say(opts.json, `alerting caught up, ${alerts.alerts.length} alerts read from ${ctx.topics.alerts} and the Alertmanager (${secs()})`)
    // Stopped before the simulated part: the alerts reported are the recorded runs' only, and no
    // simulated load (live timestamps, not history) is ever routed to a paging receiver.
    // The target goes first, so Prometheus never scrapes it down (AurenProcessorDown).
    removeAlertingTarget()
    alerting.kill('SIGTERM')
    await alerting.exited

    if (enriched.length === 0) throw new Error('no enriched events: nothing to read through the API')
    let minUs = Infinity
    let maxUs = -Infinity
    const spans: Record<string, SourceSpan> = {}
    for (const e of enriched) {
      minUs = Math.min(minUs, e.event.timestamp)
      maxUs = Math.max(maxUs, e.event.timestamp)
      const s = spans[e.event.source]
      spans[e.event.source] = { minUs: Math.min(s?.minUs ?? Infinity, e.event.timestamp), maxUs: Math.max(s?.maxUs ?? -Infinity, e.event.timestamp) }
    }
    const range = rangeCovering(minUs, maxUs)
    if (Date.parse(range.to) - Date.parse(range.from) > DEMO_MAX_RANGE_MS) {
      throw new Error(`the replayed events span ${range.from} .. ${range.to}, longer than the demo gateway's maximum range (${DEMO_MAX_RANGE_MS / 86_400_000} days)`)
    }
    await gatewayReady
    const api = await readApiSummary(gatewayUrl, secret, range, spans)
    say(opts.json, `REST API read (${secs()})`)

    // The simulated part, after every figure of the recorded runs was read: labelled, reported apart.
    const load = opts.simulated ?? { ...DEFAULT_SIMULATED_LOAD, seed: resolveSeed(undefined).seed }
    const simSent = await runSimulatedPart(ctx, load, !opts.json)
    await waitForGroupCaughtUp(ctx.admin, enrichmentGroup, ctx.topics.agentEvents)
    await waitForGroupCaughtUp(ctx.admin, aggregationGroup, ctx.topics.enrichedEvents)
    const simulated = summarizeSimulated(load, simSent, await readEnriched(ctx))
    say(opts.json, `simulated part: ${simSent} events sent, ${simulated.enriched} enriched, aggregation caught up (${secs()})`)

    const links = [
      `REST API (gateway):   ${gatewayUrl}/docs/json   ${gatewayUrl}/api/v2/overview?${new URLSearchParams(range).toString()}  (Bearer JWT, role operator)`,
      `enrichment metrics:   http://${enrichment.address}/metrics`,
      `aggregation metrics:  http://${aggregation.address}/metrics`,
      `archival metrics:     http://${archival.address}/metrics`,
      `event store metrics:  http://${eventStore.address}/metrics`,
      `gateway metrics:      ${gatewayUrl}/metrics`,
      `Alertmanager:         ${alertmanagerUrl}/api/v2/alerts?filter=replay%3D%22true%22  (the recorded runs' alerts still active)`,
      `Prometheus:           ${ctx.env.prometheusUrl}/graph?g0.expr=${encodeURIComponent('sum by (topic) (auren_records_produced_total)')}`,
      `schema registry:      ${ctx.env.schemaRegistryUrl}/subjects`,
      `topics:               ${Object.values(ctx.topics).join(', ')}`,
      `PostgreSQL schema:    ${schema} (agg_* rollup tables, archive_* manifest, es_* event store)`,
      `archive:              s3://${bucket.s3.bucket} (npm run auren -- query --schema ${schema} "SELECT …" with AUREN_S3_BUCKET=${bucket.s3.bucket})`,
    ]
    // The Grafana dashboards drawn from the same queries (no Grafana server here): one PNG each.
    // Loaded here, not at the top: the renderer's packages (vega, resvg) are development
    // dependencies, and the CLI's other commands (`auren topics` in the image) run without them.
    const { renderDashboards } = await import('../lib/render-dashboards.ts')
    const pictures: RenderedDashboard[] = await renderDashboards({
      prometheusUrl: ctx.env.prometheusUrl, databaseUrl, schema, evalS: Date.now() / 1000, promRangeS: Math.ceil((Date.now() - t0) / 1000) + 30,
      outDir: join(import.meta.dirname, '..', '..', '.cache', 'dashboards', prefix.replace(/-+$/, '')),
      interpolation: {
        variables: { instance: procs.map((p) => p.address).join('|') }, rateInterval: '1m', range: `${Math.ceil((Date.now() - t0) / 1000) + 30}s`,
        // the recorded runs' event time up to the simulated part's (live timestamps)
        fromS: minUs / 1e6, toS: Math.max(maxUs / 1e6, Date.now() / 1000) + 60,
      },
    }).catch((err: unknown) => {
      say(opts.json, `dashboards not drawn: ${(err as Error).message}`)
      return []
    })
    say(opts.json, `dashboards drawn (${secs()})`)
    if (opts.json) {
      console.log(JSON.stringify({
        topic_prefix: prefix,
        replay: { runs: replay.runs, events: replay.events, skipped_files: replay.skippedFiles, skipped_input: replay.skippedInput },
        ...summary,
        api: {
          agents_performance: api.agents_performance, top_cost_drivers: api.top_cost_drivers, projections: api.projections,
          recommendations: api.recommendations, unqualified: api.unqualified, range: api.range,
        },
        archive,
        event_store: eventStoreSummary,
        alerts,
        simulated,
        dashboards: pictures.map((d) => ({ dashboard: d.dashboard, file: d.file, panels: d.panels })),
      }, null, 2))
    } else {
      const drawn = pictures.map((d) => {
        const empty = d.panels.filter((p) => p.series === 0).map((p) => `"${p.title}"`)
        return `  ${d.file}  (${d.panels.length - empty.length}/${d.panels.length} panels with data${empty.length > 0 ? `; no data: ${empty.join(', ')}` : ''})`
      })
      console.log(`${renderSummary(summary, [])}\n${renderApiSummary(api)}\n\n${renderArchiveSummary(archive)}\n${renderEventStoreSummary(eventStoreSummary)}\n\n${renderAlertsSummary(alerts)}\n\n${renderSimulatedSummary(simulated)}\n\nwhere to look:\n${links.map((l) => `  ${l}`).join('\n')}\n\nGrafana dashboards drawn from the running stack:\n${drawn.join('\n')}`)
    }
    say(opts.json, `done in ${secs()}`)

    if (opts.keepRunning) {
      const runToken = await runTokenFor(secret, KEEP_RUNNING_TOKEN_TTL_S)
      for (const line of keepRunningLines(gateway.address, runToken, prefix, KEEP_RUNNING_TOKEN_TTL_S)) say(opts.json, line)
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve)
        process.once('SIGTERM', resolve)
      })
    }
  } finally {
    await cleanup()
  }
}
