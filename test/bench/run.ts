/**
 * `npm run bench`: enrichment, aggregation, archival and event-store throughput, the gateway's OTLP ingest (spans/s,
 * request latency at a fixed rate), the broker's own producer/consumer ceiling and
 * produce-to-enriched latency at a fixed offered rate, measured side by side in one run on the
 * same topic settings. Throughput and ceiling are measured in alternating rounds (enrichment
 * first in odd rounds, the Kafka tools first in even ones) and each ratio is the median of the
 * per-round ratios, so they hold on a shared, noisy machine. Prints a table and writes
 * test/artifacts/bench.json. Needs the local stack (scripts/bench.sh starts it).
 *
 *   npx tsx test/bench/run.ts --help
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { prepareEnrichmentThroughput, type ThroughputRun, type ThroughputSession } from './enrichment-throughput.ts'
import { prepareAggregationThroughput, type AggregationRun, type AggregationSession } from './aggregation-throughput.ts'
import { prepareArchivalThroughput, type ArchivalRun, type ArchivalSession } from './archival-throughput.ts'
import { prepareEventStoreThroughput, type EventStoreRun, type EventStoreSession } from './event-store-throughput.ts'
import { prepareAlertingThroughput, type AlertingRun, type AlertingSession } from './alerting-throughput.ts'
import { EXTRA_RULES } from './alerting-rules.ts'
import { measureAlertingEngine, type AlertingEngineResult } from './alerting-engine-child.ts'
import { TIER_BUDGETS } from '../../gateway/subscriptions.ts'
import { measureLatency, type LatencyResult } from './latency.ts'
import { measureGateway, type GatewayBenchResult } from './gateway-stream.ts'
import { measureIngest, type IngestBenchResult } from './ingest-throughput.ts'
import { deleteGroups, kafkaVersion, measureBrokerCeiling, type CeilingResult } from './broker-ceiling.ts'
import { summarizeProfile, type ProfileSummary } from './cpu-profile.ts'
import { killRunningApps } from './app.ts'
import type { PreProduceResult } from './workload.ts'
import type { CoreUsage } from './cpu.ts'
import { measurePartitioner, type PartitionerResult } from './partitioner.ts'
import { fmt, median, ratio, round, nowMs } from './stats.ts'

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const PHASES = ['throughput', 'aggregation', 'archival', 'event-store', 'alerting', 'ceiling', 'latency', 'gateway', 'ingest', 'partitioner'] as const
type Phase = (typeof PHASES)[number]
/**
 * AUREN_MAX_BATCH_BYTES the bench gives the app. With the app's default (1 MiB fetched per
 * partition), the enriched outputs of one full fetch (~10% larger than the input, all keyed to
 * the same output partition) go to the broker as one record batch larger than its
 * message.max.bytes (1 MiB), and the app crashes on a backlog.
 */

const HELP = `usage: npm run bench -- [options]
  --events N            events pre-produced for the throughput runs (default 100000; aggregation
                        reads N enriched events, pre-produced to its own topic)
  --rounds R            throughput + ceiling rounds; medians are reported (default 3)
  --rate R              offered rate of the latency run, events/s (default 1000)
  --duration S          measured seconds of the latency run (default 20)
  --warmup S            unmeasured warm-up seconds before it (default 3)
  --partitions P        partitions of every topic (default 6; replication factor is 1)
  --ceiling-records N   records of ProducerPerformance/ConsumerPerformance (default: --events)
  --gw-connections N    gateway phase: WebSocket connections opened and held (default 10000)
  --gw-subscribers N    gateway phase: subscribers of 'events' while events flow (default 1000)
  --gw-rate R           gateway phase: offered rate, events/s (default 50)
  --gw-duration S       gateway phase: measured seconds (default 10)
  --gw-client-procs N   gateway phase: processes the WebSocket clients are spread over (default 4)
  --alerting-extra-rules N
                        alerting phase: extra rules beside the shipped ones (default 50, the
                        issue's figure; 0 measures the shipped rules alone, to see the cost per rule)
  --ingest-requests N   ingest phase: OTLP protobuf requests of 512 spans in the throughput run (default 100)
  --ingest-senders N    ingest phase: closed-loop senders of the throughput run (default 4)
  --ingest-rate R       ingest phase: offered rate of the latency run, spans/s (default 1024: 2 requests/s)
  --ingest-duration S   ingest phase: measured seconds of the latency run (default 15)
  --partitioner-calls N partitioner phase: keyed records timed per partitioner and round (default 200000)
  --phases LIST         comma-separated subset of ${PHASES.join(',')} (default: all)
  --cpu-prof            one more enrichment and one more archival run (not counted) under the V8
                        CPU profiler, summarized (test/artifacts/bench-enrichment.cpuprofile,
                        test/artifacts/bench-archival.cpuprofile)
  --max-batch-bytes B   AUREN_MAX_BATCH_BYTES of the enrichment app (default: the app's own, 1 MiB)
  --json FILE           report file (default test/artifacts/bench.json)
  --timeout S           limit of each wait, seconds (default 600)
  --seed N              simulator seed (default 42)`

