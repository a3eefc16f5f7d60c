/**
 * A real CrewAI crew (crewai 1.15.30 from PyPI in the cached venv of scripts/crewai/venv.sh; two
 * agents, a tool and a task each: scripts/crewai/crew.py) against the real pipeline: gateway ingest,
 * Kafka, enrichment, aggregation into PostgreSQL. The LLM is a local OpenAI-compatible stand-in
 * (scripts/crewai/fake-llm.ts) that reports known token usage per call. The crew runs twice at
 * once, with the two ways in:
 * - OpenTelemetry: `openinference-instrumentation-crewai` and `-openai` export OTLP/HTTP protobuf to
 *   `POST /v1/traces`;
 * - the CrewAI event bus: a `crewai.events` listener posts AgentEvents to `POST /v1/events`.
 * For each way in, the enriched events' per-agent answered LLM calls and tokens equal what the fake
 * LLM reported to that crew, each agent's tool usage and executions and the handoff from the
 * first agent to the second appear, and nothing is dead-lettered; aggregation's per-agent rollups equal the sum of both crews' reports.
 */
import { execFile } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RT } from '../../schemas/rollup-tables.ts'
import { fromEnrichedRecord, type AgentEvent, type EnrichedAgentEventRecord } from '../../schemas/index.ts'
import { startFakeLlm, type FakeLlm, type ReportedUsage } from '../../scripts/crewai/fake-llm.ts'
import { readTopicToEnd, waitForGroupCaughtUp } from '../../scripts/lib/read-topic.ts'
import { createTestDb, type TestDb } from '../helpers/aggregation-db.ts'
import { createTestKafka, type TestKafka } from '../helpers/kafka.ts'
import { startApp, type AppProcess } from '../helpers/processes.ts'
import { stackEnv } from '../helpers/stack.ts'
import { startStreamGateway } from '../helpers/stream-gateway.ts'

const run = promisify(execFile)
const ROOT = join(import.meta.dirname, '..', '..')
const SECRET = randomBytes(32).toString('base64')
const KEY = randomBytes(24).toString('base64url')
const AGENTS = { 'Price Researcher': 'price_lookup', 'Stock Writer': 'stock_check' } as const
/** LLM API keys of the two crews: the fake LLM tallies what it reported per key. */
const LLM_KEY = { otlp: `sk-otlp-${randomUUID()}`, events: `sk-events-${randomUUID()}` } as const
/** The `source` each way in gives its events. */
const SOURCE = { otlp: 'otlp', events: 'crewai' } as const

interface Tally { calls: number; inputTokens: number; outputTokens: number; failedCalls: number; tools: string[]; started: number; succeeded: number }

/** Per agent: answered LLM calls and tokens, tools, executions, from events of one source. */
function tally(events: readonly AgentEvent[]): Map<string, Tally> {
  const out = new Map<string, Tally>()
  for (const e of events) {
    const id = e.source_agent?.id ?? '(none)'
    const t = out.get(id) ?? { calls: 0, inputTokens: 0, outputTokens: 0, failedCalls: 0, tools: [], started: 0, succeeded: 0 }
    out.set(id, t)
    if (e.event_type === 'llm_call_completed') {
      if (e.payload.success) {
        t.calls += 1
        t.inputTokens += e.payload.input_tokens
        t.outputTokens += e.payload.output_tokens
      } else t.failedCalls += 1
    } else if (e.event_type === 'tool_usage_completed' && e.payload.success) t.tools.push(e.payload.tool_name)
    else if (e.event_type === 'agent_execution_started') t.started += 1
    else if (e.event_type === 'agent_execution_completed' && e.payload.success) t.succeeded += 1
  }
  return out
}

const reported = (u: ReadonlyMap<string, ReportedUsage>) => Object.fromEntries([...u].map(([role, r]) => [role, { calls: r.calls, inputTokens: r.inputTokens, outputTokens: r.outputTokens }]))

