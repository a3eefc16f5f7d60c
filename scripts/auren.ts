/**
 * `auren`: the operator CLI (`npm run auren -- <command>`).
 *   topics    create the contract topics and register the value schemas
 *   replay    convert recorded multi-agent runs into AgentEvents and produce them
 *   simulate  synthetic load from the six AUREN specialists
 *   demo      the main job: topics, enrichment, aggregation, REST API, replay, summary
 *   tail      print the gateway's live WebSocket stream (auren.v1), filtered
 *   chaos     processor, broker and database faults under load on the local stack; loss and double-count table
 *   query     DuckDB SQL over the Parquet archive (view `events`)
 *   archive   compact closed hours, sweep retention (--dry-run), list archived offset ranges
 * Addresses come from AUREN_KAFKA_BROKERS / AUREN_SCHEMA_REGISTRY_URL, else from the local
 * stack's stack.env (`npm run stack:up`).
 */
import { Command, InvalidArgumentError, Option } from 'commander'
import { createCliContext, ensureTopicsAndSchemas } from './lib/cli-context.ts'
import { runReplay } from './lib/replay-command.ts'
import { resolveSeed, runSimulate, seedNotice } from './lib/simulate-command.ts'
import { runTail } from './lib/tail-command.ts'
import { runChaos } from './lib/chaos/chaos-command.ts'
import { interruptedMessage } from './lib/resume-hint.ts'
import { PublishInterruptedError, type RetryPolicy } from './sources/publish-retry.ts'
import { archiveConfig, archiveRanges, compactArchive, formatTable, queryArchive, sweepArchive } from './lib/archive-command.ts'
import { runDemo } from './demo/run-demo.ts'
import { DEFAULT_PARTITIONS } from '../schemas/index.ts'
import type { AttributionRule } from './sources/chatdev-attribution.ts'

function positiveNumber(value: string): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a positive number, got '${value}'`)
  return n
}

function speed(value: string): 'max' | number {
  return value === 'max' ? 'max' : positiveNumber(value)
}

/** --attribution: which agent a ChatDev LLM call belongs to (scripts/sources/chatdev-attribution.ts). */
function attributionOption(): Option {
  return new Option('--attribution <rule>', 'ChatDev LLM call attribution: the speaker of the next utterance, or the k-th utterance of the block')
    .choices(['next-utterance', 'block-order'])
    .default('next-utterance')
}

function count(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a whole number ≥ 0, got '${value}'`)
  return n
}

/** Retrying through a broker outage: a line on stderr per failed attempt, give up after `seconds`. */
function retryPolicy(command: string, seconds: number): RetryPolicy {
  return {
    giveUpAfterMs: seconds * 1000,
    onRetry: ({ attempt, error, failingForMs, nextInMs }) =>
      process.stderr.write(`auren ${command}: broker unavailable (${error.message}); attempt ${attempt} failed after ${Math.round(failingForMs / 1000)} s of failures, retrying in ${Math.round(nextInMs / 1000)} s (gives up after ${seconds} s)\n`),
  }
}

/** The CLI's arguments after `auren` (for the resume command). */
const cliArgs = () => process.argv.slice(2)

const DEFAULT_TRACES = new URL('../../shared/data/agent-traces', import.meta.url).pathname

const program = new Command()
  .name('auren')
  .description('AUREN Realtime: stream processing for multi-agent AI observability')
  .option('--topic-prefix <prefix>', 'prefix before the contract topic names', process.env.AUREN_TOPIC_PREFIX ?? '')

program
  .command('topics')
  .description('create the contract topics (if missing) and register their value schemas (BACKWARD)')
  .option('--partitions <n>', 'partitions per topic', (v) => Math.round(positiveNumber(v)), DEFAULT_PARTITIONS)
  .action(async (opts: { partitions: number }) => {
    const ctx = await createCliContext(program.opts().topicPrefix)
    try {
      await ensureTopicsAndSchemas(ctx, opts.partitions)
      console.log(`topics ready: ${Object.values(ctx.topics).join(', ')}`)
    } finally {
      await ctx.close()
    }
  })