function positive(name: string, raw: string | undefined, def: number): number {
  if (raw === undefined) return def
  const n = Number(raw)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got '${raw}'`)
  return n
}

function parseOptions() {
  const { values } = parseArgs({
    options: {
      events: { type: 'string' },
      rounds: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      partitions: { type: 'string' },
      'ceiling-records': { type: 'string' },
      phases: { type: 'string' },
      'gw-connections': { type: 'string' },
      'gw-subscribers': { type: 'string' },
      'gw-rate': { type: 'string' },
      'gw-duration': { type: 'string' },
      'gw-client-procs': { type: 'string' },
      'alerting-extra-rules': { type: 'string' },
      'ingest-requests': { type: 'string' },
      'ingest-senders': { type: 'string' },
      'ingest-rate': { type: 'string' },
      'ingest-duration': { type: 'string' },
      'partitioner-calls': { type: 'string' },
      'cpu-prof': { type: 'boolean', default: false },
      'max-batch-bytes': { type: 'string' },
      json: { type: 'string' },
      timeout: { type: 'string' },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  })
  if (values.help) {
    console.log(HELP)
    process.exit(0)
  }
  const events = Math.round(positive('events', values.events, 100_000))
  const phases = (values.phases ?? PHASES.join(',')).split(',').map((s) => s.trim()).filter(Boolean)
  for (const p of phases) if (!(PHASES as readonly string[]).includes(p)) throw new Error(`--phases: unknown phase '${p}' (known: ${PHASES.join(', ')})`)
  return {
    events,
    rounds: Math.round(positive('rounds', values.rounds, 3)),
    alertingExtraRules: values['alerting-extra-rules'] === '0' ? 0 : Math.round(positive('alerting-extra-rules', values['alerting-extra-rules'], EXTRA_RULES)),
    rate: positive('rate', values.rate, 1_000),
    durationSeconds: positive('duration', values.duration, 20),
    warmupSeconds: values.warmup === '0' ? 0 : positive('warmup', values.warmup, 3),
    partitions: Math.round(positive('partitions', values.partitions, 6)),
    ceilingRecords: Math.round(positive('ceiling-records', values['ceiling-records'], events)),
    phases: new Set(phases as Phase[]),
    gwConnections: Math.round(positive('gw-connections', values['gw-connections'], 10_000)),
    gwSubscribers: Math.round(positive('gw-subscribers', values['gw-subscribers'], 1_000)),
    gwRate: positive('gw-rate', values['gw-rate'], 50),
    gwDurationSeconds: positive('gw-duration', values['gw-duration'], 10),
    gwClientProcesses: positive('gw-client-procs', values['gw-client-procs'], 4),
    ingestRequests: Math.round(positive('ingest-requests', values['ingest-requests'], 100)),
    ingestSenders: Math.round(positive('ingest-senders', values['ingest-senders'], 4)),
    ingestRate: positive('ingest-rate', values['ingest-rate'], 1024),
    ingestDurationSeconds: positive('ingest-duration', values['ingest-duration'], 15),
    partitionerCalls: Math.round(positive('partitioner-calls', values['partitioner-calls'], 200_000)),
    cpuProf: values['cpu-prof'],
    maxBatchBytes: values['max-batch-bytes'] === undefined || values['max-batch-bytes'] === 'app' ? undefined : Math.round(positive('max-batch-bytes', values['max-batch-bytes'], 1)),
    json: values.json ?? join(repoRoot, 'test', 'artifacts', 'bench.json'),
    timeoutMs: positive('timeout', values.timeout, 600) * 1000,
    seed: Math.round(positive('seed', values.seed, 42)),
  }
}

const log = (line: string) => console.error(`[bench] ${line}`)
/** The 1-minute load average when the run ended (the machine is shared: figures depend on it). */
const loadAverage = () => { try { return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]) } catch { return Number.NaN } }

function cores(u: CoreUsage | undefined, key: keyof CoreUsage): string {
  const v = u?.[key]
  return v === undefined ? 'n/a' : fmt(v, 2)
}

function row(label: string, value: string, unit: string, note = ''): string {
  return `${label.padEnd(32)}${value.padStart(9)} ${unit.padEnd(10)}${note ? ` (${note})` : ''}`
}

/** One round: an enrichment run and a broker ceiling, back to back. */
interface Round {
  readonly round: number
  enrichment?: ThroughputRun
  aggregation?: AggregationRun
  archival?: ArchivalRun
  eventStore?: EventStoreRun
  alerting?: AlertingRun
  ceiling?: CeilingResult
}

const enrRate = (r: Round) => r.enrichment?.eventsPerSec ?? Number.NaN
const aggRate = (r: Round) => r.aggregation?.eventsPerSec ?? Number.NaN
const arcRate = (r: Round) => r.archival?.eventsPerSec ?? Number.NaN
const esRate = (r: Round) => r.eventStore?.eventsPerSec ?? Number.NaN
const alrRate = (r: Round) => r.alerting?.eventsPerSec ?? Number.NaN
const enrSteady = (r: Round) => r.enrichment?.steadyEventsPerSec ?? Number.NaN
const alrSteady = (r: Round) => r.alerting?.steadyEventsPerSec ?? Number.NaN
/** Alerting's rate until its input was evaluated (stage 1 stored every offset), without the repartition's tail after it. */
const alrInputRate = (r: Round) => (r.alerting ? r.alerting.timedEvents / (r.alerting.seconds - r.alerting.repartitionTailMs / 1000) : Number.NaN)
const prodRate = (r: Round) => r.ceiling?.producer.recordsPerSec ?? Number.NaN
const consRate = (r: Round) => r.ceiling?.consumer.fetchRecordsPerSec ?? Number.NaN
const finite = (xs: number[]) => xs.filter((x) => Number.isFinite(x))
const medianOf = (rounds: readonly Round[], f: (r: Round) => number) => median(finite(rounds.map(f)))

async function main(): Promise<void> {
  const opts = parseOptions()
  const began = nowMs()
  const ncores = availableParallelism()
  const version = kafkaVersion()
  const groups: string[] = []
  const trackGroup = (g: string) => void groups.push(g)
  const rounds: Round[] = []
  let pre: PreProduceResult | undefined
  let consumeOnly = Number.NaN
  let latency: LatencyResult | undefined
  let gateway: GatewayBenchResult | undefined
  let ingest: IngestBenchResult | undefined
  let profile: ProfileSummary | undefined
  let arcProfile: ProfileSummary | undefined
  let partitioner: PartitionerResult | undefined
  const phaseSeconds: Record<string, number> = {}
  const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const t = nowMs()
    try {
      return await f()
    } finally {
      phaseSeconds[name] = (phaseSeconds[name] ?? 0) + (nowMs() - t) / 1000
    }
  }

  const onSignal = () => {
    killRunningApps()
    process.exit(130)
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)

  let session: ThroughputSession | undefined
  let aggSession: AggregationSession | undefined
  let arcSession: ArchivalSession | undefined
  let arcAvroBytes = Number.NaN
  let esSession: EventStoreSession | undefined
  let alrSession: AlertingSession | undefined
  let alrRuleCount: number | null = null
  let alrEngine: AlertingEngineResult | undefined
  try {
    const doThroughput = opts.phases.has('throughput')
    const doAggregation = opts.phases.has('aggregation')
    const doCeiling = opts.phases.has('ceiling')
    const doArchival = opts.phases.has('archival')
    const doEventStore = opts.phases.has('event-store')
    const doAlerting = opts.phases.has('alerting')
    const nRounds = doThroughput || doAggregation || doArchival || doEventStore || doAlerting || doCeiling ? opts.rounds : 0
    if (doThroughput) {
      session = await timed('preProduce', () =>
        prepareEnrichmentThroughput({ events: opts.events, partitions: opts.partitions, seed: opts.seed, timeoutMs: opts.timeoutMs, maxBatchBytes: opts.maxBatchBytes, log, trackGroup }),
      )
      pre = session.preProduce
    }
    if (doAggregation) {
      aggSession = await timed('preProduceAggregation', () =>
        prepareAggregationThroughput({ events: opts.events, partitions: opts.partitions, seed: opts.seed, timeoutMs: opts.timeoutMs, log, trackGroup }),
      )
    }
    if (doArchival) {
      arcSession = await timed('preProduceArchival', () =>
        prepareArchivalThroughput({ events: opts.events, partitions: opts.partitions, seed: opts.seed, timeoutMs: opts.timeoutMs, log, trackGroup }),
      )
      arcAvroBytes = arcSession.meanValueBytes
    }
    if (doEventStore) {
      esSession = await timed('preProduceEventStore', () =>
        prepareEventStoreThroughput({ events: opts.events, partitions: opts.partitions, seed: opts.seed, timeoutMs: opts.timeoutMs, log, trackGroup }),
      )
    }
    if (doAlerting) {
      alrSession = await timed('preProduceAlerting', () =>
        prepareAlertingThroughput({ events: opts.events, partitions: opts.partitions, seed: opts.seed, timeoutMs: opts.timeoutMs, extraRules: opts.alertingExtraRules, log, trackGroup }),
      )
      alrRuleCount = alrSession.rules
      log('alerting rule engine alone: throughput and memory with 10,000 fingerprints (child process with --expose-gc)')
      alrEngine = await timed('alertingEngine', () => measureAlertingEngine(Math.min(opts.events, 50_000)))
    }
    // Same record size as our encoded input events (600 B when the throughput phase does not run).
    const recordSize = Math.round(pre?.meanValueBytes ?? 600)
    const cpuProfFile = opts.cpuProf ? join(repoRoot, 'test', 'artifacts', 'bench-enrichment.cpuprofile') : undefined
    for (let r = 1; r <= nRounds; r++) {
      const current: Round = { round: r }
      rounds.push(current)
      const enrichment = async () => {
        if (!session) return
        log(`round ${r}/${nRounds}: enrichment throughput, N=${opts.events}`)
        current.enrichment = await timed('throughput', () => session!.run(r))
      }
      const aggregation = async () => {
        if (!aggSession) return
        log(`round ${r}/${nRounds}: aggregation throughput, N=${aggSession.events}`)
        current.aggregation = await timed('aggregation', () => aggSession!.run(r))
      }
      const archival = async () => {
        if (!arcSession) return
        log(`round ${r}/${nRounds}: archival throughput, N=${arcSession.events}`)
        current.archival = await timed('archival', () => arcSession!.run(r))
      }
      const eventStore = async () => {
        if (!esSession) return
        log(`round ${r}/${nRounds}: event-store throughput, N=${esSession.events}`)
        current.eventStore = await timed('eventStore', () => esSession!.run(r))
      }
      const alerting = async () => {
        if (!alrSession) return
        log(`round ${r}/${nRounds}: alerting throughput, N=${alrSession.events}, ${alrSession.rules} rules`)
        current.alerting = await timed('alerting', () => alrSession!.run(r))
      }
      const ceiling = async () => {
        if (!doCeiling) return
        log(`round ${r}/${nRounds}: broker ceiling, ${opts.ceilingRecords} records of ${recordSize} B`)
        current.ceiling = await timed('ceiling', () => measureBrokerCeiling({ records: opts.ceilingRecords, recordSize, partitions: opts.partitions, timeoutMs: opts.timeoutMs, log, trackGroup }))
      }
      if (r % 2 === 1) {
        await enrichment()
        await alerting()
        await aggregation()
        await archival()
        await eventStore()
        await ceiling()
      } else {
        await ceiling()
        await eventStore()
        await archival()
        await aggregation()
        await alerting()
        await enrichment()
      }
    }
    if (session && cpuProfFile) {
      // An extra run, not part of the medians: the profiler slows the app down.
      log('profiled enrichment run (not counted)')
      const profiled = await timed('profile', () => session!.run(0, cpuProfFile))
      if (profiled.cpuProfile) profile = summarizeProfile(profiled.cpuProfile, repoRoot)
    }
    if (arcSession && opts.cpuProf) {
      log('profiled archival run (not counted)')
      const profiled = await timed('profile', () => arcSession!.run(0, join(repoRoot, 'test', 'artifacts', 'bench-archival.cpuprofile')))
      if (profiled.cpuProfile) arcProfile = summarizeProfile(profiled.cpuProfile, repoRoot)
    }
    if (session) {
      log('kafkajs consume-only pass over the same input (diagnostic)')
      consumeOnly = await timed('consumeOnly', () => session!.consumeOnly())
      await session.close()
      session = undefined
    }
    if (opts.phases.has('latency')) {
      log(`latency at ${opts.rate} events/s for ${opts.durationSeconds} s`)
      latency = await timed('latency', () =>
        measureLatency({ rate: opts.rate, durationSeconds: opts.durationSeconds, warmupSeconds: opts.warmupSeconds, partitions: opts.partitions, seed: opts.seed + 1, maxBatchBytes: opts.maxBatchBytes, log, trackGroup }),
      )
    }
    if (opts.phases.has('gateway')) {
      log(`gateway stream: ${opts.gwConnections} connections, then ${opts.gwSubscribers} subscribers at ${opts.gwRate} events/s`)
      gateway = await timed('gateway', () =>
        measureGateway({ connections: opts.gwConnections, subscribers: opts.gwSubscribers, rate: opts.gwRate, durationSeconds: opts.gwDurationSeconds, clientProcesses: opts.gwClientProcesses, partitions: opts.partitions, seed: opts.seed + 2, log, trackGroup }),
      )
    }
    if (opts.phases.has('ingest')) {
      log(`ingest: OTLP protobuf batches of 512 spans, ${opts.ingestRequests} requests, then ${opts.ingestRate} spans/s for ${opts.ingestDurationSeconds} s`)
      ingest = await timed('ingest', () =>
        measureIngest({ requests: opts.ingestRequests, concurrency: opts.ingestSenders, rate: opts.ingestRate, durationSeconds: opts.ingestDurationSeconds, spansPerRequest: 512, partitions: opts.partitions, seed: opts.seed + 3, log, trackGroup }),
      )
    }
    if (opts.phases.has('partitioner')) {
      partitioner = await timed('partitioner', async () => measurePartitioner({ calls: opts.partitionerCalls, rounds: opts.rounds, partitions: opts.partitions, log }))
    }
    if (aggSession) {
      await aggSession.close()
      aggSession = undefined
    }
    if (arcSession) {
      await arcSession.close()
      arcSession = undefined
    }
    if (esSession) {
      await esSession.close()
      esSession = undefined
    }
    if (alrSession) {
      await alrSession.close()
      alrSession = undefined
    }
  } finally {
    if (alrSession) await alrSession.close().catch(() => undefined)
    if (arcSession) await arcSession.close().catch(() => undefined)
    if (esSession) await esSession.close().catch(() => undefined)
    if (session) await session.close().catch(() => undefined)
    if (aggSession) await aggSession.close().catch(() => undefined)
    if (groups.length > 0) {
      log(`deleting ${groups.length} consumer groups`)
      await deleteGroups(groups).catch((err: unknown) => log(`could not delete every group: ${(err as Error).message.split('\n')[0]}`))
    }
  }
  const totalSeconds = (nowMs() - began) / 1000

  // ---- headline figures: medians over rounds; ratios are medians of per-round ratios ----
  const enr = medianOf(rounds, enrRate)
  const agg = medianOf(rounds, aggRate)
  const aggRuns = rounds.filter((r) => r.aggregation).sort((a, b) => aggRate(a) - aggRate(b))
  const midAgg = aggRuns[Math.floor((aggRuns.length - 1) / 2)]?.aggregation
  const arc = medianOf(rounds, arcRate)
  const arcRuns = rounds.filter((r) => r.archival).sort((a, b) => arcRate(a) - arcRate(b))
  const midArc = arcRuns[Math.floor((arcRuns.length - 1) / 2)]?.archival
  const ratioArc = medianOf(rounds, (r) => ratio(arcRate(r), enrRate(r)))
  const es = medianOf(rounds, esRate)
  const esRuns = rounds.filter((r) => r.eventStore).sort((a, b) => esRate(a) - esRate(b))
  const midEs = esRuns[Math.floor((esRuns.length - 1) / 2)]?.eventStore
  const ratioEs = medianOf(rounds, (r) => ratio(esRate(r), enrRate(r)))
  const alr = medianOf(rounds, alrRate)
  const alrRuns = rounds.filter((r) => r.alerting).sort((a, b) => alrRate(a) - alrRate(b))
  const midAlr = alrRuns[Math.floor((alrRuns.length - 1) / 2)]?.alerting
  const ratioAlr = medianOf(rounds, (r) => ratio(alrRate(r), enrRate(r)))
  // The alerting ratio over the steady 10-90 % rates (start-up and tail left out). None for archival: its positions move only
  // when a buffer is flushed (by age, 1 s, at this N), so its 10-90 % span can fall between two flushes and says nothing.
  const ratioAlrSteady = medianOf(rounds, (r) => ratio(alrSteady(r), enrSteady(r)))
  const prodCeil = medianOf(rounds, prodRate)
  const consCeil = medianOf(rounds, consRate)
  const ratioP = medianOf(rounds, (r) => ratio(enrRate(r), prodRate(r)))
  const ratioC = medianOf(rounds, (r) => ratio(enrRate(r), consRate(r)))
  const ratioMin = medianOf(rounds, (r) => ratio(enrRate(r), Math.min(prodRate(r), consRate(r))))
  const enrRuns = rounds.filter((r) => r.enrichment).sort((a, b) => enrRate(a) - enrRate(b))
  const mid = enrRuns[Math.floor((enrRuns.length - 1) / 2)]?.enrichment // the median run, for diagnostics
  const ceilRuns = rounds.filter((r) => r.ceiling).sort((a, b) => prodRate(a) - prodRate(b))
  const midCeil = ceilRuns[Math.floor((ceilRuns.length - 1) / 2)]?.ceiling
  const n = rounds.length
  const med = n > 1 ? `median of ${n} rounds; ` : ''

  const out: string[] = []
  out.push(`AUREN Realtime benchmark (${ncores} cores, Kafka ${version} KRaft, ${opts.partitions} partitions, RF 1; Node ${process.version}, ${cpus()[0]?.model.trim() ?? 'cpu'})`)
  out.push(`enrichment app: one instance, AUREN_MAX_BATCH_BYTES=${opts.maxBatchBytes ?? 'app default'}`)
  if (mid && pre) {
    out.push(row('enrichment throughput', fmt(enr), 'events/s', `${med}N=${opts.events}, ${fmt(pre.meanValueBytes)} B/record; steady 10-90%: ${fmt(mid.steadyEventsPerSec)}/s`))
  }
  if (midAgg) {
    out.push(row('aggregation throughput', fmt(agg), 'events/s', `${med}N=${midAgg.timedEvents} enriched into PostgreSQL, one instance; steady 10-90%: ${fmt(midAgg.steadyEventsPerSec)}/s`))
  }
  if (midArc) {
    // CPU of the app process, all its threads (the Parquet encoder worker included), over the timed window.
    const arcCpu = midArc.cpu.processCpuSeconds === undefined ? null : `; ${fmt((midArc.cpu.processCpuSeconds / midArc.timedEvents) * 1e6)} µs CPU/event, ${fmt(midArc.cpu.process ?? Number.NaN, 2)} cores`
    out.push(row('archival throughput', fmt(arc), 'events/s', `${med}N=${midArc.timedEvents} enriched → Parquet on s3proxy, one instance; ${midArc.objects} objects${arcCpu ?? ''}`))
    if (n > 1) out.push(row('  archival per round', rounds.map((r) => `${fmt(arcRate(r))}/${fmt(enrRate(r))}`).join(', '), '', 'archival / enrichment events/s, round by round'))
    if (mid) out.push(row('ratio archival / enrichment', fmt(ratioArc, 3), '', 'median of per-round ratios; above 1 = archival keeps up'))
    out.push(row('Parquet bytes per event', fmt(midArc.parquetBytesPerEvent, 1), 'B', `zstd, beside ${fmt(arcAvroBytes, 1)} B of Avro input per event (Schema Registry wire format)`))
  }
  if (midEs) {
    const esCpu = midEs.cpu.processCpuSeconds === undefined ? null : `; app ${fmt((midEs.cpu.processCpuSeconds / midEs.timedEvents) * 1e6)} µs CPU/event, ${fmt(midEs.cpu.process ?? Number.NaN, 2)} cores; machine ${fmt(midEs.cpu.machine ?? Number.NaN, 2)} cores`
    out.push(row('event-store throughput', fmt(es), 'events/s', `${med}N=${midEs.timedEvents} enriched → es_events in PostgreSQL, one instance${esCpu ?? ''}`))
    if (n > 1) out.push(row('  event store per round', rounds.map((r) => `${fmt(esRate(r))}/${fmt(enrRate(r))}`).join(', '), '', 'event store / enrichment events/s, round by round'))
    if (mid) out.push(row('ratio event store / enrichment', fmt(ratioEs, 3), '', 'median of per-round ratios; above 1 = the event store keeps up'))
  }
  if (midAlr) {
    out.push(row('alerting throughput', fmt(alr), 'events/s', `${med}N=${midAlr.timedEvents} enriched, shipped rules + ${opts.alertingExtraRules} extra (${alrRuleCount ?? 'n/a'} rules), one instance; ${midAlr.stateChanges} state changes; ${fmt(midAlr.appCpuUsPerEvent)} µs CPU/event; timed until the repartition merged every bucket: ${midAlr.repartitionRecords} repartition records (${fmt((midAlr.repartitionRecords / midAlr.timedEvents) * 1000, 1)} per 1,000 events), ${fmt(midAlr.repartitionTailMs)} ms after the input`))
    if (mid) out.push(row('ratio alerting / enrichment', fmt(ratioAlr, 3), '', 'median of per-round ratios; at or above 1 = alerting is not the bottleneck'))
    if (mid) out.push(row('  steady 10-90%', fmt(ratioAlrSteady, 3), '', `median of per-round ratios of the steady rates (alerting ${fmt(medianOf(rounds, alrSteady))}/s, enrichment ${fmt(medianOf(rounds, enrSteady))}/s): no start-up, no tail`))
    if (mid) out.push(row('  input evaluated', fmt(medianOf(rounds, (r) => ratio(alrInputRate(r), enrRate(r))), 3), '', `median of per-round ratios, alerting timed until its input was evaluated, without the repartition's tail after it (median ${fmt(medianOf(rounds, (r) => r.alerting?.repartitionTailMs ?? Number.NaN))} ms: the last batch's commit, the outbox's publish and the merge, at any N)`))
    if (n > 1) out.push(row('  alerting per round', rounds.map((r) => `${fmt(alrRate(r))}/${fmt(enrRate(r))}`).join(', '), '', 'alerting / enrichment events/s, round by round'))
  }
  if (alrEngine) {
    const m = alrEngine.memory
    out.push(row('alerting engine alone', fmt(alrEngine.events_per_s), 'events/s', `${alrEngine.rules} rules, ${alrEngine.events} events, one thread, no I/O, both stages (partial buckets, merge of their ${alrEngine.repartition_records} records); ${alrEngine.groups} groups, state ${fmt(alrEngine.snapshot_bytes / 1024)} KiB; single-stage engine over the same events ${fmt(alrEngine.single_stage_events_per_s)} events/s`))
    out.push(row('rule memory, 10,000 fingerprints', fmt(m.heap_mib_10k, 1), 'MiB heap', `one rule grouped by user, the merge's engine; state JSON ${fmt(m.state_json_bytes_10k / 2 ** 20, 1)} MiB; the first stage's 10,000 open buckets before they close: ${fmt(m.open_heap_mib_10k, 1)} MiB heap, ${fmt(m.open_json_bytes_10k / 2 ** 20, 1)} MiB JSON; after 60,000 users: ${m.after_60k_users_groups} groups kept (cap), ${m.evicted} evicted, engine heap ${fmt(m.engine_heap_mib_after_60k, 1)} MiB`))
  }
  if (midCeil) {
    out.push(row('broker producer ceiling', fmt(prodCeil), 'records/s', `${med}ProducerPerformance, acks=all, idempotent, ${midCeil.records} x ${midCeil.recordSize} B`))
    out.push(row('broker consumer ceiling', fmt(consCeil), 'records/s', `${med}ConsumerPerformance fetch rate (after group join)`))
  }
  if (mid && midCeil) {
    out.push(row('ratio enrichment / producer', fmt(ratioP, 3), ''))
    out.push(row('ratio enrichment / consumer', fmt(ratioC, 3), ''))
    out.push(row('ratio enrichment / min(p, c)', fmt(ratioMin, 3), ''))
  }
  if (latency) {
    const l = latency.endToEndMs
    out.push(
      `latency @ ${fmt(latency.offeredRate)} ev/s offered: p50 ${fmt(l.p50, 1)} ms  p95 ${fmt(l.p95, 1)} ms  p99 ${fmt(l.p99, 1)} ms  max ${fmt(l.max, 1)} ms` +
        ` (achieved ${fmt(latency.achievedRate)} ev/s over ${fmt(opts.durationSeconds)} s, ${latency.received}/${latency.sent} received${latency.missing > 0 ? `, ${latency.missing} MISSING` : ''})`,
    )
  }
  if (gateway) {
    const g = gateway
    const l = g.latencyMs
    out.push(row('gateway connections held', String(g.connectionsHeld), 'conns', `of ${g.connectionsAttempted} opened in ${fmt(g.connectSeconds, 1)} s, one instance; gauge ${fmt(g.gatewayGauge)}; gateway RSS ${fmt(g.gatewayRssMiBHeld)} MiB`))
    out.push(row('gateway delivered', fmt(g.deliveredPerSec), 'events/s', `${g.subscribers} subscribers of 'events' at ${fmt(g.offeredRate)} ev/s offered; ${fmt(g.framesPerSec)} frames/s; ${fmt(g.deliveredShare * 100, 2)}% of sent × subscribers`))
    out.push(`gateway delivery latency @ ${g.subscribers} subscribers (enriched_at → frame received, batching included): p50 ${fmt(l.p50, 1)} ms  p99 ${fmt(l.p99, 1)} ms  max ${fmt(l.max, 1)} ms`)
    for (const [tier, budget] of [['critical', 'at once'], ['operational', `batched, written ${TIER_BUDGETS.operational.flushAfterMs} ms after enrichment`], ['analytical', `batched, written ${TIER_BUDGETS.analytical.flushAfterMs} ms after enrichment`]] as const) {
      const t = g.latencyByTierMs[tier]
      const within = g.writtenWithinBudget[tier]
      if (t) out.push(`  ${tier.padEnd(11)} (${budget}): p50 ${fmt(t.p50, 1)} ms  p99 ${fmt(t.p99, 1)} ms  max ${fmt(t.max, 1)} ms  (${t.n} deliveries; gateway histogram: ${fmt((within ?? Number.NaN) * 100, 2)}% written within ${tier === 'critical' ? 50 : tier === 'operational' ? 100 : 500} ms of event time)`)
    }
  }
  if (ingest) {
    const i = ingest
    out.push(row('ingest throughput (OTLP)', fmt(i.spansPerSec), 'spans/s', `one gateway, ${i.throughputRequests} protobuf requests of ${i.spansPerRequest} spans (${fmt(i.requestBytes / 1024)} KiB), ${i.concurrency} senders; ${fmt(i.eventsWrittenPerSec)} events/s written, acks=all; ${i.retried} 429/503 retried`))
    out.push(
      `ingest request latency @ ${fmt(i.offeredSpansPerSec)} spans/s offered (${fmt(i.offeredSpansPerSec / i.spansPerRequest, 1)} requests/s of ${i.spansPerRequest}): p50 ${fmt(i.latencyMs.p50, 1)} ms  p99 ${fmt(i.latencyMs.p99, 1)} ms  max ${fmt(i.latencyMs.max, 1)} ms` +
        ` (send → answer after Kafka's ack; ${i.latencyMs.n} requests, achieved ${fmt(i.achievedSpansPerSec)} spans/s${i.latencyRetried > 0 ? `, ${i.latencyRetried} retried` : ''}${i.latencyFailures > 0 ? `, ${i.latencyFailures} FAILED` : ''}` +
        `${i.achievedSpansPerSec < 0.95 * i.offeredSpansPerSec ? '; OVERLOADED: the offered rate is above what the gateway kept up with, so requests queued' : ''})`,
    )
  }
  if (partitioner) {
    const pr = partitioner
    const prMed = pr.rounds.length > 1 ? `median of ${pr.rounds.length} rounds; ` : ''
    out.push(row('partitioner: kafkajs Default', fmt(pr.kafkajsPerSec), 'records/s', `${prMed}keyed by 32-hex trace ids, ${pr.partitions} partitions, ${pr.calls} calls`))
    out.push(row('partitioner: runtime murmur2', fmt(pr.murmur2PerSec), 'records/s', `${prMed}same keys; same partition for every key`))
    out.push(row('ratio murmur2 / kafkajs', fmt(pr.ratio, 2), '', 'median of per-round ratios; above 1 = the runtime\'s partitioner is faster'))
  }
  if (n > 1) {
    out.push('')
    out.push('round   enrichment/s  aggregation/s   producer/s   consumer/s   enr/prod   enr/cons   machine cores busy (enrichment)')
    for (const r of rounds) {
      out.push(
        `${String(r.round).padStart(5)}${fmt(enrRate(r)).padStart(15)}${fmt(aggRate(r)).padStart(15)}${fmt(prodRate(r)).padStart(13)}${fmt(consRate(r)).padStart(13)}` +
          `${fmt(ratio(enrRate(r), prodRate(r)), 3).padStart(11)}${fmt(ratio(enrRate(r), consRate(r)), 3).padStart(11)}${cores(r.enrichment?.cpu, 'machine').padStart(10)}`,
      )
    }
  }
  out.push('')
  out.push('diagnostics (the median enrichment run)')
  if (mid && pre) {
    const c = mid.cpu
    out.push(row('  enrichment app CPU', cores(c, 'process'), 'cores', `${fmt(mid.appCpuUsPerEvent)} µs CPU/event; broker ${cores(c, 'broker')} cores; machine ${cores(c, 'machine')} of ${ncores}`))
    const a = mid.app
    out.push(row('  app batches', fmt(a.meanBatchRecords), 'rec/batch', `${a.commits} commits, ${fmt(a.meanCommitMs, 1)} ms mean commit, GC ${fmt(a.gcSeconds, 2)} s total`))
    out.push(row('  app outputs', String(a.enriched), 'enriched', `${a.deadLettered} dead-lettered, ${a.skipped} skipped`))
    out.push(row('  app start-up', fmt(mid.startupMs), 'ms', 'spawn to /readyz, not timed'))
    out.push(row('  kafkajs produce (pre-load)', fmt(pre.events / pre.seconds), 'events/s', `batches of 2000, acks=all, idempotent; generate+encode ${fmt((pre.encodeSeconds / pre.events) * 1e6, 1)} µs/event; key ${fmt(pre.meanKeyBytes)} B`))
    out.push(row('  kafkajs consume-only', fmt(consumeOnly), 'records/s', 'same input, this process, no decode, after group join'))
  }
  if (midAgg) {
    const c = midAgg.cpu
    out.push(row('  aggregation app CPU', cores(c, 'process'), 'cores', `${fmt(midAgg.appCpuUsPerEvent)} µs CPU/event (the median aggregation run); machine ${cores(c, 'machine')} of ${ncores}`))
    out.push(row('  aggregation start-up', fmt(midAgg.startupMs), 'ms', 'spawn to /readyz incl. migrations, not timed'))
  }
  if (midCeil) {
    const p = midCeil.producer
    out.push(row('  ProducerPerformance', fmt(p.mbPerSec, 1), 'MB/s', `ack latency avg ${fmt(p.avgLatencyMs, 1)} ms, p99 ${fmt(p.p99Ms)} ms; broker ${cores(p.cpu, 'broker')} cores over the tool's run`))
    out.push(row('  ConsumerPerformance', fmt(midCeil.consumer.fetchMbPerSec, 1), 'MB/s', `${fmt(midCeil.consumer.recordsPerSec)} records/s with the group join (${fmt(midCeil.consumer.rebalanceMs)} ms)`))
  }
  if (latency) {
    const s = latency.toAppProduceMs
    const k = latency.produceAckMs
    out.push(row('  latency: send → app produce', fmt(s.p50, 1), 'ms p50', `p99 ${fmt(s.p99, 1)} ms; the enriched record's create time, ms resolution`))
    out.push(row('  latency: send → produce ack', fmt(k.p50, 1), 'ms p50', `p99 ${fmt(k.p99, 1)} ms; at most ${latency.maxInFlightSends} sends in flight`))
    out.push(row('  app batches at offered rate', fmt(latency.app.meanBatchRecords, 1), 'rec/batch', `${latency.app.commits} commits, ${fmt(latency.app.meanCommitMs, 1)} ms mean commit`))
    out.push(row('  app CPU at offered rate', cores(latency.cpu, 'process'), 'cores', `broker ${cores(latency.cpu, 'broker')}; machine ${cores(latency.cpu, 'machine')}; enriched record ${fmt(latency.meanEnrichedBytes)} B`))
  }
  if (ingest) {
    const cpuUsPerSpan = ((ingest.cpu.processCpuSeconds ?? Number.NaN) * 1e6) / (ingest.throughputRequests * ingest.spansPerRequest)
    out.push(row('  ingest gateway CPU', cores(ingest.cpu, 'process'), 'cores', `throughput run, ${fmt(cpuUsPerSpan)} µs CPU/span; broker ${cores(ingest.cpu, 'broker')}; machine ${cores(ingest.cpu, 'machine')}; request latency there p50 ${fmt(ingest.throughputLatencyMs.p50, 1)} ms, p99 ${fmt(ingest.throughputLatencyMs.p99, 1)} ms (closed loop)`))
  }
  if (gateway) {
    out.push(row('  gateway CPU at fan-out', cores(gateway.cpu, 'process'), 'cores', `machine ${cores(gateway.cpu, 'machine')} (clients in ${gateway.clientProcesses} processes); RSS ${fmt(gateway.gatewayRssMiB)} MiB; slow_client drops ${fmt(gateway.slowClientDrops)}`))
  }
  for (const [app, prof] of [['enrichment', profile], ['archival', arcProfile]] as const) {
    if (!prof) continue
    const profile: ProfileSummary = prof
    out.push('')
    out.push(`CPU profile of the ${app} app over an extra, profiled throughput run (${fmt(profile.windowSeconds, 1)} s, main thread idle ${fmt(profile.idlePct, 1)}%; % of busy samples)`)
    out.push('  by pipeline stage (innermost marking frame)')
    for (const r of profile.byStage) out.push(`  ${r.name.padEnd(40)}${fmt(r.selfPct, 1).padStart(6)}%`)
    out.push('  by component                              self   inclusive')
    for (const r of profile.byComponent) out.push(`  ${r.name.padEnd(40)}${fmt(r.selfPct, 1).padStart(6)}%${r.inclusivePct === undefined ? '' : `${fmt(r.inclusivePct, 1).padStart(9)}%`}`)
    out.push('  our code, by inclusive time')
    for (const r of profile.ownFunctions) out.push(`  ${r.name.slice(0, 70).padEnd(72)}${fmt(r.selfPct, 1).padStart(6)}%${fmt(r.inclusivePct ?? Number.NaN, 1).padStart(9)}%`)
    out.push('  top functions by self time')
    for (const r of profile.topSelf) out.push(`  ${r.name.slice(0, 80).padEnd(82)}${fmt(r.selfPct, 1).padStart(6)}%`)
    out.push(`  profile: ${relative(repoRoot, profile.file)} (open in Chrome DevTools or speedscope)`)
  }
  out.push('')
  out.push(`load average (1 min) at the end: ${fmt(loadAverage(), 2)} on ${ncores} cores`)
  out.push(`bench took ${fmt(totalSeconds)} s (${Object.entries(phaseSeconds).map(([k, v]) => `${k} ${fmt(v)} s`).join(', ')})`)
  console.log(out.join('\n'))

  const report = {
    generatedAt: new Date().toISOString(),
    machine: { cores: ncores, cpu: cpus()[0]?.model.trim(), node: process.version, kafka: version },
    settings: { ...opts, phases: [...opts.phases], replicationFactor: 1 },
    results: {
      enrichmentEventsPerSec: round(enr, 1),
      aggregationEventsPerSec: round(agg, 1),
      archivalEventsPerSec: midArc ? round(arc, 1) : null,
      archivalToEnrichmentRatio: midArc && mid ? round(ratioArc, 4) : null,
      eventStoreEventsPerSec: midEs ? round(es, 1) : null,
      eventStoreToEnrichmentRatio: midEs && mid ? round(ratioEs, 4) : null,
      eventStoreCpuUsPerEvent: midEs?.cpu.processCpuSeconds === undefined ? null : round((midEs.cpu.processCpuSeconds / midEs.timedEvents) * 1e6, 1),
      alertingEventsPerSec: midAlr ? round(alr, 1) : null,
      alertingToEnrichmentRatio: midAlr && mid ? round(ratioAlr, 4) : null,
      alertingToEnrichmentSteadyRatio: midAlr && mid && Number.isFinite(ratioAlrSteady) ? round(ratioAlrSteady, 4) : null,
      alertingToEnrichmentInputRatio: midAlr && mid ? round(medianOf(rounds, (r) => ratio(alrInputRate(r), enrRate(r))), 4) : null,
      alertingEngine: alrEngine ?? null,
      archivalParquetBytesPerEvent: midArc ? round(midArc.parquetBytesPerEvent, 1) : null,
      archivalCpuUsPerEvent: midArc?.cpu.processCpuSeconds === undefined ? null : round((midArc.cpu.processCpuSeconds / midArc.timedEvents) * 1e6, 1),
      archivalAvroBytesPerEvent: midArc ? round(arcAvroBytes, 1) : null,
      producerCeilingRecordsPerSec: round(prodCeil, 1),
      consumerCeilingRecordsPerSec: round(consCeil, 1),
      ratioToProducer: round(ratioP, 4),
      ratioToConsumer: round(ratioC, 4),
      ratioToMin: round(ratioMin, 4),
      meanInputRecordBytes: pre ? round(pre.meanValueBytes, 1) : null,
      latencyMs: latency ? { p50: round(latency.endToEndMs.p50, 2), p95: round(latency.endToEndMs.p95, 2), p99: round(latency.endToEndMs.p99, 2), max: round(latency.endToEndMs.max, 2) } : null,
      latencyAchievedRate: latency ? round(latency.achievedRate, 1) : null,
      gatewayConnectionsHeld: gateway?.connectionsHeld ?? null,
      gatewayDeliveredPerSec: gateway ? round(gateway.deliveredPerSec, 1) : null,
      gatewayLatencyMs: gateway ? { p50: round(gateway.latencyMs.p50, 2), p99: round(gateway.latencyMs.p99, 2) } : null,
      ingestSpansPerSec: ingest ? round(ingest.spansPerSec, 1) : null,
      ingestLatencyMs: ingest ? { offeredSpansPerSec: ingest.offeredSpansPerSec, p50: round(ingest.latencyMs.p50, 2), p99: round(ingest.latencyMs.p99, 2), max: round(ingest.latencyMs.max, 2) } : null,
      partitionerKafkajsPerSec: partitioner ? round(partitioner.kafkajsPerSec, 0) : null,
      partitionerMurmur2PerSec: partitioner ? round(partitioner.murmur2PerSec, 0) : null,
      partitionerRatio: partitioner ? round(partitioner.ratio, 2) : null,
    },
    partitioner: partitioner ?? null,
    preProduce: pre ?? null,
    rounds,
    kafkajsConsumeOnlyPerSec: round(consumeOnly, 1),
    latency: latency ?? null,
    gateway: gateway ?? null,
    ingest: ingest ?? null,
    profile: profile ?? null,
    archivalProfile: arcProfile ?? null,
    phaseSeconds,
    totalSeconds: round(totalSeconds, 1),
  }
  mkdirSync(dirname(opts.json), { recursive: true })
  writeFileSync(opts.json, `${JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' ? (Number.isFinite(v) ? Math.round(v * 1000) / 1000 : null) : v), 2)}\n`)
  log(`report written to ${relative(process.cwd(), opts.json) || opts.json}`)
  if ((latency && latency.missing > 0) || (ingest && ingest.latencyFailures > 0)) process.exitCode = 1
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    killRunningApps()
    console.error(`[bench] failed: ${(err as Error).stack ?? String(err)}`)
    process.exit(1)
  },
)
