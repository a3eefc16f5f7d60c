/**
 * `auren demo`, the main job: topics and schemas ready, the enrichment app running as its own
 * process (scraped by the local Prometheus), the recorded runs replayed, then a summary read
 * back from the enriched and dead-letter topics. Each demo uses its own topic prefix, so runs
 * never mix; its topics are deleted at the end unless --keep-running.
 */
import { createCliContext, ensureTopicsAndSchemas } from '../lib/cli-context.ts'
import { runReplay } from '../lib/replay-command.ts'
import { readTopicToEnd, waitForGroupCaughtUp } from '../lib/read-topic.ts'
import { startApp } from '../lib/app-process.ts'
import { registerPromTarget } from '../lib/stack-env.ts'
import { DEFAULT_PARTITIONS, DLQ_HEADERS, fromEnrichedRecord, type EnrichedAgentEvent, type EnrichedAgentEventRecord } from '../../schemas/index.ts'
import { renderSummary, summarize } from './summary.ts'
import type { AttributionRule } from '../../processors/sources/chatdev-attribution.ts'

/** Options of `auren demo`. */
export interface DemoOptions {
  traces: string
  json: boolean
  keepRunning: boolean
  /** ChatDev call attribution rule (default next-utterance). */
  attribution?: AttributionRule
  /** '' means: a fresh `demo-<time>-` prefix. */
  topicPrefix: string
}

const say = (json: boolean, text: string) => {
  if (!json) console.error(`[demo] ${text}`)
}

/** Runs the demo; resolves when done (or, with keepRunning, after Ctrl-C). */
export async function runDemo(opts: DemoOptions): Promise<void> {
  const prefix = opts.topicPrefix || `demo-${new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)}-`
  const ctx = await createCliContext(prefix)
  const enrichmentGroup = `${prefix}auren.enrichment`
  say(opts.json, `topics with prefix '${prefix}', schemas registered at ${ctx.env.schemaRegistryUrl}`)
  await ensureTopicsAndSchemas(ctx, DEFAULT_PARTITIONS)

  const app = await startApp('enrichment', prefix, { AUREN_GROUP_ID_PREFIX: `${prefix}auren.` })
  const removeTarget = registerPromTarget(`${prefix}enrichment`.replace(/[^A-Za-z0-9_.-]/g, '_'), app.address, { processor: 'enrichment', demo: prefix })
  let finished = false
  const cleanup = async () => {
    if (finished) return
    finished = true
    app.kill('SIGTERM')
    await app.exited
    removeTarget()
    if (!opts.keepRunning) await ctx.admin.deleteTopics(Object.values(ctx.topics)).catch(() => undefined)
    await ctx.close()
  }
  try {
    await app.waitReady(90_000)
    say(opts.json, `enrichment ready, metrics at http://${app.address}/metrics`)

    const replay = await runReplay(ctx, { traces: opts.traces, speed: 'max', rebaseTime: false, attribution: opts.attribution, progress: !opts.json })
    say(opts.json, replay.text)

    await waitForGroupCaughtUp(ctx.admin, enrichmentGroup, ctx.topics.agentEvents)
    const inputEnds = await ctx.admin.endOffsets(ctx.topics.agentEvents)
    const eventsIn = [...inputEnds.values()].reduce((n, o) => n + Number(o), 0)
    const enrichedRecords = await readTopicToEnd(ctx.driver, ctx.admin, ctx.topics.enrichedEvents)
    const enriched: EnrichedAgentEvent[] = []
    for (const r of enrichedRecords) enriched.push(fromEnrichedRecord((await ctx.serde.decode(r.value, 'enriched-agent-event')) as EnrichedAgentEventRecord))
    const dlq = await readTopicToEnd(ctx.driver, ctx.admin, ctx.topics.deadLetter)
    const summary = summarize(eventsIn, enriched, dlq.map((r) => r.headers[DLQ_HEADERS.reason] ?? 'UNKNOWN'))

    const links = [
      `enrichment metrics:   http://${app.address}/metrics`,
      `Prometheus:           ${ctx.env.prometheusUrl}/graph?g0.expr=${encodeURIComponent('sum by (topic) (auren_records_produced_total)')}`,
      `schema registry:      ${ctx.env.schemaRegistryUrl}/subjects`,
      `topics:               ${Object.values(ctx.topics).join(', ')}`,
    ]
    if (opts.json) {
      console.log(JSON.stringify({ topic_prefix: prefix, replay: { runs: replay.runs, events: replay.events, skipped_files: replay.skippedFiles, skipped_input: replay.skippedInput }, ...summary }, null, 2))
    } else {
      console.log(renderSummary(summary, links))
    }

    if (opts.keepRunning) {
      say(opts.json, 'enrichment keeps running; Ctrl-C to stop')
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve)
        process.once('SIGTERM', resolve)
      })
    }
  } finally {
    await cleanup()
  }
}
