/**
 * `auren chaos` (`npm run chaos`): the fault mix of issue 10 on the local stack, as an operator
 * would try it. Two instances of each processor (enrichment, aggregation) on a fresh topic prefix
 * and PostgreSQL schema; the simulator for the whole duration plus a replay of the recorded runs,
 * with poison records spread over the run; a SIGKILL of a random instance every few seconds (a new
 * process takes its slot), one SIGKILL of the broker (restarted through the stack script) and one
 * 20 s PostgreSQL stop. Then it waits until both consumer groups drained, reads back the topics
 * and the rollups, prints the table of chaos-report.ts and resolves with ok=false on any loss or
 * double count.
 *
 * It kills the broker and stops the database of the stack of $AUREN_STACK_DIR: run it on a stack
 * nobody else is using.
 */
import pg from 'pg'
import { createCliContext, ensureTopicsAndSchemas, type CliContext } from '../cli-context.ts'
import { runReplay } from '../replay-command.ts'
import { runSimulate } from '../simulate-command.ts'
import { readTopicToEnd } from '../read-topic.ts'
import { brokerOutage, databaseOutage, sleep } from '../stack-control.ts'
import { InstancePool } from './instances.ts'
import { chaosResult, renderChaosTable, type ChaosObservations, type ChaosResult } from './chaos-report.ts'
import { sendRetrying } from '../../sources/publish-retry.ts'
import { mulberry32 } from '../../sources/simulator.ts'
import { DEFAULT_PARTITIONS, DLQ_HEADERS, fromAgentEventRecord, fromEnrichedRecord, type AgentEventRecord, type EnrichedAgentEventRecord } from '../../../schemas/index.ts'
import { RT } from '../../../schemas/rollup-tables.ts'

/** Options of `auren chaos` (see `auren chaos --help`). */
export interface ChaosOptions {
  readonly durationMs: number
  readonly delivery: 'exactly-once' | 'at-least-once'
  /** Simulator events per second. */
  readonly rate: number
  /** Seconds between processor SIGKILLs. */
  readonly killEverySec: number
  /** Poison records spread over the run. */
  readonly poison: number
  /** Folder of recorded runs to replay at the start ('' = none). */
  readonly traces: string
  /** How long the PostgreSQL stop lasts, ms. */
  readonly databaseDownMs: number
  /** How long to wait for draining after the last fault, ms. */
  readonly drainTimeoutMs: number
  readonly seed: number
  /** Keep the topics and schema afterwards (default: dropped). */
  readonly keep: boolean
}

/**
 * Lag update period of the instances, ms (AUREN_LAG_INTERVAL_MS; the default is 5 000): the drain
 * is seen through their auren_consumer_lag_records, so this bounds how late it is seen.
 */
const LAG_INTERVAL_MS = '2000'