program
  .command('replay')
  .description('convert recorded runs (ChatDev logs, Who&When conversations) into AgentEvents and produce them')
  .option('--traces <dir>', 'folder of recorded runs', DEFAULT_TRACES)
  .addOption(new Option('--speed <factor|max>', "'max' or a time compression factor (2 = twice as fast as recorded)").argParser(speed).default('max'))
  .option('--rebase-time', 'shift each run to start now (gaps divided by --speed)', false)
  .option('--user-id <id>', 'user_id to stamp on every event')
  .addOption(attributionOption())
  .option('--no-progress', 'no progress bar')
  .option('--skip <n>', 'events already sent by an interrupted replay of the same runs (it prints the value)', count, 0)
  .option('--give-up-after <seconds>', 'how long to retry while the broker refuses events before stopping', positiveNumber, 300)
  .action(async (opts: { traces: string; speed: 'max' | number; rebaseTime: boolean; userId?: string; attribution: AttributionRule; progress: boolean; skip: number; giveUpAfter: number }) => {
    const ctx = await createCliContext(program.opts().topicPrefix)
    try {
      await ensureTopicsAndSchemas(ctx, DEFAULT_PARTITIONS)
      const report = await runReplay(ctx, { ...opts, retry: retryPolicy('replay', opts.giveUpAfter) })
      console.log(report.text)
    } catch (err) {
      if (!(err instanceof PublishInterruptedError)) throw err
      console.error(interruptedMessage('replay', err, null, cliArgs()))
      process.exitCode = 1
    } finally {
      await ctx.close()
    }
  })

program
  .command('simulate')
  .description('produce synthetic events from the six AUREN specialists at a given rate')
  .option('--rate <events/s>', 'events per second', positiveNumber, 50)
  .option('--duration <seconds>', 'how long to run', positiveNumber, 30)
  .option('--seed <n>', 'PRNG seed: the same seed gives the same events (and event ids, which downstream dedup drops as repeats); default: a new random seed per run', (v) => Math.round(Number(v)))
  .option('--no-progress', 'no progress bar')
  .option('--skip <n>', 'events already sent by an interrupted run with the same seed (it prints the value)', count, 0)
  .option('--give-up-after <seconds>', 'how long to retry while the broker refuses events before stopping', positiveNumber, 300)
  .action(async (opts: { rate: number; duration: number; seed?: number; progress: boolean; skip: number; giveUpAfter: number }) => {
    const seed = resolveSeed(opts.seed)
    console.error(seedNotice(seed))
    const ctx = await createCliContext(program.opts().topicPrefix)
    try {
      await ensureTopicsAndSchemas(ctx, DEFAULT_PARTITIONS)
      const sent = await runSimulate(ctx, { ...opts, seed: seed.seed, retry: retryPolicy('simulate', opts.giveUpAfter) })
      console.log(`simulated ${sent} events (seed ${seed.seed})${opts.skip > 0 ? ` after skipping the first ${opts.skip}, sent before` : ''}`)
    } catch (err) {
      if (!(err instanceof PublishInterruptedError)) throw err
      // The resume command repeats this run's seed, so --skip skips the same events.
      const args = seed.chosen ? cliArgs() : [...cliArgs(), '--seed', String(seed.seed)]
      console.error(interruptedMessage('simulate', err, Math.round(opts.rate * opts.duration), args))
      process.exitCode = 1
    } finally {
      await ctx.close()
    }
  })

