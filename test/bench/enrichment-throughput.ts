/**
 * Enrichment throughput: N events are produced to the input topic once; then, per round, one
 * enrichment instance with a fresh consumer group reads them all and is timed from /readyz until
 * its group has committed the log end offset of every input partition.
 */
import { randomUUID } from 'node:crypto'
import { existsSync, rmSync } from 'node:fs'
import { createTestKafka, type TestKafka } from '../helpers/kafka.ts'
import type { AppProcess } from '../helpers/processes.ts'
import { metricSum, startEnrichment, stopApp, type PhaseContext } from './app.ts'
import { startCpuMeter, type CoreUsage } from './cpu.ts'
import { preProduce, type PreProduceResult } from './workload.ts'
import { delay, nowMs } from './stats.ts'

export interface ThroughputOptions extends PhaseContext {
  readonly events: number
  /** AUREN_MAX_BATCH_BYTES of the app (undefined: the app's default). */
  readonly maxBatchBytes?: number
  /** Give up waiting for a group to catch up after this long, ms. */
  readonly timeoutMs: number
}

/** One timed catch-up of one app instance. */
export interface ThroughputRun {
  /** Input records committed while timed (N minus what was already committed at /readyz). */
  readonly timedEvents: number
  /** Seconds from /readyz to every partition committed. */
  readonly seconds: number
  readonly eventsPerSec: number
  /** Rate between 10% and 90% committed (no start-up or tail). */
  readonly steadyEventsPerSec: number
  /** Spawn to /readyz, ms (node + tsx start-up, registry, group join). */
  readonly startupMs: number
  readonly cpu: CoreUsage
  /** App CPU per input event, µs. */
  readonly appCpuUsPerEvent: number
  /** From the app's /metrics at the end. */
  readonly app: {
    readonly enriched: number
    readonly deadLettered: number
    readonly skipped: number
    /** Batches committed (one synchronous commit each), their mean size and commit time. */
    readonly commits: number
    readonly meanBatchRecords: number
    readonly meanCommitMs: number
    /** Node GC time over the app's life, seconds. */
    readonly gcSeconds: number
  }
  /** The CPU profile written (when asked for), or undefined. */
  readonly cpuProfile?: string
}

/** The pre-produced input, reusable by several timed runs. */
export interface ThroughputSession {
  readonly preProduce: PreProduceResult
  /**
   * Times one app instance over the whole input with a fresh consumer group.
   * @param cpuProfFile write a CPU profile of the timed window to this file
   */
  run(round: number, cpuProfFile?: string): Promise<ThroughputRun>
  /** kafkajs consume-only rate of the input in this process (no decode), records/s. */
  consumeOnly(): Promise<number>
  /** Deletes the topics. */
  close(): Promise<void>
}

function committedSum(committed: Map<number, string>): number {
  let sum = 0
  for (const v of committed.values()) if (Number(v) > 0) sum += Number(v)
  return sum
}

/**
 * Consumes `topic` from the beginning to its end offsets with a throwaway group and no decoding,
 * timed from the group join to the last batch (as ConsumerPerformance's fetch rate), records/s.
 */
export async function consumeOnlyRate(kafka: TestKafka, topic: string, groupId: string, timeoutMs: number): Promise<number> {
  const ends = await kafka.admin.endOffsets(topic)
  const remaining = new Map([...ends].filter(([, e]) => e !== '0').map(([p, e]) => [p, BigInt(e)]))
  let total = 0
  for (const e of remaining.values()) total += Number(e)
  const consumer = kafka.driver.consumer({ groupId })
  let joinedAt: number | undefined
  consumer.onGroupEvent((e) => {
    if (e.type === 'joined') joinedAt ??= nowMs()
  })
  let last = 0
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`consume-only read of ${topic} did not finish in ${timeoutMs} ms`)), timeoutMs)
      consumer
        .run({
          topics: [topic],
          fromBeginning: true,
          autoResolve: true,
          onBatch: async (batch) => {
            const end = remaining.get(batch.partition)
            const tail = batch.records.at(-1)
            if (end !== undefined && tail && BigInt(tail.offset) + 1n >= end) remaining.delete(batch.partition)
            if (remaining.size === 0) {
              last = nowMs()
              clearTimeout(timer)
              resolve()
            }
          },
        })
        .catch(reject)
    })
  } finally {
    await consumer.disconnect()
  }
  return joinedAt !== undefined && last > joinedAt ? total / ((last - joinedAt) / 1000) : Number.NaN
}

