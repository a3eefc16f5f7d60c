/**
 * `auren demo --keep-running` leads somewhere: it prints a ready `auren tail` command and the
 * /live URL with a token valid for the run, its gateway streams (/v1/stream answers the printed
 * token with `welcome`) and is a Prometheus target like the processors, and Ctrl-C (SIGINT)
 * removes the run's topics, PostgreSQL schema and Prometheus targets as the normal end does.
 * Runs on one recorded ChatDev run copied to a temporary folder (quick).
 */
import { spawn } from 'node:child_process'
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import WebSocket from 'ws'
import { afterAll, describe, expect, it } from 'vitest'
import { Kafka, logLevel } from 'kafkajs'
import { stackEnv } from '../../scripts/lib/stack-env.ts'
import { demoSchema } from '../../scripts/demo/run-demo.ts'
import { requireRecordedRuns } from '../helpers/required-data.ts'
import { waitUntil } from '../helpers/wait-until.ts'

const ROOT = join(import.meta.dirname, '..', '..')
const TRACES = join(ROOT, '..', 'shared', 'data', 'agent-traces')

requireRecordedRuns(TRACES)

describe('auren demo --keep-running', () => {
  const dir = mkdtempSync(join(tmpdir(), 'auren-demo-keep-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('prints a working tail command and /live URL, streams, is scraped, and Ctrl-C removes everything', async () => {
    const warehouse = join(TRACES, 'chatdev', 'WareHouse')
    const run = readdirSync(warehouse).sort()[0]!
    cpSync(join(warehouse, run), join(dir, 'chatdev', 'WareHouse', run), { recursive: true })
    const prefix = `demo-keep-${Date.now()}-`
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/auren.ts', '--topic-prefix', prefix, 'demo', '--keep-running', '--traces', dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    let stdout = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    await waitUntil('the /live URL printed', () => {
      if (child.exitCode !== null) throw new Error(`the demo exited (${child.exitCode})`)
      return /live page: +http:\/\/\S+\/live#token=\S+/.test(stderr)
    }, { timeoutMs: 240_000, everyMs: 250, stopOn: () => child.exitCode !== null }).catch((err: unknown) => {
      throw new Error(`no /live URL printed (${(err as Error).message}):\n${stderr.slice(-3000)}`)
    })
    expect(stdout).toContain('llm calls') // the summary went to stdout
    const tail = /live stream: +npm run auren -- tail --url (ws:\/\/\S+) --token (\S+) --channels events,metrics/.exec(stderr)
    expect(tail, stderr).not.toBeNull()
    const [, wsUrl, token] = tail!
    expect(stderr).toContain(`live page:    http://${new URL(wsUrl!).host}/live#token=${token}`)

    // the printed token opens the printed stream
    const ws = new WebSocket(wsUrl!, { headers: { authorization: `Bearer ${token}` } })
    const first = await new Promise<{ type: string }>((resolve, reject) => {
      ws.once('message', (d) => resolve(JSON.parse(d.toString()) as { type: string }))
      ws.once('error', reject)
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade answered ${res.statusCode}`)))
    })
    expect(first.type).toBe('welcome')
    ws.close()

    // the gateway is a Prometheus target like the processors
    const env = stackEnv()
    const targets = () => readdirSync(env.promTargetsDir).filter((f) => f.startsWith(prefix.replace(/[^A-Za-z0-9_.-]/g, '_')))
    const names = targets().map((f) => JSON.parse(readFileSync(join(env.promTargetsDir, f), 'utf8'))[0].labels.processor).sort()
    expect(names).toEqual(['aggregation', 'archival', 'enrichment', 'event-store', 'gateway'])

    child.kill('SIGINT')
    expect(await exited).toBe(0)
    expect(targets()).toEqual([])
    const kafka = new Kafka({ brokers: env.kafkaBrokers, logLevel: logLevel.NOTHING })
    const admin = kafka.admin()
    await admin.connect()
    try {
      expect((await admin.listTopics()).filter((t) => t.startsWith(prefix))).toEqual([])
    } finally {
      await admin.disconnect()
    }
    const client = new pg.Client({ connectionString: env.databaseUrl })
    await client.connect()
    try {
      const r = await client.query('SELECT count(*)::int AS n FROM information_schema.schemata WHERE schema_name = $1', [demoSchema(prefix)])
      expect(r.rows[0].n).toBe(0)
    } finally {
      await client.end()
    }
  })
})