program
  .command('demo')
  .description('run the pipeline on the recorded runs and print what it computed')
  .option('--traces <dir>', 'folder of recorded runs', DEFAULT_TRACES)
  .option('--json', 'print the summary as JSON', false)
  .option('--keep-running', 'leave enrichment, aggregation and the gateway (REST, /v1/stream, /live) up and print a ready `auren tail` command and /live URL with a token for the run; Ctrl-C stops and removes topics, schema and targets', false)
  .addOption(attributionOption())
  .action(async (opts: { traces: string; json: boolean; keepRunning: boolean; attribution: AttributionRule }) => {
    await runDemo({ ...opts, topicPrefix: program.opts().topicPrefix })
  })

function list(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter((s) => s.length > 0)
}

function confidence(value: string): number {
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError(`expected a number from 0 to 1, got '${value}'`)
  return n
}

function isoTime(value: string): string {
  if (Number.isNaN(Date.parse(value))) throw new InvalidArgumentError(`expected an ISO-8601 time, got '${value}'`)
  return value
}

program
  .command('tail')
  .description("print the gateway's live event stream (WebSocket auren.v1); Ctrl-C to stop")
  .option('--url <ws-url>', 'stream endpoint', process.env.AUREN_GATEWAY_WS_URL ?? 'ws://127.0.0.1:8080/v1/stream')
  .option('--token <jwt>', 'bearer token (default: AUREN_TOKEN)')
  .option('--channels <list>', 'comma-separated channels (events, llm_usage, collaboration, metrics, alerts…)', list, ['events'])
  .option('--agents <list>', 'only these agent ids (comma-separated)', list)
  .option('--event-types <list>', 'only these event types (comma-separated)', list)
  .option('--tiers <list>', 'only these tiers: critical, operational, analytical', list)
  .option('--min-confidence <0..1>', 'only events with at least this confidence score', confidence)
  .option('--since <iso>', 'replay from this time first (what the gateway still holds)', isoTime)
  .option('--json', 'one JSON line per event (else one compact line)', false)
  .action(async (opts: { url: string; token?: string; channels: string[]; agents?: string[]; eventTypes?: string[]; tiers?: string[]; minConfidence?: number; since?: string; json: boolean }) => {
    const token = opts.token ?? process.env.AUREN_TOKEN
    if (!token) {
      console.error('auren tail: no token: pass --token or set AUREN_TOKEN')
      process.exit(2)
    }
    const stop = new AbortController()
    const onSignal = () => stop.abort()
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    const status = await runTail({ ...opts, token }, undefined, stop.signal)
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    process.exitCode = status
  })

/** A duration: `90`, `90s`, `5m`, `1h` → ms. */
function durationMs(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim())
  if (!m) throw new InvalidArgumentError(`expected a duration like 300, 90s, 5m, got '${value}'`)
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h']
  const ms = Number(m[1]) * factor
  if (ms <= 0) throw new InvalidArgumentError(`expected a positive duration, got '${value}'`)
  return ms
}

program
  .command('chaos')
  .description('faults under load on the local stack (kills its broker and stops its database: use a stack nobody else uses); prints lost and double-counted events, exits 1 on any')
  .option('--duration <time>', 'how long to inject faults (90s, 5m…)', durationMs, 300_000)
  .addOption(new Option('--delivery <mode>', 'delivery mode of the processors').choices(['exactly-once', 'at-least-once']).default('exactly-once'))
  .option('--rate <events/s>', 'simulator events per second', positiveNumber, 250)
  .option('--kill-every <seconds>', 'seconds between SIGKILLs of a random processor instance', positiveNumber, 7)
  .option('--poison <n>', 'undecodable records spread over the run', count, 50)
  .option('--traces <dir>', "recorded runs replayed at the start ('' for none)", DEFAULT_TRACES)
  .option('--db-down <time>', 'how long PostgreSQL stays stopped', durationMs, 20_000)
  .option('--drain-timeout <time>', 'how long to wait for draining after the faults', durationMs, 300_000)
  .option('--seed <n>', 'seed of the simulator and of the choice of instance to kill', (v) => Math.round(Number(v)), 42)
  .option('--keep', 'keep the topics and the PostgreSQL schema afterwards', false)
  .action(async (opts: { duration: number; delivery: 'exactly-once' | 'at-least-once'; rate: number; killEvery: number; poison: number; traces: string; dbDown: number; drainTimeout: number; seed: number; keep: boolean }) => {
    const { result, table } = await runChaos({
      durationMs: opts.duration, delivery: opts.delivery, rate: opts.rate, killEverySec: opts.killEvery, poison: opts.poison, traces: opts.traces,
      databaseDownMs: opts.dbDown, drainTimeoutMs: opts.drainTimeout, seed: opts.seed, keep: opts.keep,
    })
    // Exit explicitly once the table is written: a Kafka client of a connection the broker
    // SIGKILL broke may keep a reconnect timer alive after every client was disconnected.
    process.stdout.write(`${table}\n`, () => process.exit(result.ok ? 0 : 1))
  })

