/**
 * Archival throughput: N enriched events (simulator traffic through the real enrichment
 * transform, as for aggregation) are produced to the enriched topic once; then, per round, one
 * archival instance with a fresh consumer group, PostgreSQL schema and bucket reads them all and
 * is timed from /readyz until the positions its manifest stores (`archive_partitions`, written in
 * the flush transaction after the uploads) reach the log end offset of every partition. Flush by
 * age is set to 1 s so the tail of the backlog is not timed waiting for the 60 s default.
 * Also reported: bytes per event in Parquet (live objects' bytes / events archived) beside the
 * mean Avro wire size of the same enriched records.
 */
import { randomUUID } from 'node:crypto'
import { mkdirSync, rmSync } from 'node:fs'
import { dirname } from 'node:path'
import { CreateBucketCommand, DeleteBucketCommand } from '@aws-sdk/client-s3'
import { createTestKafka } from '../helpers/kafka.ts'
import { startApp } from '../helpers/processes.ts'
import { stackEnv, stackS3Env } from '../helpers/stack.ts'
import { createObjectStore, createS3Client } from '../../processors/archival/io/s3-store.ts'
import { PRELOAD, stopApp, stopCpuProfile, waitStoredPositions, type PhaseContext } from './app.ts'
import { dropSchema, preProduceSimulatedEnriched, schemaPool } from './aggregation-workload.ts'
import { startCpuMeter, type CoreUsage } from './cpu.ts'
import { nowMs } from './stats.ts'

export interface ArchivalThroughputOptions extends PhaseContext {
  readonly events: number
  readonly timeoutMs: number
}

/** One timed catch-up of one archival instance. */
export interface ArchivalRun {
  readonly timedEvents: number
  readonly seconds: number
  readonly eventsPerSec: number
  readonly objects: number
  readonly parquetBytes: number
  readonly parquetBytesPerEvent: number
  readonly startupMs: number
  readonly cpu: CoreUsage
  /** The .cpuprofile of the timed window, when the run was profiled. */
  readonly cpuProfile?: string
}

export interface ArchivalSession {
  readonly events: number
  /** Mean Avro wire size of the enriched input records, bytes. */
  readonly meanValueBytes: number
  /** @param cpuProfFile write a CPU profile of the timed window to this file */
  run(round: number, cpuProfFile?: string): Promise<ArchivalRun>
  close(): Promise<void>
}

/** Creates the topics and pre-produces the enriched input. */
export async function prepareArchivalThroughput(opts: ArchivalThroughputOptions): Promise<ArchivalSession> {
  const kafka = await createTestKafka(opts.partitions)
  const topic = kafka.topics.enrichedEvents
  let events: number
  let meanValueBytes: number
  try {
    opts.log(`pre-producing ${opts.events} enriched events to ${topic} (archival)`)
    const pre = await preProduceSimulatedEnriched(kafka, { n: opts.events, seed: opts.seed + 7, stepMs: 1 })
    events = pre.events
    meanValueBytes = pre.meanValueBytes
  } catch (err) {
    await kafka.close()
    throw err
  }
  const ends = await kafka.admin.endOffsets(topic)
  const total = [...ends.values()].reduce((n, o) => n + Number(o), 0)

  return {
    events,
    meanValueBytes,
    async run(round, cpuProfFile) {
      const id = randomUUID().replace(/-/g, '').slice(0, 10)
      const group = `${kafka.prefix}arc${round}.auren.`
      opts.trackGroup(`${group}archival`)
      const schema = `arc_bench_${id}`
      const s3 = { ...stackS3Env(), bucket: `auren-bench-${id}` }
      const client = createS3Client(s3)
      await client.send(new CreateBucketCommand({ Bucket: s3.bucket }))
      const pool = schemaPool(schema, 1)
      const profEnv: Record<string, string> = {}
      if (cpuProfFile) {
        mkdirSync(dirname(cpuProfFile), { recursive: true })
        rmSync(cpuProfFile, { force: true })
        profEnv.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import ${PRELOAD}`.trim()
        profEnv.AUREN_BENCH_CPU_PROF_FILE = cpuProfFile
      }
      const spawnedAt = nowMs()
      const app = await startApp('archival', kafka.prefix, {
        ...profEnv,
        AUREN_GROUP_ID_PREFIX: group, AUREN_DATABASE_URL: stackEnv().databaseUrl, AUREN_ARCHIVAL_DB_SCHEMA: schema,
        AUREN_S3_ENDPOINT: s3.endpoint, AUREN_S3_REGION: s3.region, AUREN_S3_BUCKET: s3.bucket, AUREN_S3_ACCESS_KEY_ID: s3.accessKeyId,
        AUREN_S3_SECRET_ACCESS_KEY: s3.secretAccessKey, AUREN_ARCHIVAL_MAINTENANCE_INTERVAL_MS: '0', AUREN_ARCHIVAL_FLUSH_MAX_AGE_MS: '1000',
        AUREN_ARCHIVAL_ALERTS: 'false',
      })
      const stored = async () => Number((await pool.query<{ n: string | null }>('SELECT sum(next_offset)::text AS n FROM archive_partitions WHERE topic = $1', [topic]).catch(() => ({ rows: [{ n: null }] }))).rows[0]?.n ?? 0)
      try {
        await app.waitReady(120_000)
        const startMs = nowMs()
        if (cpuProfFile) app.kill('SIGUSR2') // start profiling
        const meter = startCpuMeter(app.child.pid)
        const atReady = await stored()
        await waitStoredPositions(app, stored, { total, startMs, timeoutMs: opts.timeoutMs, pollMs: 100, what: { app: 'archival', done: 'archived' }, log: opts.log })
        const seconds = (nowMs() - startMs) / 1000
        const cpu = meter()
        const cpuProfile = cpuProfFile ? await stopCpuProfile(app, 'archival', cpuProfFile, opts.log) : undefined
        const o = (await pool.query<{ n: number; b: string; r: string }>("SELECT count(*)::int AS n, coalesce(sum(bytes),0)::text AS b, coalesce(sum(rows),0)::text AS r FROM archive_objects WHERE state = 'live'")).rows[0]!
        const timedEvents = events - atReady
        return {
          timedEvents, seconds, eventsPerSec: timedEvents / seconds, objects: o.n, parquetBytes: Number(o.b),
          parquetBytesPerEvent: Number(o.b) / Number(o.r), startupMs: startMs - spawnedAt, cpu, cpuProfile,
        }
      } finally {
        await stopApp(app)
        await pool.end().catch(() => undefined)
        await dropSchema(schema).catch(() => undefined)
        const store = createObjectStore(s3)
        const keys = (await store.list('').catch(() => [])).map((x) => x.key)
        if (keys.length > 0) await store.delete(keys).catch(() => undefined)
        await client.send(new DeleteBucketCommand({ Bucket: s3.bucket })).catch(() => undefined)
        store.close()
        client.destroy()
      }
    },
    close: () => kafka.close(),
  }
}
