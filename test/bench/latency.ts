/**
 * Produce-to-enriched latency at a fixed offered rate: with one enrichment instance running,
 * events are produced in small batches every 10 ms, each stamped with its send time as its event
 * `timestamp` (epoch µs); a reader of the enriched topic in this process records
 * receive time − send time. The first `warmupSeconds` of traffic (JIT, connections, group join)
 * are sent but not measured.
 */
import { randomUUID } from 'node:crypto'
import { createTestKafka } from '../helpers/kafka.ts'
import type { AppProcess } from '../helpers/processes.ts'
import type { EnrichedAgentEventRecord } from '../../schemas/index.ts'
import type { ProduceRecord } from '../../processors/runtime/kafka/kafka-client.ts'
import { metricSum, startEnrichment, stopApp, type PhaseContext } from './app.ts'
import { startCpuMeter, type CoreUsage } from './cpu.ts'
import { eventEncoder, eventSource } from './workload.ts'
import { delay, nowMs, summarize, withTimeout, type Summary } from './stats.ts'

export interface LatencyOptions extends PhaseContext {
  /** Offered rate, events/s. */
  readonly rate: number
  readonly durationSeconds: number
  readonly warmupSeconds: number
  /** AUREN_MAX_BATCH_BYTES of the app (undefined: the app's default). */
  readonly maxBatchBytes?: number
}

export interface LatencyResult {
  readonly offeredRate: number
  /** Measured events sent divided by the measured window, events/s. */
  readonly achievedRate: number
  readonly sent: number
  readonly received: number
  /** Measured events not seen on the enriched topic within the drain timeout. */
  readonly missing: number
  /** Send → received by the reader of the enriched topic, ms. */
  readonly endToEndMs: Summary
  /** Send → the enrichment app's produce call (the enriched record's create timestamp, ms resolution), ms. */
  readonly toAppProduceMs: Summary
  /** Send → acknowledged by the broker (our producer's send promise), ms. */
  readonly produceAckMs: Summary
  /** Mean encoded enriched record (wire format), bytes. */
  readonly meanEnrichedBytes: number
  /** Cores used while measured (app = the enrichment process). */
  readonly cpu: CoreUsage
  /** Most sends awaiting acknowledgement at once. */
  readonly maxInFlightSends: number
  /** From the app's /metrics at the end (warm-up included): batches, their mean size and commit time. */
  readonly app: { readonly commits: number; readonly meanBatchRecords: number; readonly meanCommitMs: number }
}

const TICK_MS = 10