program
  .command('query')
  .description('run DuckDB SQL over the Parquet archive in the bucket: view `events` (hive columns date DATE, hour INTEGER, tier), the live objects of the manifest')
  .argument('<sql>', 'e.g. "SELECT tier, count(*) FROM events GROUP BY tier"')
  .option('--schema <name>', 'PostgreSQL schema of the archive manifest (default AUREN_ARCHIVAL_DB_SCHEMA or public)')
  .option('--json', 'print the rows as JSON', false)
  .action(async (sql: string, opts: { schema?: string; json: boolean }) => {
    const r = await queryArchive(archiveConfig(opts.schema), sql)
    console.log(opts.json ? JSON.stringify(r.rows, null, 2) : `${formatTable(r.columns, r.rows)}\n(${r.rows.length} rows; archive of ${r.objects} objects)`)
  })

const archive = program.command('archive').description('maintenance of the Parquet archive')
archive
  .command('compact')
  .description('merge the objects of each closed hour partition into one (idempotent)')
  .option('--schema <name>', 'PostgreSQL schema of the archive manifest')
  .action(async (opts: { schema?: string }) => {
    const done = await compactArchive(archiveConfig(opts.schema))
    for (const m of done) console.log(`${m.committed ? 'compacted' : 'skipped (manifest changed)'} ${m.inputs.length} objects → ${m.key} (${m.rows} rows, ${m.bytes} bytes)`)
    console.log(`${done.filter((m) => m.committed).length} hour partitions compacted`)
  })
archive
  .command('sweep')
  .description('delete objects past their tier retention (AUREN_ARCHIVAL_RETENTION_*_MS), compaction inputs and orphans past the grace period')
  .option('--schema <name>', 'PostgreSQL schema of the archive manifest')
  .option('--dry-run', 'only list what would be deleted', false)
  .action(async (opts: { schema?: string; dryRun: boolean }) => {
    const swept = await sweepArchive(archiveConfig(opts.schema), opts.dryRun)
    for (const o of swept) console.log(`${opts.dryRun ? 'would delete' : 'deleted'} ${o.key} (${o.reason}, ${o.bytes} bytes)`)
    console.log(`${swept.length} objects ${opts.dryRun ? 'would be deleted' : 'deleted'}, ${swept.reduce((n, o) => n + o.bytes, 0)} bytes`)
  })
archive
  .command('ranges')
  .description('list the archived offset ranges per topic and partition')
  .option('--schema <name>', 'PostgreSQL schema of the archive manifest')
  .action(async (opts: { schema?: string }) => {
    const ranges = await archiveRanges(archiveConfig(opts.schema))
    console.log(formatTable(['topic', 'partition', 'firstOffset', 'nextOffset', 'rows'], ranges as unknown as Record<string, unknown>[]))
  })

program.parseAsync().catch((err: unknown) => {
  console.error(`auren: ${(err as Error).message}`)
  process.exit(1)
})
