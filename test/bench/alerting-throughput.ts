/**
 * Alerting throughput: N enriched events (simulator traffic through the real enrichment
 * transform, every event type, 20 ms of event time apart so that the 1 min to 1 h windows
 * slide and expire buckets) are produced to the enriched topic once; then, per round, one
 * alerting instance evaluating the shipped stream rules plus 50 extra rules
 * (test/bench/alerting-rules.ts), with a fresh consumer group and PostgreSQL schema, reads them
 * all and is timed from /readyz until the input offsets it stores in PostgreSQL (in the same
 * transactions as the rule states and the alert outboxes) reach the log end offset of every
 * partition, and then until its repartition (processors/alerting/README.md "Co-location and
 * scaling") has caught up too: every enriched partition has sent the watermark of its last event
 * (its saved state says so), the outbox of closed buckets is empty and the offsets stored for
 * the repartition topic reach its log end offsets, so every bucket the input closed was merged
 * and evaluated. Each round gets an empty repartition topic, so the rounds are independent. The
 * app runs with its default idle timeout and allowed lateness. Alerts go to an Alertmanager of
 * the bench's own (test/helpers/alertmanager.ts), never to the stack's. Start-up is not timed.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { createTestKafka } from '../helpers/kafka.ts'
import { startApp } from '../helpers/processes.ts'
import { startReceiver, startTestAlertmanager } from '../helpers/alertmanager.ts'
import { stackEnv } from '../helpers/stack.ts'
import { POSITIONS_TABLE } from '../../processors/runtime/sinks/postgres.ts'
import { metricSum, PRELOAD, stopApp, stopCpuProfile, waitStoredPositions, type PhaseContext } from './app.ts'
import { dropSchema, preProduceSimulatedEnriched, schemaPool } from './aggregation-workload.ts'
import { writeBenchRuleFile } from './alerting-rules.ts'
import { startCpuMeter, type CoreUsage } from './cpu.ts'
import { nowMs } from './stats.ts'
import { pause, waitUntil } from '../helpers/wait-until.ts'

export interface AlertingThroughputOptions extends PhaseContext {
  readonly events: number
  readonly timeoutMs: number
  /** Extra rules beside the shipped ones (alerting-rules.ts; default EXTRA_RULES, 50). */
  readonly extraRules?: number
}

/** One timed catch-up of one alerting instance. */
export interface AlertingRun {
  readonly timedEvents: number
  readonly seconds: number
  readonly eventsPerSec: number
  /** Alert state changes written to the outbox. */
  readonly stateChanges: number
  /** Records the enriched partitions sent to the repartition topic (closed buckets and watermarks). */
  readonly repartitionRecords: number
  /** Of the timed seconds, those after the enriched input was done, until the repartition caught up, ms. */
  readonly repartitionTailMs: number
  readonly startupMs: number
  readonly cpu: CoreUsage
  readonly appCpuUsPerEvent: number
  /**
   * Rate between the first stored positions at or past 10 % and 90 % of the timed events
   * (events/s; NaN when the samples do not span them): the catch-up without its start and end.
   */
  readonly steadyEventsPerSec: number
  /** From /readyz to the first stored position past the one at /readyz, ms (start-up of the consumer: group join, state load). */
  readonly firstStoredMs: number
  /** Input records per stored batch (one PostgreSQL transaction each): consumed / commits. */
  readonly meanBatchRecords: number
  /** Mean time of one batch's PostgreSQL transaction, ms. */
  readonly meanCommitMs: number
  /** The CPU profile of the timed window, when one was asked for and written. */
  readonly cpuProfile?: string
}

export interface AlertingSession {
  readonly events: number
  /** Rules evaluated (shipped + extra). */
  readonly rules: number
  /**
   * One timed catch-up with a fresh consumer group and schema.
   * @param cpuProfFile write a V8 CPU profile of the timed window to this file (cpu-prof-preload.mjs)
   */
  run(round: number, cpuProfFile?: string): Promise<AlertingRun>
  close(): Promise<void>
}

/** Event time between consecutive events of the workload, ms. */
const EVENT_STEP_MS = 20

/** The repartition's allowed lateness the app runs with, ms (the app's default, set explicitly so the bench can tell when every source has sent its last watermark). */
const ALLOWED_LATENESS_MS = 5_000

