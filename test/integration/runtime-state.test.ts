/**
 * Per-partition state on the real broker and PostgreSQL (test/fixtures/apps/state-probe): the
 * state each partition holds (events applied, their input tokens) equals what its records say
 * after a SIGKILL mid-stream and a restart, after partitions move to a second instance, and after
 * the first instance leaves; each input counted once.
 */
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { createTestKafka, type TestKafka } from '../helpers/kafka.ts'
import { startAppScript, type AppProcess } from '../helpers/processes.ts'
import { stackEnv } from '../helpers/stack.ts'
import { waitUntil } from '../helpers/wait-until.ts'
import { llmCallEvents } from '../helpers/events.ts'
import { dropSchema, schemaForPrefix } from '../bench/aggregation-workload.ts'
import { readTopicToEnd } from '../../scripts/lib/read-topic.ts'
import { fromAgentEventRecord, type AgentEvent, type AgentEventRecord } from '../../schemas/index.ts'

type State = { count: number; inputTokens: number }

describe('runtime per-partition state', () => {
  let kafka: TestKafka | undefined
  let schema: string | undefined
  let pool: pg.Pool | undefined
  const apps: AppProcess[] = []
  afterEach(async () => {
    for (const a of apps.splice(0)) {
      a.kill('SIGTERM')
      await a.exited
    }
    await pool?.end()
    if (schema) await dropSchema(schema)
    await kafka?.close()
    kafka = schema = pool = undefined
  })

  const start = async () => {
    const app = await startAppScript('state-probe', 'test/fixtures/apps/state-probe/main.ts', kafka!.prefix, {
      AUREN_LOG_LEVEL: 'warn', AUREN_PROBE_DATABASE_URL: stackEnv().databaseUrl, AUREN_PROBE_DB_SCHEMA: schema!,
    })
    apps.push(app)
    await app.waitReady(60_000)
    return app
  }

  /** Expected state of each partition, from the input topic's records as the broker holds them. */
  async function expected(): Promise<Map<number, State>> {
    const out = new Map<number, State>()
    for (const r of await readTopicToEnd(kafka!.driver, kafka!.admin, kafka!.topics.agentEvents)) {
      const e = fromAgentEventRecord((await kafka!.serde.decode(r.value, 'agent-event')) as AgentEventRecord)
      const s = out.get(r.partition) ?? { count: 0, inputTokens: 0 }
      out.set(r.partition, { count: s.count + 1, inputTokens: s.inputTokens + (e.event_type === 'llm_call_completed' ? e.payload.input_tokens : 0) })
    }
    return out
  }

  /** Waits until every partition's stored position reaches its log end, then returns the stored states. */
  async function storedStates(): Promise<Map<number, State>> {
    const ends = await kafka!.admin.endOffsets(kafka!.topics.agentEvents)
    return waitUntil('stored positions at the log end', async () => {
      const r = await pool!.query<{ partition: number; next_offset: string; state: State }>('SELECT "partition", next_offset::text AS next_offset, state FROM auren_partition_positions')
      const rows = new Map(r.rows.map((x) => [x.partition, x]))
      if (![...ends].every(([p, end]) => end === '0' || rows.get(p)?.next_offset === end)) return undefined
      return new Map([...rows].map(([p, x]) => [p, x.state]))
    }, { timeoutMs: 90_000, everyMs: 200 })
  }

  it('is the same after SIGKILL and restart, and after its partition moves to another instance', { timeout: 300_000 }, async () => {
    kafka = await createTestKafka()
    schema = schemaForPrefix('s', kafka.prefix)
    pool = new pg.Pool({ connectionString: stackEnv().databaseUrl, max: 2, options: `-c search_path=${schema}` })
    pool.on('error', () => {})
    const events = (n: number, from: number): AgentEvent[] => llmCallEvents(n, 48).map((e, i) => ({ ...e, payload: { ...(e as { payload: object }).payload, input_tokens: from + i } }) as AgentEvent)

    // 1. SIGKILL mid-stream, restart
    const a = await start()
    await kafka.produceEvents(events(20_000, 1))
    await waitUntil('some state stored', async () => (await pool!.query('SELECT 1 FROM auren_partition_positions').catch(() => ({ rowCount: 0 }))).rowCount! > 0, { timeoutMs: 60_000 })
    a.kill('SIGKILL')
    await a.exited
    apps.splice(apps.indexOf(a), 1)
    const a2 = await start()
    expect(await storedStates()).toEqual(await expected())

    // 2. a second instance joins: partitions move to it and continue from the stored state
    const b = await start()
    await waitUntil('both instances own partitions', async () => {
      const owned = await Promise.all([a2, b].map(async (x) => ((await (await fetch(`http://${x.address}/readyz`)).json()) as { assignment?: Record<string, number[]> }).assignment?.[kafka!.topics.agentEvents]?.length ?? 0))
      return owned.every((n) => n > 0)
    }, { timeoutMs: 60_000, everyMs: 250 })
    await kafka.produceEvents(events(3_000, 100_000))
    expect(await storedStates()).toEqual(await expected())

    // 3. the first instance leaves: every partition moves to the second
    a2.kill('SIGTERM')
    expect(await a2.exited).toBe(0)
    apps.splice(apps.indexOf(a2), 1)
    await kafka.produceEvents(events(3_000, 200_000))
    expect(await storedStates()).toEqual(await expected())
  })
})
