/**
 * The broker's own ceiling on this machine: Kafka's ProducerPerformance and ConsumerPerformance
 * (kafka-tools, from the stack's Kafka libs) on a fresh topic with the same partitions and
 * replication factor, records of the same size as our encoded events.
 */
import { spawn } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { createKafkaDriver } from '../../processors/runtime/kafka/kafka-client.ts'
import { createLogger } from '../../processors/runtime/ops/logger.ts'
import { stackDir, stackEnv } from '../../scripts/lib/stack-env.ts'
import { startCpuMeter, type CoreUsage } from './cpu.ts'

/** The Kafka libs folder: `AUREN_KAFKA_LIBS` from the environment or the stack's stack.env. */
export function kafkaLibsDir(): string {
  if (process.env.AUREN_KAFKA_LIBS) return process.env.AUREN_KAFKA_LIBS
  const file = join(stackDir(), 'stack.env')
  let text = ''
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    // reported below
  }
  const m = /^AUREN_KAFKA_LIBS=(.*)$/m.exec(text)
  if (!m?.[1]) throw new Error(`AUREN_KAFKA_LIBS is not set and ${file} does not define it: start the stack with \`npm run stack:up\``)
  return m[1].trim().replace(/^["']|["']$/g, '')
}

/** Kafka version from the kafka-tools jar name in the libs folder, e.g. `4.1.2`. */
export function kafkaVersion(): string {
  try {
    const jar = readdirSync(kafkaLibsDir()).find((f) => /^kafka-tools-\d[\w.-]*\.jar$/.test(f))
    return jar?.replace(/^kafka-tools-/, '').replace(/\.jar$/, '') ?? 'unknown'
  } catch {
    return 'unknown'
  }
}

/** Runs a Kafka tool class (`java -cp libs/* <class> ...args`); resolves with stdout, rejects on failure or timeout. */
export function runKafkaTool(className: string, args: readonly string[], timeoutMs: number): Promise<{ stdout: string; pid: number | undefined }> {
  return new Promise((resolve, reject) => {
    const child = spawn('java', ['-Xmx512m', '-cp', `${kafkaLibsDir()}/*`, className, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.once('error', (err) => {
      clearTimeout(timer)
      reject(new Error(`cannot run java ${className}: ${err.message}`))
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      if (code === 0) resolve({ stdout, pid: child.pid })
      else reject(new Error(`${className} exited with ${code ?? signal}${signal === 'SIGKILL' ? ` (timeout ${timeoutMs} ms)` : ''}:\n${(stderr || stdout).slice(-3000)}`))
    })
  })
}

export interface ProducerCeiling {
  readonly recordsPerSec: number
  readonly mbPerSec: number
  readonly avgLatencyMs: number
  readonly maxLatencyMs: number
  readonly p50Ms: number
  readonly p99Ms: number
  /** Broker cores and machine cores over the tool's whole run (JVM start included). */
  readonly cpu: CoreUsage
  readonly raw: string
}

export interface ConsumerCeiling {
  /** Rate over fetching only (after the group join), records/s: the comparable figure. */
  readonly fetchRecordsPerSec: number
  readonly fetchMbPerSec: number
  /** Rate including the group join (rebalance.time.ms), records/s. */
  readonly recordsPerSec: number
  readonly rebalanceMs: number
  readonly cpu: CoreUsage
  readonly raw: string
}

export interface CeilingResult {
  readonly topic: string
  readonly records: number
  readonly recordSize: number
  readonly producer: ProducerCeiling
  readonly consumer: ConsumerCeiling
}

/** Parses ProducerPerformance's summary line. */
export function parseProducerPerformance(out: string): Omit<ProducerCeiling, 'cpu' | 'raw'> {
  const re = /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th/g
  const all = [...out.matchAll(re)]
  const m = all.at(-1)
  if (!m) throw new Error(`cannot parse ProducerPerformance output:\n${out.slice(-2000)}`)
  return { recordsPerSec: Number(m[2]), mbPerSec: Number(m[3]), avgLatencyMs: Number(m[4]), maxLatencyMs: Number(m[5]), p50Ms: Number(m[6]), p99Ms: Number(m[8]) }
}

/** Parses ConsumerPerformance's header and data line (columns by name). */
export function parseConsumerPerformance(out: string): Omit<ConsumerCeiling, 'cpu' | 'raw'> {
  const lines = out.split('\n').map((l) => l.trim())
  const h = lines.findIndex((l) => l.startsWith('start.time'))
  const data = h >= 0 ? lines.slice(h + 1).find((l) => l !== '') : undefined
  if (h < 0 || !data) throw new Error(`cannot parse ConsumerPerformance output:\n${out.slice(-2000)}`)
  const names = lines[h]!.split(',').map((s) => s.trim())
  const values = data.split(',').map((s) => s.trim())
  const col = (name: string) => {
    const i = names.indexOf(name)
    if (i < 0) throw new Error(`ConsumerPerformance output has no column ${name}: ${lines[h]}`)
    return Number(values[i])
  }
  return { fetchRecordsPerSec: col('fetch.nMsg.sec'), fetchMbPerSec: col('fetch.MB.sec'), recordsPerSec: col('nMsg.sec'), rebalanceMs: col('rebalance.time.ms') }
}

/**
 * Runs ProducerPerformance then ConsumerPerformance on a fresh topic (deleted afterwards).
 * @param recordSize bytes per record (our mean encoded event)
 */
export async function measureBrokerCeiling(opts: {
  records: number
  recordSize: number
  partitions: number
  timeoutMs: number
  log: (line: string) => void
  /** Told every consumer group the run creates (to delete at the end). */
  trackGroup: (groupId: string) => void
}): Promise<CeilingResult> {
  const env = stackEnv()
  const bootstrap = env.kafkaBrokers.join(',')
  const driver = createKafkaDriver({ brokers: env.kafkaBrokers, clientId: 'auren-bench', log: createLogger('bench', 'error') })
  const admin = await driver.admin()
  const topic = `bench-${randomUUID().slice(0, 8)}-ceiling`
  const group = `bench-perf-${randomUUID()}`
  opts.trackGroup(group)
  try {
    await admin.ensureTopics([{ topic, partitions: opts.partitions }])
    opts.log(`ProducerPerformance: ${opts.records} records of ${opts.recordSize} B to ${topic}`)
    let meter = startCpuMeter()
    const prod = await runKafkaTool(
      'org.apache.kafka.tools.ProducerPerformance',
      ['--topic', topic, '--num-records', String(opts.records), '--record-size', String(opts.recordSize), '--throughput', '-1', '--producer-props', `bootstrap.servers=${bootstrap}`, 'acks=all', 'enable.idempotence=true'],
      opts.timeoutMs,
    )
    const producer = { ...parseProducerPerformance(prod.stdout), cpu: meter(), raw: prod.stdout.trim().split('\n').at(-1) ?? '' }

    opts.log(`ConsumerPerformance: ${opts.records} records from ${topic}`)
    meter = startCpuMeter()
    const cons = await runKafkaTool(
      'org.apache.kafka.tools.ConsumerPerformance',
      ['--bootstrap-server', bootstrap, '--topic', topic, '--messages', String(opts.records), '--group', group, '--timeout', '30000'],
      opts.timeoutMs,
    )
    const consumer = { ...parseConsumerPerformance(cons.stdout), cpu: meter(), raw: cons.stdout.trim().split('\n').slice(-2).join('\n') }
    return { topic, records: opts.records, recordSize: opts.recordSize, producer, consumer }
  } finally {
    await admin.deleteTopics([topic]).catch(() => undefined)
    await admin.disconnect()
  }
}

/** Deletes (empty) consumer groups with Kafka's ConsumerGroupCommand; best effort. */
export async function deleteGroups(groups: readonly string[], timeoutMs = 60_000): Promise<void> {
  if (groups.length === 0) return
  const bootstrap = stackEnv().kafkaBrokers.join(',')
  await runKafkaTool('org.apache.kafka.tools.consumer.group.ConsumerGroupCommand', ['--bootstrap-server', bootstrap, '--delete', ...groups.flatMap((g) => ['--group', g])], timeoutMs)
}