/** Creates the topics and pre-produces the input. */
export async function prepareEnrichmentThroughput(opts: ThroughputOptions): Promise<ThroughputSession> {
  const kafka = await createTestKafka(opts.partitions)
  const input = kafka.topics.agentEvents
  let pre: PreProduceResult
  let ends: Map<number, string>
  try {
    opts.log(`pre-producing ${opts.events} events to ${input}`)
    pre = await preProduce(kafka, opts.events, { seed: opts.seed })
    ends = await kafka.admin.endOffsets(input)
    let total = 0
    for (const e of ends.values()) total += Number(e)
    if (total !== opts.events) throw new Error(`input topic holds ${total} records, expected ${opts.events}`)
  } catch (err) {
    await kafka.close()
    throw err
  }

  async function timedRun(app: AppProcess, groupId: string, spawnedAt: number, cpuProfFile: string | undefined): Promise<ThroughputRun> {
    const startMs = nowMs()
    if (cpuProfFile) app.kill('SIGUSR2') // start profiling
    const meter = startCpuMeter(app.child.pid)
    const atReady = committedSum(await kafka.admin.committedOffsets(groupId, input))
    opts.log(`enrichment ready after ${Math.round(startMs - spawnedAt)} ms (${atReady} already committed); timing the catch-up`)

    const samples: { t: number; done: number }[] = [{ t: startMs, done: atReady }]
    const deadline = startMs + opts.timeoutMs
    let lastLog = startMs
    for (;;) {
      const committed = await kafka.admin.committedOffsets(groupId, input)
      const t = nowMs()
      const done = committedSum(committed)
      samples.push({ t, done })
      if ([...ends].every(([p, end]) => end === '0' || committed.get(p) === end)) break
      if (app.child.exitCode !== null || app.child.signalCode !== null) throw new Error(`enrichment exited during the run:\n${app.output().slice(-4000)}`)
      if (t > deadline) throw new Error(`enrichment committed ${done}/${opts.events} after ${opts.timeoutMs} ms`)
      if (t - lastLog > 5_000) {
        lastLog = t
        opts.log(`  ${done}/${opts.events} committed`)
      }
      await delay(50)
    }
    const cpu = meter()
    if (cpuProfFile) app.kill('SIGUSR2') // stop profiling, write the file
    const endMs = samples.at(-1)!.t
    const seconds = (endMs - startMs) / 1000
    const timedEvents = opts.events - atReady

    // Steady rate: between the first samples at or past 10% and 90% of the input.
    const at = (fraction: number) => samples.find((s) => s.done >= fraction * opts.events)!
    const s10 = at(0.1)
    const s90 = at(0.9)
    const steady = s90.t > s10.t ? (s90.done - s10.done) / ((s90.t - s10.t) / 1000) : Number.NaN

    const metrics = await app.metrics()
    const commits = metricSum(metrics, 'auren_commit_duration_seconds_count')
    const consumed = metricSum(metrics, 'auren_records_consumed_total')
    const appStats = {
      enriched: metricSum(metrics, 'auren_records_produced_total', `topic="${kafka.topics.enrichedEvents}"`),
      deadLettered: metricSum(metrics, 'auren_records_dead_lettered_total'),
      skipped: metricSum(metrics, 'auren_records_skipped_total'),
      commits,
      meanBatchRecords: commits > 0 ? consumed / commits : Number.NaN,
      meanCommitMs: commits > 0 ? (metricSum(metrics, 'auren_commit_duration_seconds_sum') / commits) * 1000 : Number.NaN,
      gcSeconds: metricSum(metrics, 'nodejs_gc_duration_seconds_sum'),
    }
    let cpuProfile: string | undefined
    if (cpuProfFile) {
      const until = nowMs() + 15_000
      while (!existsSync(cpuProfFile) && nowMs() < until) await delay(100)
      if (existsSync(cpuProfFile)) cpuProfile = cpuProfFile
      else opts.log(`the app wrote no CPU profile to ${cpuProfFile}`)
    }
    return {
      timedEvents,
      seconds,
      eventsPerSec: timedEvents / seconds,
      steadyEventsPerSec: steady,
      startupMs: startMs - spawnedAt,
      cpu,
      appCpuUsPerEvent: cpu.processCpuSeconds !== undefined ? (cpu.processCpuSeconds / timedEvents) * 1e6 : Number.NaN,
      app: appStats,
      cpuProfile,
    }
  }

  return {
    preProduce: pre,
    async run(round, cpuProfFile) {
      const groupIdPrefix = `${kafka.prefix}r${round}.auren.`
      const groupId = `${groupIdPrefix}enrichment`
      opts.trackGroup(groupId)
      if (cpuProfFile) rmSync(cpuProfFile, { force: true })
      const spawnedAt = nowMs()
      const app = await startEnrichment(kafka.prefix, { cpuProfFile, maxBatchBytes: opts.maxBatchBytes, groupIdPrefix })
      try {
        return await timedRun(app, groupId, spawnedAt, cpuProfFile)
      } finally {
        await stopApp(app)
      }
    },
    async consumeOnly() {
      const groupId = `bench-consume-only-${randomUUID()}`
      opts.trackGroup(groupId)
      return consumeOnlyRate(kafka, input, groupId, 120_000)
    },
    close: () => kafka.close(),
  }
}
