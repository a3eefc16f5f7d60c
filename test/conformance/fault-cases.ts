/**
 * The conformance suite's fault cases (issue 10), run for every processor app in every delivery
 * mode it supports: a broker SIGKILL mid-stream and restart through the stack script, a broker
 * outage longer than the Kafka client's retry budget with the app left running, and (apps that
 * keep state in PostgreSQL) the database stopped for 20 s mid-stream. Each case ends with: every
 * partition drained (lag 0 in the app's own metric and in the group's committed offsets within a
 * bound), the app process still the one started before the fault, every input applied exactly
 * once (exactly-once modes) or at least once, and the dead-letter queue holding exactly the
 * poison records of the case.
 *
 * The faults act on the stack of `$AUREN_STACK_DIR` (scripts/lib/stack-control.ts); every case
 * restores it in `finally` and the suite's afterEach restores it again, so a failing case never
 * leaves later test files without a broker or database.
 */
import { expect, it } from 'vitest'
import type { TestKafka } from '../helpers/kafka.ts'
import { startGateway, type AppProcess } from '../helpers/processes.ts'
import { hs256Token } from '../helpers/stream-gateway.ts'
import { brokerOutage, databaseOutage } from '../helpers/stack-control.ts'
import { waitUntil } from '../helpers/wait-until.ts'
import { readTopicToEnd } from '../../scripts/lib/read-topic.ts'
import { DEFAULT_PARTITIONS, DLQ_HEADERS, type AgentEvent } from '../../schemas/index.ts'

/**
 * How long the runtime's Kafka client keeps retrying one request before giving up: kafkajs with
 * `retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5000 }` (processors/runtime/
 * kafka-client.ts) waits 0.2 + 0.4 + 0.8 + 1.6 + 3.2 + 5 + 5 + 5 s ≈ 21 s (±20 % jitter); issue 10
 * saw aggregation exit after ~22 s of outage. The long-outage case keeps the broker away longer.
 */
export const CLIENT_RETRY_BUDGET_MS = 26_000

/** Time limit of one fault case: a broker restart alone takes 20–60 s on 2 shared cores. */
const FAULT_CASE_TIMEOUT_MS = 420_000

/** Bound on draining after a fault ends (broker or database answering again). */
const DRAIN_BOUND_MS = 150_000

/** What the fault cases need from the suite that registers them. */
export interface FaultCaseContext {
  readonly app: string
  readonly exactlyOnce: boolean
  /** True for apps that keep their state (and offsets) in PostgreSQL. */
  readonly database: boolean
  /** The per-test Kafka context (set by the suite's beforeEach). */
  kafka(): TestKafka
  /** Starts instance `instance` of the app and waits for /readyz. */
  start(env?: Record<string, string>, instance?: number): Promise<AppProcess>
  makeInputs(n: number): AgentEvent[]
  produce(inputs: readonly AgentEvent[]): Promise<void>
  inputTopic(): string
  /** Asserts every input took effect (exactly once in exactly-once modes) and the app's own checks. */
  expectAllTookEffect(inputs: AgentEvent[]): Promise<void>
  /** Schema of the app's rollup tables for a test prefix (apps whose tables the gateway serves), for the gateway check. */
  dbSchema?(prefix: string): string
  /** Marks the stack as touched by a fault: the suite's afterEach restores it. */
  faulted(): void
  /** Processes the case started besides the app (the gateway), stopped by the suite's afterEach. */
  track(process: AppProcess): void
}

function metricValue(text: string, name: string): number {
  const m = new RegExp(`^${name}\\{[^}]*\\} (\\d+)`, 'm').exec(text)
  return m ? Number(m[1]) : 0
}

/**
 * Waits until the app consumed at least n records (auren_records_consumed_total), so a fault hits mid-stream.
 * @throws Error after 60 s, with the count last read
 */
export async function consumedAtLeast(app: AppProcess, n: number, everyMs = 50): Promise<void> {
  let consumed = 0
  await waitUntil(`${app.child.pid} to consume ${n} records`, async () => (consumed = metricValue(await app.metrics(), 'auren_records_consumed_total')) >= n, { timeoutMs: 60_000, everyMs, describe: () => `${consumed} consumed` })
}

/** Lag series of the input topic per partition, as one instance exports them. */
function lagSeries(text: string, topic: string): Map<number, number> {
  const out = new Map<number, number>()
  for (const m of text.matchAll(/^auren_consumer_lag_records\{([^}]*)\} (\d+)/gm)) {
    const labels = m[1]!
    if (!labels.includes(`topic="${topic}"`)) continue
    const partition = /partition="(\d+)"/.exec(labels)
    if (partition) out.set(Number(partition[1]), Number(m[2]))
  }
  return out
}

/**
 * Drained: the group's committed offsets reached the log end of every input partition, and the
 * instances' own `auren_consumer_lag_records` shows every partition of the input topic at 0.
 */