const say = (line: string) => console.error(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}`)

/** Lower-case schema name for a prefix. */
const schemaOf = (prefix: string) => prefix.toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/_+$/, '').slice(0, 63)

async function withDb<T>(url: string, schema: string | null, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, ...(schema ? { options: `-c search_path=${schema}` } : {}) })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

/** Waits until the group committed the log end of every partition of topic; false on timeout. */
async function groupDrained(ctx: CliContext, group: string, topic: string): Promise<boolean> {
  const ends = await ctx.admin.endOffsets(topic)
  const committed = await ctx.admin.committedOffsets(group, topic)
  return [...ends].every(([p, end]) => end === '0' || committed.get(p) === end)
}

/** Records not yet consumed by the group on topic (sum over partitions of log end − committed). */
async function groupBacklog(ctx: CliContext, group: string, topic: string): Promise<number> {
  // Committed offsets first: read after the log ends, they could already be past them.
  const committed = await ctx.admin.committedOffsets(group, topic)
  const ends = await ctx.admin.endOffsets(topic)
  let sum = 0
  for (const [p, end] of ends) sum += Number(end) - Math.max(0, Number(committed.get(p) ?? 0))
  return sum
}

/** One progress line: each group's backlog and how many instances answer /metrics with lag series. */
async function progressLine(ctx: CliContext, prefix: string, pool: InstancePool): Promise<string> {
  const backlog = async (group: string, topic: string) => groupBacklog(ctx, `${prefix}auren.${group}`, topic).then(String, () => '?')
  const lags = await pool.scrapeLag()
  const instances = [...lags].map(([k, v]) => `${k}:${v.length === 0 ? '-' : Math.max(...v)}`).join(' ')
  return `backlog enrichment ${await backlog('enrichment', ctx.topics.agentEvents)}, aggregation ${await backlog('aggregation', ctx.topics.enrichedEvents)}; max lag per instance ${instances || '(none answering)'}`
}

/** Runs the chaos mix; resolves with the figures and whether the run passed. */
export async function runChaos(opts: ChaosOptions): Promise<{ observations: ChaosObservations; result: ChaosResult; table: string }> {
  const prefix = `chaos-${new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)}-`
  const schema = schemaOf(prefix)
  const ctx = await createCliContext(prefix)
  const databaseUrl = ctx.env.databaseUrl
  await ensureTopicsAndSchemas(ctx, DEFAULT_PARTITIONS)
  say(`topics ${prefix}*, schema ${schema}, delivery ${opts.delivery}, ${opts.durationMs / 1000} s`)
  const random = mulberry32(opts.seed)
  const pool = new InstancePool(
    prefix,
    [
      { app: 'enrichment', count: 2, env: () => ({ AUREN_DELIVERY: opts.delivery, AUREN_LOG_LEVEL: 'warn', AUREN_LAG_INTERVAL_MS: LAG_INTERVAL_MS }) },
      {
        app: 'aggregation',
        count: 2,
        env: () => ({ AUREN_DELIVERY: opts.delivery, AUREN_DATABASE_URL: databaseUrl, AUREN_AGGREGATION_DB_SCHEMA: schema, AUREN_AGGREGATION_EXPECTED_PARTITIONS: String(DEFAULT_PARTITIONS), AUREN_LOG_LEVEL: 'warn', AUREN_LAG_INTERVAL_MS: LAG_INTERVAL_MS }),
      },
    ],
    say,
  )
  const faults = { brokerKills: 0, brokerOutagesMs: [] as number[], databaseStops: 0, databaseOutagesMs: [] as number[] }
  let poisonSent = 0
  let lastFaultEnd = Date.now()
  let running = true
  let faultsOver = false
  const observations = async (drainMs: number | null): Promise<ChaosObservations> => {
    say('reading back the input, enriched and dead-letter topics and the rollups')
    const inputIds = new Set<string>()
    let inputRecords = 0
    for (const r of await readTopicToEnd(ctx.driver, ctx.admin, ctx.topics.agentEvents, 600_000)) {
      const e = await ctx.serde.decode(r.value, 'agent-event').then((v) => fromAgentEventRecord(v as AgentEventRecord), () => null)
      if (!e) continue
      inputRecords++
      inputIds.add(e.event_id)
    }
    const enrichedCounts = new Map<string, number>()
    for (const r of await readTopicToEnd(ctx.driver, ctx.admin, ctx.topics.enrichedEvents, 600_000)) {
      const e = fromEnrichedRecord((await ctx.serde.decode(r.value, 'enriched-agent-event')) as EnrichedAgentEventRecord)
      enrichedCounts.set(e.event.event_id, (enrichedCounts.get(e.event.event_id) ?? 0) + 1)
    }
    const deadLetters = []
    for (const r of await readTopicToEnd(ctx.driver, ctx.admin, ctx.topics.deadLetter, 600_000)) {
      const e = await ctx.serde.decode(r.value, 'agent-event').then((v) => fromAgentEventRecord(v as AgentEventRecord), () => null)
      deadLetters.push({ reason: r.headers[DLQ_HEADERS.reason] ?? '(none)', eventId: e?.event_id ?? null, source: `${r.headers[DLQ_HEADERS.sourceTopic]}/${r.headers[DLQ_HEADERS.sourcePartition]}/${r.headers[DLQ_HEADERS.sourceOffset]}` })
    }
    const { appliedIds, rollupEvents } = await withDb(databaseUrl, schema, async (c) => ({
      appliedIds: new Set((await c.query<{ id: string }>('SELECT event_id::text AS id FROM agg_seen_events')).rows.map((r) => r.id)),
      rollupEvents: Number((await c.query<{ n: string | null }>(`SELECT sum(events)::text AS n FROM ${RT.agent}`)).rows[0]?.n ?? 0),
    }))
    return {
      delivery: opts.delivery,
      durationMs: opts.durationMs,
      faults: { processorKills: { ...pool.kills }, unexpectedExits: { ...pool.unexpectedExits }, ...faults },
      poisonSent,
      inputIds,
      inputRecords,
      enrichedCounts,
      deadLetters,
      appliedIds,
      rollupEvents,
      maxLag: { ...pool.maxLag },
      drainMs,
    }
  }

  try {
    await pool.start()
    say('2 enrichment and 2 aggregation instances ready')
    const t0 = Date.now()
    const until = t0 + opts.durationMs
    const retry = { giveUpAfterMs: opts.durationMs + 600_000, onRetry: ({ error }: { error: Error }) => say(`source: broker unavailable (${error.message}), retrying`) }
    const sources = Promise.all([
      runSimulate(ctx, { rate: opts.rate, duration: opts.durationMs / 1000, seed: opts.seed, progress: false, retry }).then((n) => say(`simulator: ${n} events sent`)),
      opts.traces ? runReplay(ctx, { traces: opts.traces, speed: 'max', rebaseTime: false, progress: false, retry }).then((r) => say(`replay: ${r.events} events from ${r.runs} runs`)) : Promise.resolve(),
      (async () => {
        for (let i = 0; i < opts.poison; i++) {
          await sleep(Math.max(0, t0 + ((i + 0.5) * opts.durationMs) / opts.poison - Date.now()))
          await sendRetrying(ctx.producer, [{ topic: ctx.topics.agentEvents, key: `poison-${i}`, value: Buffer.from(`chaos poison ${i}: not Avro`) }], retry)
          poisonSent++
        }
      })(),
    ])
    const lagScraper = (async () => {
      let lastProgress = 0
      while (running) {
        await pool.scrapeLag()
        if (!faultsOver && Date.now() - lastProgress >= 15_000) {
          lastProgress = Date.now()
          say(await progressLine(ctx, prefix, pool).catch((err: Error) => `progress unavailable: ${err.message}`))
        }
        await sleep(1_000)
      }
    })()
    const killer = (async () => {
      while (Date.now() + opts.killEverySec * 1000 < until) {
        await sleep(opts.killEverySec * 1000)
        say(`SIGKILL ${await pool.killRandom(random)}`)
        lastFaultEnd = Date.now()
      }
    })()
    const broker = (async () => {
      await sleep(Math.max(0, t0 + opts.durationMs * 0.3 - Date.now()))
      say('SIGKILL of the broker')
      faults.brokerKills++
      const o = await brokerOutage(0)
      faults.brokerOutagesMs.push(o.outageMs)
      lastFaultEnd = Math.max(lastFaultEnd, Date.now())
      say(`broker back after ${(o.outageMs / 1000).toFixed(1)} s`)
    })()
    const database = (async () => {
      await sleep(Math.max(0, t0 + opts.durationMs * 0.6 - Date.now()))
      say(`PostgreSQL stopped for ${opts.databaseDownMs / 1000} s`)
      faults.databaseStops++
      const o = await databaseOutage(opts.databaseDownMs)
      faults.databaseOutagesMs.push(o.outageMs)
      lastFaultEnd = Math.max(lastFaultEnd, Date.now())
      say('PostgreSQL back')
    })()
    await Promise.all([sources, killer, broker, database])
    faultsOver = true
    say(`faults over; waiting for both groups to drain (up to ${opts.drainTimeoutMs / 1000} s)`)
    const drainDeadline = Date.now() + opts.drainTimeoutMs
    let drainMs: number | null = null
    let lastDrainProgress = 0
    for (;;) {
      const drained =
        (await groupDrained(ctx, `${prefix}auren.enrichment`, ctx.topics.agentEvents).catch(() => false)) &&
        (await groupDrained(ctx, `${prefix}auren.aggregation`, ctx.topics.enrichedEvents).catch(() => false)) &&
        (await pool.allLagZero(DEFAULT_PARTITIONS))
      if (drained) {
        drainMs = Date.now() - lastFaultEnd
        break
      }
      if (Date.now() > drainDeadline) break
      if (Date.now() - lastDrainProgress >= 5_000) {
        lastDrainProgress = Date.now()
        say(`${((Date.now() - lastFaultEnd) / 1000).toFixed(0)} s after the last fault: ${await progressLine(ctx, prefix, pool).catch((err: Error) => `progress unavailable: ${err.message}`)}`)
      }
      await sleep(500)
    }
    say(drainMs === null ? 'did not drain in time' : `drained ${(drainMs / 1000).toFixed(1)} s after the last fault`)
    running = false
    await lagScraper
    const stopped = await pool.stop()
    const unclean = stopped.filter((s) => s.code !== 0)
    if (unclean.length > 0) say(`instances not stopping with 0 on SIGTERM: ${unclean.map((s) => `${s.instance} ${s.code}`).join(', ')}`)
    for (const out of pool.exitOutputs) say(out)
    const obs = await observations(drainMs)
    const result = chaosResult(obs)
    return { observations: obs, result, table: renderChaosTable(obs, result) }
  } finally {
    running = false
    await pool.stop().catch(() => undefined)
    if (!opts.keep) {
      await ctx.admin.deleteTopics(Object.values(ctx.topics)).catch(() => undefined)
      await withDb(databaseUrl, null, (c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)).catch(() => undefined)
    }
    await ctx.close().catch(() => undefined)
  }
}