/** Creates the topics, the rule file and the bench's Alertmanager; pre-produces the enriched input. */
export async function prepareAlertingThroughput(opts: AlertingThroughputOptions): Promise<AlertingSession> {
  const kafka = await createTestKafka(opts.partitions)
  const topic = kafka.topics.enrichedEvents
  const dir = mkdtempSync(join(tmpdir(), 'auren-bench-alerting-'))
  const rulesFile = join(dir, 'rules.json')
  const rules = writeBenchRuleFile(rulesFile, opts.extraRules)
  const receiver = await startReceiver()
  const am = await startTestAlertmanager({ receiverBaseUrl: receiver.baseUrl })
  const closeAll = async () => {
    await am.close().catch(() => undefined)
    await receiver.close().catch(() => undefined)
    await kafka.close()
    rmSync(dir, { recursive: true, force: true })
  }
  let events: number
  try {
    opts.log(`pre-producing ${opts.events} enriched events to ${topic} (alerting, ${rules} rules)`)
    events = (await preProduceSimulatedEnriched(kafka, { n: opts.events, seed: opts.seed + 11, stepMs: EVENT_STEP_MS })).events
  } catch (err) {
    await closeAll()
    throw err
  }
  const ends = await kafka.admin.endOffsets(topic)
  const total = [...ends.values()].reduce((n, o) => n + Number(o), 0)
  /**
   * An empty repartition topic for a round: the rounds share the enriched input, and a round's
   * merge (a fresh group and schema, so reading from the start) must read only its own
   * repartition records, as a first run does, not the earlier rounds' as well.
   */
  const freshPartialsTopic = async () => {
    const partials = kafka.topics.alertPartials
    await kafka.admin.deleteTopics([partials]).catch(() => undefined)
    await waitUntil('an empty repartition topic', async () => {
      await kafka.admin.ensureTopics([{ topic: partials, partitions: opts.partitions }])
      const ranges = await kafka.admin.offsetRanges(partials)
      return ranges.size === opts.partitions && [...ranges.values()].every((r) => r.high === '0')
    }, { timeoutMs: 60_000, everyMs: 250 })
  }

  return {
    events,
    rules,
    async run(round, cpuProfFile) {
      const group = `${kafka.prefix}alr${round}.auren.`
      opts.trackGroup(`${group}alerting`)
      await freshPartialsTopic()
      const schema = `alert_bench_${kafka.prefix.replace(/[^a-z0-9]/gi, '').toLowerCase()}_r${round}`
      const pool = schemaPool(schema, 1)
      if (cpuProfFile) mkdirSync(dirname(cpuProfFile), { recursive: true })
      const spawnedAt = nowMs()
      const app = await startApp('alerting', kafka.prefix, {
        AUREN_LOG_LEVEL: 'warn', AUREN_GROUP_ID_PREFIX: group, AUREN_DATABASE_URL: stackEnv().databaseUrl, AUREN_ALERTING_DB_SCHEMA: schema,
        AUREN_ALERTMANAGER_URL: am.url, AUREN_ALERTING_RULES_FILE: rulesFile, AUREN_ALERTING_ALLOWED_LATENESS_MS: String(ALLOWED_LATENESS_MS),
        ...(cpuProfFile ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${PRELOAD}`.trim(), AUREN_BENCH_CPU_PROF_FILE: cpuProfFile } : {}),
      })
      const stored = async () => Number((await pool.query<{ n: string | null }>(`SELECT sum(greatest(next_offset, 0))::text AS n FROM ${POSITIONS_TABLE} WHERE topic = $1`, [topic]).catch(() => ({ rows: [{ n: null }] }))).rows[0]?.n ?? 0)
      try {
        await app.waitReady(120_000)
        const startMs = nowMs()
        if (cpuProfFile) app.kill('SIGUSR2') // start profiling
        const meter = startCpuMeter(app.child.pid)
        const atReady = await stored()
        const samples: { t: number; done: number }[] = [{ t: startMs, done: atReady }]
        const sampled = async () => {
          const done = await stored()
          samples.push({ t: nowMs(), done })
          return done
        }
        await waitStoredPositions(app, sampled, { total, startMs, timeoutMs: opts.timeoutMs, pollMs: 50, what: { app: 'alerting', done: 'evaluated' }, log: opts.log })
        const inputDoneMs = nowMs()
        // The repartition's tail: the buckets closed by the input published and merged.
        const partialsTopic = kafka.topics.alertPartials
        // Every source has sent the watermark of its last event (the first tick after its last
        // batch; saved with its state in the transaction that wrote the records) and the outbox
        // has published them all.
        const pendingPartials = async () => (await pool.query<{ settled: boolean | null; pending: string }>(
          `SELECT (SELECT count(*) = $2 AND bool_and((state->'partials'->'lastSent'->>'watermarkMs')::float8 = (state->'partials'->>'clockMs')::float8 - $3) FROM ${POSITIONS_TABLE} WHERE topic = $1) AS settled, (SELECT count(*)::text FROM alert_partials_outbox) AS pending`,
          [topic, opts.partitions, ALLOWED_LATENESS_MS],
        )).rows[0]!
        for (;;) {
          const p = await pendingPartials()
          if (p.settled === true && p.pending === '0') break
          if (!app.alive()) throw new Error(`alerting exited: ${app.output().slice(-2000)}`)
          if (nowMs() - startMs > opts.timeoutMs) throw new Error('the repartition outbox did not drain')
          await pause(50)
        }
        const partialEnds = await kafka.admin.endOffsets(partialsTopic)
        const repartitionRecords = [...partialEnds.values()].reduce((n, o) => n + Number(o), 0)
        const storedPartials = async () => Number((await pool.query<{ n: string | null }>(`SELECT sum(greatest(next_offset, 0))::text AS n FROM ${POSITIONS_TABLE} WHERE topic = $1`, [partialsTopic]).catch(() => ({ rows: [{ n: null }] }))).rows[0]?.n ?? 0)
        const partialsTotal = [...partialEnds.values()].reduce((n, o) => n + Number(o), 0)
        await waitStoredPositions(app, storedPartials, { total: partialsTotal, startMs, timeoutMs: opts.timeoutMs, pollMs: 50, what: { app: 'alerting', done: 'repartition records merged' }, log: opts.log })
        const repartitionTailMs = nowMs() - inputDoneMs
        const seconds = (nowMs() - startMs) / 1000
        const cpu = meter()
        const cpuProfile = cpuProfFile ? await stopCpuProfile(app, 'alerting', cpuProfFile, opts.log) : undefined
        const metrics = await app.metrics()
        const commits = metricSum(metrics, 'auren_commit_duration_seconds_count')
        const meanBatchRecords = commits > 0 ? metricSum(metrics, 'auren_records_consumed_total') / commits : Number.NaN
        const meanCommitMs = commits > 0 ? (metricSum(metrics, 'auren_commit_duration_seconds_sum') / commits) * 1000 : Number.NaN
        const changes = Number((await pool.query<{ n: string }>('SELECT count(*)::text AS n FROM alert_outbox')).rows[0]!.n)
        const timedEvents = total - atReady
        const at = (fraction: number) => samples.find((x) => x.done - atReady >= fraction * timedEvents)
        const s10 = at(0.1)
        const s90 = at(0.9)
        const steady = s10 && s90 && s90.t > s10.t ? (s90.done - s10.done) / ((s90.t - s10.t) / 1000) : Number.NaN
        const firstStoredMs = (samples.find((x) => x.done > atReady)?.t ?? Number.NaN) - startMs
        opts.log(`  alerting: ${Math.round(timedEvents / seconds)} events/s overall, steady 10-90% ${Math.round(steady)}/s, first stored position after ${Math.round(firstStoredMs)} ms, ${Math.round(meanBatchRecords)} records and ${meanCommitMs.toFixed(1)} ms per batch transaction, ${repartitionRecords} repartition records (${((repartitionRecords / timedEvents) * 1000).toFixed(1)} per 1,000 events), repartition tail ${repartitionTailMs} ms`)
        return {
          steadyEventsPerSec: steady, firstStoredMs, repartitionRecords, repartitionTailMs,
          timedEvents, seconds, eventsPerSec: timedEvents / seconds, stateChanges: changes, startupMs: startMs - spawnedAt, cpu,
          appCpuUsPerEvent: cpu.processCpuSeconds !== undefined ? (cpu.processCpuSeconds / timedEvents) * 1e6 : Number.NaN,
          meanBatchRecords, meanCommitMs, cpuProfile,
        }
      } finally {
        await stopApp(app)
        await pool.end().catch(() => undefined)
        await dropSchema(schema).catch(() => undefined)
      }
    },
    close: closeAll,
  }
}
