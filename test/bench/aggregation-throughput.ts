/**
 * Aggregation throughput: N enriched events (simulator traffic through the real enrichment
 * transform, 1 ms of event time apart, every event type) are produced to the enriched topic once;
 * then, per round, one aggregation instance with a fresh consumer group and a fresh PostgreSQL
 * schema reads them all and is timed from /readyz until the offsets it stored in PostgreSQL (in
 * the same transactions as the rollups) reach the log end offset of every input partition.
 * Start-up (node + tsx, migrations, group join) is not timed.
 */
import { createTestKafka } from '../helpers/kafka.ts'
import { stopApp, type PhaseContext } from './app.ts'
import { dropSchema, preProduceSimulatedEnriched, schemaForPrefix, schemaPool, startAggregation, storedOffsetSum, waitStoredCaughtUp } from './aggregation-workload.ts'
import { startCpuMeter, type CoreUsage } from './cpu.ts'
import { nowMs } from './stats.ts'

export interface AggregationThroughputOptions extends PhaseContext {
  readonly events: number
  readonly timeoutMs: number
}

/** One timed catch-up of one aggregation instance. */
export interface AggregationRun {
  /** Input records stored while timed (N minus what was already stored at /readyz). */
  readonly timedEvents: number
  readonly seconds: number
  readonly eventsPerSec: number
  /** Rate between 10% and 90% stored. */
  readonly steadyEventsPerSec: number
  /** Spawn to /readyz, ms (includes the migrations). */
  readonly startupMs: number
  readonly cpu: CoreUsage
  readonly appCpuUsPerEvent: number
}

export interface AggregationSession {
  /** Enriched events on the topic (N minus those enrichment rejected) and their mean encoded size. */
  readonly events: number
  readonly meanValueBytes: number
  readonly preProduceSeconds: number
  run(round: number): Promise<AggregationRun>
  close(): Promise<void>
}

/** Creates the topics and pre-produces the enriched input. */
export async function prepareAggregationThroughput(opts: AggregationThroughputOptions): Promise<AggregationSession> {
  const kafka = await createTestKafka(opts.partitions)
  const topic = kafka.topics.enrichedEvents
  const began = nowMs()
  let events: number
  let meanValueBytes: number
  try {
    opts.log(`pre-producing ${opts.events} enriched events to ${topic}`)
    const pre = await preProduceSimulatedEnriched(kafka, { n: opts.events, seed: opts.seed, stepMs: 1 })
    events = pre.events
    meanValueBytes = pre.meanValueBytes
  } catch (err) {
    await kafka.close()
    throw err
  }
  const preProduceSeconds = (nowMs() - began) / 1000

  return {
    events,
    meanValueBytes,
    preProduceSeconds,
    async run(round) {
      const group = `${kafka.prefix}agg${round}.auren.`
      opts.trackGroup(`${group}aggregation`)
      const schema = `${schemaForPrefix('bench', kafka.prefix)}_r${round}`
      const pool = schemaPool(schema, 1)
      const spawnedAt = nowMs()
      const app = await startAggregation(kafka.prefix, schema, { AUREN_GROUP_ID_PREFIX: group, AUREN_AGGREGATION_EXPECTED_PARTITIONS: String(opts.partitions) })
      try {
        const startMs = nowMs()
        const meter = startCpuMeter(app.child.pid)
        const atReady = await storedOffsetSum(pool, topic)
        opts.log(`aggregation ready after ${Math.round(startMs - spawnedAt)} ms (${atReady} already stored); timing the catch-up`)
        const samples: { t: number; done: number }[] = [{ t: startMs, done: atReady }]
        let lastLog = startMs
        await waitStoredCaughtUp(pool, kafka, topic, {
          timeoutMs: opts.timeoutMs,
          alive: () => app.alive(),
          onSample(done, t) {
            samples.push({ t, done })
            if (t - lastLog > 5_000) {
              lastLog = t
              opts.log(`  ${done}/${events} stored`)
            }
          },
        })
        const cpu = meter()
        const endMs = samples.at(-1)!.t
        const seconds = (endMs - startMs) / 1000
        const timedEvents = events - atReady
        const at = (f: number) => samples.find((s) => s.done >= f * events)!
        const s10 = at(0.1)
        const s90 = at(0.9)
        return {
          timedEvents,
          seconds,
          eventsPerSec: timedEvents / seconds,
          steadyEventsPerSec: s90.t > s10.t ? (s90.done - s10.done) / ((s90.t - s10.t) / 1000) : Number.NaN,
          startupMs: startMs - spawnedAt,
          cpu,
          appCpuUsPerEvent: cpu.processCpuSeconds !== undefined ? (cpu.processCpuSeconds / timedEvents) * 1e6 : Number.NaN,
        }
      } finally {
        await stopApp(app)
        await pool.end().catch(() => undefined)
        await dropSchema(schema).catch(() => undefined)
      }
    },
    close: () => kafka.close(),
  }
}