async function expectDrained(ctx: FaultCaseContext, instances: readonly AppProcess[]): Promise<void> {
  const kafka = ctx.kafka()
  const groupId = `${kafka.prefix}auren.${ctx.app}`
  const ends = await kafka.admin.endOffsets(ctx.inputTopic())
  let behind: number[] = []
  const exited = () => instances.find((a) => !a.alive())
  await waitUntil(
    `group ${groupId} to commit the log end of every partition of ${ctx.inputTopic()}`,
    async () => {
      const dead = exited()
      if (dead) throw new Error(`${ctx.app} exited (${await dead.exited}) before draining:\n${dead.output().slice(-4000)}`)
      const committed = await kafka.admin.committedOffsets(groupId, ctx.inputTopic())
      behind = [...ends].filter(([p, end]) => end !== '0' && committed.get(p) !== end).map(([p]) => p)
      return behind.length === 0
    },
    { timeoutMs: DRAIN_BOUND_MS, everyMs: 250, stopOn: (err) => err instanceof Error && err.message.includes(' exited ('), describe: () => `behind: ${behind.join(', ')}` },
  )
  let last = new Map<number, number>()
  await waitUntil(
    `auren_consumer_lag_records at 0 for all ${DEFAULT_PARTITIONS} partitions of ${ctx.inputTopic()}`,
    async () => {
      last = new Map()
      for (const app of instances) for (const [p, v] of lagSeries(await app.metrics(), ctx.inputTopic())) last.set(p, Math.max(v, last.get(p) ?? 0))
      return last.size === DEFAULT_PARTITIONS && [...last.values()].every((v) => v === 0)
    },
    { timeoutMs: 30_000, everyMs: 200, describe: () => JSON.stringify([...last]) },
  )
}

/**
 * A REST gateway on the schema of the app's tables (tracked by the case), and its answer to one
 * authenticated read (`/api/v2/agents/performance` over ±1 day).
 */
async function startRestProbe(ctx: FaultCaseContext, schema: string): Promise<{ status(): Promise<number>; waitFor(code: number, what: string, timeoutMs: number): Promise<void> }> {
  const secret = `fault-case-${ctx.kafka().prefix}-secret-of-at-least-32-bytes`
  const gateway = await startGateway({ AUREN_GATEWAY_JWT_SECRET: secret, AUREN_GATEWAY_DB_SCHEMA: schema })
  ctx.track(gateway)
  await gateway.waitReady()
  const token = await hs256Token(secret, 'ops-1', ['operator'])
  const from = new Date(Date.now() - 86_400_000).toISOString()
  const to = new Date(Date.now() + 86_400_000).toISOString()
  const status = () => fetch(`http://${gateway.address}/api/v2/agents/performance?from=${from}&to=${to}`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status)
  const seen = new Set<number>()
  return {
    status,
    async waitFor(code, what, timeoutMs) {
      await waitUntil(what, async () => {
        const s = await status()
        seen.add(s)
        return s === code
      }, { timeoutMs, everyMs: 200, describe: () => `statuses ${[...seen].join(', ')}` })
    },
  }
}

/** Produces one undecodable record (a poison) to the input topic. */
async function producePoison(ctx: FaultCaseContext, n: number): Promise<void> {
  await ctx.kafka().producer.send([{ topic: ctx.inputTopic(), key: `poison-${n}`, value: Buffer.from(`definitely not avro ${n}`) }])
}

/**
 * The DLQ holds exactly the `poisons` undecodable records of the case, from this app, each once
 * (exactly-once) or at least once (at-least-once: a batch replayed after a failed commit may
 * dead-letter a record again; its source coordinates tell the copies apart).
 */
async function expectOnlyPoisonDeadLettered(ctx: FaultCaseContext, poisons: number): Promise<void> {
  const kafka = ctx.kafka()
  const dlq = await readTopicToEnd(kafka.driver, kafka.admin, kafka.topics.deadLetter)
  const sources = new Map<string, number>()
  for (const r of dlq) {
    expect(r.headers[DLQ_HEADERS.reason], `DLQ reason of ${r.key?.toString()}`).toBe('DESERIALIZATION_FAILED')
    expect(r.headers[DLQ_HEADERS.processor]).toBe(ctx.app)
    expect(r.key?.toString()).toMatch(/^poison-\d+$/)
    const at = `${r.headers[DLQ_HEADERS.sourcePartition]}/${r.headers[DLQ_HEADERS.sourceOffset]}`
    sources.set(at, (sources.get(at) ?? 0) + 1)
  }
  expect(sources.size, 'distinct poison records dead-lettered').toBe(poisons)
  if (ctx.exactlyOnce) expect(dlq.length, 'dead letters (exactly-once: each poison once)').toBe(poisons)
}