describe('a real CrewAI crew through the pipeline (OpenInference OTLP and the crewai.events listener)', () => {
  let python: string
  let kafka: TestKafka
  let db: TestDb
  let llm: FakeLlm
  const procs: AppProcess[] = []
  let gatewayUrl: string
  const enriched: AgentEvent[] = []
  const crewOutput: Record<string, string> = {}

  beforeAll(async () => {
    // The venv is created once by the project's script (scripts/test.sh runs it before vitest);
    // here it is quick when present, and creates it when a single file is run on a fresh machine.
    // (Asynchronously: a blocked worker would miss vitest's RPC deadlines during a long install.)
    const venv = (await run('bash', [join(ROOT, 'scripts', 'crewai', 'venv.sh')], { encoding: 'utf8', timeout: 25 * 60_000 })).stdout.trim()
    python = join(venv, 'bin', 'python')
    kafka = await createTestKafka()
    db = await createTestDb()
    llm = await startFakeLlm()
    const [enrichment, aggregation, gateway] = await Promise.all([
      startApp('enrichment', kafka.prefix),
      startApp('aggregation', kafka.prefix, { AUREN_DATABASE_URL: stackEnv().databaseUrl, AUREN_AGGREGATION_DB_SCHEMA: db.schema }),
      startStreamGateway(kafka.prefix, SECRET, { AUREN_GATEWAY_DB_SCHEMA: db.schema, AUREN_GATEWAY_INGEST_API_KEYS: KEY }, 90_000),
    ])
    procs.push(enrichment, aggregation, gateway)
    await Promise.all([enrichment.waitReady(90_000), aggregation.waitReady(90_000)])
    gatewayUrl = `http://${gateway.address}`
  }, 30 * 60_000)

  afterAll(async () => {
    for (const p of procs) p.kill('SIGTERM')
    await Promise.all(procs.map((p) => p.exited))
    await llm?.close()
    await kafka?.close()
    await db?.drop()
  })

  it('runs the crew twice at once, exporting OTLP spans and posting crewai.events, and every event reaches enrichment', async () => {
    const crew = (mode: 'otlp' | 'events') => run(python, [join(ROOT, 'scripts', 'crewai', 'crew.py'), '--mode', mode, '--ingest', gatewayUrl, '--api-key', KEY, '--llm-base-url', llm.baseUrl, '--llm-api-key', LLM_KEY[mode]], {
      cwd: ROOT, timeout: 360_000, env: { ...process.env, PYTHONUNBUFFERED: '1' },
    }).then((r) => { crewOutput[mode] = r.stdout; return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { events_posted: number | null } },
      (err: Error & { stderr?: string; killed?: boolean }) => { throw new Error(`the ${mode} crew failed${err.killed ? ' (killed at the 360 s timeout)' : ''}: ${err.message.split('\n')[0]}\n${(err.stderr ?? '').slice(-3000)}`) })
    const [otlp, events] = await Promise.all([crew('otlp'), crew('events')])
    expect(otlp.events_posted).toBeNull()
    expect(events.events_posted).toBeGreaterThanOrEqual(10)

    // Both crews' answers are in (the listener's post and the exporter's shutdown flush are
    // acknowledged by Kafka before the crews exit); enrichment has read them all.
    await waitForGroupCaughtUp(kafka.admin, `${kafka.prefix}auren.enrichment`, kafka.topics.agentEvents, 60_000)
    expect(await readTopicToEnd(kafka.driver, kafka.admin, kafka.topics.deadLetter)).toHaveLength(0)
    for (const r of await readTopicToEnd(kafka.driver, kafka.admin, kafka.topics.enrichedEvents)) {
      enriched.push(fromEnrichedRecord((await kafka.serde.decode(r.value, 'enriched-agent-event')) as EnrichedAgentEventRecord).event)
    }
    expect(new Set(enriched.map((e) => e.source))).toEqual(new Set(Object.values(SOURCE)))
  }, 450_000)

  for (const mode of ['otlp', 'events'] as const) {
    it(`${mode}: per agent, answered LLM calls and tokens equal what the fake LLM reported; tools, executions and the handoff appear`, () => {
      const mine = enriched.filter((e) => e.source === SOURCE[mode])
      const want = reported(llm.usage(LLM_KEY[mode]))
      expect(Object.keys(want).sort(), 'the fake LLM saw both agents of this crew').toEqual(Object.keys(AGENTS).sort())
      const got = tally(mine)
      expect([...got.keys()].sort()).toEqual(Object.keys(AGENTS).sort())
      for (const [agent, tool] of Object.entries(AGENTS)) {
        const t = got.get(agent)!
        expect({ calls: t.calls, inputTokens: t.inputTokens, outputTokens: t.outputTokens }, agent).toEqual(want[agent])
        expect(t.failedCalls).toBe(0)
        expect(t.tools, agent).toEqual([tool])
        expect({ started: t.started, succeeded: t.succeeded }, agent).toEqual({ started: 1, succeeded: 1 })
      }
      // The sequential crew hands over from the first agent to the second, once.
      expect(mine.filter((e) => e.event_type === 'agent_handoff').map((e) => e.event_type === 'agent_handoff' && [e.payload.from_agent, e.payload.to_agent, e.target_agent?.id])).toEqual([['Price Researcher', 'Stock Writer', 'Stock Writer']])
      // LLM calls and tool usages hang under their agent's execution.
      const execIds = new Set(mine.filter((e) => e.event_type.startsWith('agent_execution')).map((e) => e.event_id))
      for (const e of mine.filter((x) => x.event_type === 'llm_call_completed' || x.event_type === 'tool_usage_completed')) {
        expect(execIds.has(e.parent_event_id ?? ''), `${e.event_type} ${e.event_id} parent`).toBe(true)
      }
    })
  }

  it('aggregation: per-agent rollups in PostgreSQL equal both crews\' reports added up', async () => {
    await waitForGroupCaughtUp(kafka.admin, `${kafka.prefix}auren.aggregation`, kafka.topics.enrichedEvents, 60_000)
    const pool = db.pool(1)
    const { rows } = await pool.query<{ agent_id: string; calls: string; input_tokens: string; output_tokens: string; tool_calls: string; started: string; succeeded: string }>(
      'SELECT agent_id, sum(llm_calls_succeeded)::text AS calls, sum(input_tokens)::text AS input_tokens, sum(output_tokens)::text AS output_tokens, ' +
      `sum(tool_calls)::text AS tool_calls, sum(executions_started)::text AS started, sum(executions_succeeded)::text AS succeeded FROM ${RT.agent} GROUP BY agent_id ORDER BY agent_id`)
    const sum = (agent: string, f: keyof ReportedUsage) => (['otlp', 'events'] as const).reduce((n, m) => n + (llm.usage(LLM_KEY[m]).get(agent)?.[f] ?? 0), 0)
    expect(rows.map((r) => ({ ...r }))).toEqual(Object.keys(AGENTS).sort().map((agent) => ({
      agent_id: agent, calls: String(sum(agent, 'calls')), input_tokens: String(sum(agent, 'inputTokens')), output_tokens: String(sum(agent, 'outputTokens')),
      tool_calls: '2', started: '2', succeeded: '2',
    })))
  })
})