export async function measureLatency(opts: LatencyOptions): Promise<LatencyResult> {
  const kafka = await createTestKafka(opts.partitions)
  let app: AppProcess | undefined
  const readerGroup = `bench-latency-${randomUUID()}`
  opts.trackGroup(readerGroup)
  opts.trackGroup(`${kafka.prefix}auren.enrichment`)
  const consumer = kafka.driver.consumer({ groupId: readerGroup })
  try {
    app = await startEnrichment(kafka.prefix, { maxBatchBytes: opts.maxBatchBytes })
    const encode = await eventEncoder(kafka)
    const source = eventSource(opts.seed)

    const startMs = nowMs() + 50 // first tick
    const measureFromUs = Math.round((startMs + opts.warmupSeconds * 1000) * 1000)
    const endToEnd: number[] = []
    const toApp: number[] = []
    const acks: number[] = []
    let enrichedBytes = 0
    let received = 0

    let joined: () => void = () => undefined
    const joinedP = new Promise<void>((resolve) => (joined = resolve))
    consumer.onGroupEvent((e) => {
      if (e.type === 'joined') joined()
    })
    let readerError: unknown
    consumer
      .run({
        topics: [kafka.topics.enrichedEvents],
        fromBeginning: true,
        autoResolve: true,
        onBatch: async (batch) => {
          const recv = nowMs()
          for (const r of batch.records) {
            const decoded = (await kafka.serde.decode(r.value, 'enriched-agent-event')) as EnrichedAgentEventRecord
            const sentUs = decoded.event.timestamp
            if (sentUs < measureFromUs) continue
            received++
            enrichedBytes += r.value?.length ?? 0
            endToEnd.push(recv - sentUs / 1000)
            toApp.push(r.timestampMs - sentUs / 1000)
          }
        },
      })
      .catch((err: unknown) => (readerError = err))
    await withTimeout(joinedP, 60_000, 'latency reader did not join its group within 60 s')

    const total = Math.round(opts.rate * (opts.warmupSeconds + opts.durationSeconds))
    const pending = new Set<Promise<void>>()
    let maxInFlight = 0
    let sendError: unknown
    let sent = 0
    let measuredSent = 0
    let meter: (() => CoreUsage) | undefined
    opts.log(`offering ${opts.rate} events/s for ${opts.warmupSeconds} s warm-up + ${opts.durationSeconds} s measured`)
    await delay(Math.max(0, startMs - nowMs()))
    while (sent < total) {
      if (sendError) throw sendError
      if (readerError) throw readerError
      const now = nowMs()
      const due = Math.min(total, Math.floor(((now - startMs) / 1000) * opts.rate))
      if (due > sent) {
        const stampUs = Math.round(nowMs() * 1000)
        const measured = stampUs >= measureFromUs
        if (measured && !meter) meter = startCpuMeter(app.child.pid)
        const records: ProduceRecord[] = []
        for (let i = sent; i < due; i++) records.push(encode(source.next(stampUs)))
        const n = records.length
        const p = kafka.producer.send(records).then(
          () => {
            if (measured) {
              const ack = nowMs() - stampUs / 1000
              for (let i = 0; i < n; i++) acks.push(ack)
            }
          },
          (err: unknown) => void (sendError = err),
        )
        pending.add(p)
        void p.finally(() => pending.delete(p))
        maxInFlight = Math.max(maxInFlight, pending.size)
        if (measured) measuredSent += n
        sent = due
      }
      const elapsed = nowMs() - startMs
      await delay(TICK_MS - (elapsed % TICK_MS))
    }
    const sendEndMs = nowMs()
    const cpu = meter ? meter() : {}
    await withTimeout(Promise.all(pending), 60_000, 'produce acknowledgements did not arrive within 60 s')
    if (sendError) throw sendError

    // Drain: wait (bounded) until the reader has seen every measured event.
    const drainDeadline = nowMs() + 30_000
    while (received < measuredSent && nowMs() < drainDeadline) {
      if (readerError) throw readerError
      await delay(20)
    }
    const metrics = await app.metrics()
    const commits = metricSum(metrics, 'auren_commit_duration_seconds_count')
    const appStats = {
      commits,
      meanBatchRecords: commits > 0 ? metricSum(metrics, 'auren_records_consumed_total') / commits : Number.NaN,
      meanCommitMs: commits > 0 ? (metricSum(metrics, 'auren_commit_duration_seconds_sum') / commits) * 1000 : Number.NaN,
    }
    const measuredSeconds = (sendEndMs - measureFromUs / 1000) / 1000
    return {
      offeredRate: opts.rate,
      achievedRate: measuredSent / measuredSeconds,
      sent: measuredSent,
      received,
      missing: Math.max(0, measuredSent - received),
      endToEndMs: summarize(endToEnd),
      toAppProduceMs: summarize(toApp),
      produceAckMs: summarize(acks),
      meanEnrichedBytes: received > 0 ? enrichedBytes / received : Number.NaN,
      cpu,
      maxInFlightSends: maxInFlight,
      app: appStats,
    }
  } finally {
    await consumer.stop().catch(() => undefined)
    await consumer.disconnect().catch(() => undefined)
    if (app) await stopApp(app, 10_000)
    await kafka.close()
  }
}