/** The readiness an instance reports now: its /readyz status code, or null when it does not answer. */
async function readyStatus(app: AppProcess): Promise<number | null> {
  return fetch(`http://${app.address}/readyz`).then((r) => r.status, () => null)
}

/** Registers the fault cases (inside the suite's describe). */
export function faultCases(ctx: FaultCaseContext): void {
  it('rides out a broker SIGKILL mid-stream and its restart through the stack script: drained, nothing lost, DLQ only the poison', async () => {
    const inputs = ctx.makeInputs(3000)
    const app = await ctx.start({ AUREN_MAX_BATCH_BYTES: '16384' })
    await ctx.produce(inputs.slice(0, 1500))
    await producePoison(ctx, 1)
    await consumedAtLeast(app, 300)
    ctx.faulted()
    const outage = await brokerOutage(0)
    await ctx.produce(inputs.slice(1500))
    await producePoison(ctx, 2)
    await expectDrained(ctx, [app])
    expect(app.alive(), `${ctx.app} exited during a ${outage.outageMs} ms broker outage:\n${app.output().slice(-4000)}`).toBe(true)
    await ctx.expectAllTookEffect(inputs)
    await expectOnlyPoisonDeadLettered(ctx, 2)
  }, FAULT_CASE_TIMEOUT_MS)

  it('keeps running through a broker outage longer than the client retry budget, reports not-ready meanwhile, then drains without loss', async () => {
    const inputs = ctx.makeInputs(2000)
    const app = await ctx.start({ AUREN_MAX_BATCH_BYTES: '16384' })
    await ctx.produce(inputs.slice(0, 1000))
    await producePoison(ctx, 1)
    await consumedAtLeast(app, 200)
    ctx.faulted()
    // The app must notice the outage and say so on /readyz (polled from the kill until the
    // restarted broker works again), without exiting.
    const seen = new Set<number | null>()
    let polling = true
    const poller = waitUntil('the end of the broker outage, sampling /readyz', async () => {
      seen.add(await readyStatus(app))
      return !polling
    }, { timeoutMs: CLIENT_RETRY_BUDGET_MS + 120_000, everyMs: 500 })
    const outage = await brokerOutage(CLIENT_RETRY_BUDGET_MS + 4_000).finally(() => (polling = false))
    await poller
    expect(outage.outageMs).toBeGreaterThan(CLIENT_RETRY_BUDGET_MS)
    expect(app.alive(), `${ctx.app} exited during a ${outage.outageMs} ms broker outage:\n${app.output().slice(-4000)}`).toBe(true)
    expect([...seen], `/readyz during the outage (503 expected at some point): ${[...seen].join(', ')}`).toContain(503)
    await ctx.produce(inputs.slice(1000))
    await producePoison(ctx, 2)
    await expectDrained(ctx, [app])
    expect(app.alive()).toBe(true)
    await waitUntil(`${ctx.app} ready again after the broker came back`, async () => (await readyStatus(app)) === 200, { timeoutMs: 30_000, everyMs: 200 })
    await ctx.expectAllTookEffect(inputs)
    await expectOnlyPoisonDeadLettered(ctx, 2)
  }, FAULT_CASE_TIMEOUT_MS)

  if (!ctx.database) return

  it(`rides out PostgreSQL stopped for 20 s mid-stream${ctx.dbSchema ? ' (the gateway answers 503 meanwhile)' : ''}: drained, each input applied once, DLQ only the poison`, async () => {
    const kafka = ctx.kafka()
    const inputs = ctx.makeInputs(3000)
    const app = await ctx.start({ AUREN_MAX_BATCH_BYTES: '16384' })
    await ctx.produce(inputs.slice(0, 1500))
    await producePoison(ctx, 1)
    await consumedAtLeast(app, 300)
    // The REST gateway on the same tables (apps whose tables it serves): 200 before, 503 while
    // the database is down, 200 after.
    const rest = ctx.dbSchema ? await startRestProbe(ctx, ctx.dbSchema(kafka.prefix)) : undefined
    if (rest) expect(await rest.status()).toBe(200)
    ctx.faulted()
    await databaseOutage(20_000, async () => {
      await ctx.produce(inputs.slice(1500))
      await producePoison(ctx, 2)
      await rest?.waitFor(503, 'gateway REST 503 while PostgreSQL is down', 15_000)
    })
    expect(app.alive(), `${ctx.app} exited during a 20 s database outage:\n${app.output().slice(-4000)}`).toBe(true)
    await expectDrained(ctx, [app])
    await rest?.waitFor(200, 'gateway REST 200 again after PostgreSQL came back', 30_000)
    await ctx.expectAllTookEffect(inputs)
    await expectOnlyPoisonDeadLettered(ctx, 2)
  }, FAULT_CASE_TIMEOUT_MS)
}
