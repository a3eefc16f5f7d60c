/**
 * Alerting throughput: N enriched events (simulator traffic through the real enrichment
 * transform, every event type, 20 ms of event time apart so that the 1 min to 1 h windows
 * slide and expire buckets) are produced to the enriched topic once; then, per round, one
 * alerting instance evaluating the shipped stream rules plus 50 extra rules
 * (test/bench/alerting-rules.ts), with a fresh consumer group and PostgreSQL schema, reads them
 * all and is timed from /readyz until the input offsets it stores in PostgreSQL (in the same
 * transactions as the rule states and the alert outboxes) reach the log end offset of every
 * partition. Alerts go to an Alertmanager of the bench's own (test/helpers/alertmanager.ts),
 * never to the stack's. Start-up is not timed.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestKafka } from '../helpers/kafka.ts'
import { startApp } from '../helpers/processes.ts'
import { startReceiver, startTestAlertmanager } from '../helpers/alertmanager.ts'
import { stackEnv } from '../helpers/stack.ts'
import { POSITIONS_TABLE } from '../../processors/runtime/sinks/postgres.ts'
import { stopApp, waitStoredPositions, type PhaseContext } from './app.ts'
import { dropSchema, preProduceSimulatedEnriched, schemaPool } from './aggregation-workload.ts'
import { writeBenchRuleFile } from './alerting-rules.ts'
import { startCpuMeter, type CoreUsage } from './cpu.ts'
import { nowMs } from './stats.ts'

export interface AlertingThroughputOptions extends PhaseContext {
  readonly events: number
  readonly timeoutMs: number
}

/** One timed catch-up of one alerting instance. */
export interface AlertingRun {
  readonly timedEvents: number
  readonly seconds: number
  readonly eventsPerSec: number
  /** Alert state changes written to the outbox. */
  readonly stateChanges: number
  readonly startupMs: number
  readonly cpu: CoreUsage
  readonly appCpuUsPerEvent: number
}

export interface AlertingSession {
  readonly events: number
  /** Rules evaluated (shipped + extra). */
  readonly rules: number
  run(round: number): Promise<AlertingRun>
  close(): Promise<void>
}

/** Event time between consecutive events of the workload, ms. */
const EVENT_STEP_MS = 20

/** Creates the topics, the rule file and the bench's Alertmanager; pre-produces the enriched input. */
export async function prepareAlertingThroughput(opts: AlertingThroughputOptions): Promise<AlertingSession> {
  const kafka = await createTestKafka(opts.partitions)
  const topic = kafka.topics.enrichedEvents
  const dir = mkdtempSync(join(tmpdir(), 'auren-bench-alerting-'))
  const rulesFile = join(dir, 'rules.json')
  const rules = writeBenchRuleFile(rulesFile)
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

  return {
    events,
    rules,
    async run(round) {
      const group = `${kafka.prefix}alr${round}.auren.`
      opts.trackGroup(`${group}alerting`)
      const schema = `alert_bench_${kafka.prefix.replace(/[^a-z0-9]/gi, '').toLowerCase()}_r${round}`
      const pool = schemaPool(schema, 1)
      const spawnedAt = nowMs()
      const app = await startApp('alerting', kafka.prefix, {
        AUREN_LOG_LEVEL: 'warn', AUREN_GROUP_ID_PREFIX: group, AUREN_DATABASE_URL: stackEnv().databaseUrl, AUREN_ALERTING_DB_SCHEMA: schema,
        AUREN_ALERTMANAGER_URL: am.url, AUREN_ALERTING_RULES_FILE: rulesFile, AUREN_ALERTING_IDLE_TIMEOUT_MS: '0',
      })
      const stored = async () => Number((await pool.query<{ n: string | null }>(`SELECT sum(greatest(next_offset, 0))::text AS n FROM ${POSITIONS_TABLE} WHERE topic = $1`, [topic]).catch(() => ({ rows: [{ n: null }] }))).rows[0]?.n ?? 0)
      try {
        await app.waitReady(120_000)
        const startMs = nowMs()
        const meter = startCpuMeter(app.child.pid)
        const atReady = await stored()
        await waitStoredPositions(app, stored, { total, startMs, timeoutMs: opts.timeoutMs, pollMs: 50, what: { app: 'alerting', done: 'evaluated' }, log: opts.log })
        const seconds = (nowMs() - startMs) / 1000
        const cpu = meter()
        const changes = Number((await pool.query<{ n: string }>('SELECT count(*)::text AS n FROM alert_outbox')).rows[0]!.n)
        const timedEvents = total - atReady
        return {
          timedEvents, seconds, eventsPerSec: timedEvents / seconds, stateChanges: changes, startupMs: startMs - spawnedAt, cpu,
          appCpuUsPerEvent: cpu.processCpuSeconds !== undefined ? (cpu.processCpuSeconds / timedEvents) * 1e6 : Number.NaN,
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
