/**
 * One conformance suite for every processor app (STYLE.md principle 14), run on the real
 * broker: open and close cleanly, keep per-key order, restart after SIGKILL without loss,
 * dead-letter poison and go on, survive instances joining and leaving mid-stream, drain lag to 0;
 * and ride out faults of the stack itself (./fault-cases.ts: broker SIGKILL, a broker outage past
 * the client's retry budget, PostgreSQL stopped for 20 s).
 * Each app supplies how to make inputs and how to read back which inputs took effect.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createTestKafka, type TestKafka } from '../helpers/kafka.ts'
import { startApp, type AppProcess } from '../helpers/processes.ts'
import { waitForMetrics } from '../helpers/metrics-wait.ts'
import { waitForGroupCaughtUp } from '../../scripts/lib/read-topic.ts'
import { DLQ_HEADERS, type AgentEvent } from '../../schemas/index.ts'
import { restoreStack } from '../helpers/stack-control.ts'
import { consumedAtLeast, faultCases } from './fault-cases.ts'

/** What the suite needs to know of a processor app. */
export interface ProcessorUnderTest {
  /** Folder under processors/. */
  readonly app: string
  /** Extra environment of every instance (e.g. AUREN_DELIVERY), possibly from the test's topic prefix. */
  readonly env?: Record<string, string> | ((prefix: string, instance: number) => Record<string, string>)
  /** Input topic of the app; default agentEvents. */
  readonly inputTopic?: 'agentEvents' | 'enrichedEvents'
  /** n valid inputs spread over several keys. */
  makeInputs(n: number): AgentEvent[]
  /** Produces inputs to the input topic; default: AgentEvents in wire format (kafka.produceEvents). */
  produce?(kafka: TestKafka, inputs: readonly AgentEvent[]): Promise<void>
  /** False when outputs carry no order to check (e.g. database rollups); default true. */
  readonly ordered?: boolean
  /** Further checks of the app's own outputs once all inputs took effect (e.g. rollup totals). */
  verify?(kafka: TestKafka, inputs: readonly AgentEvent[]): Promise<void>
  /** Called after each test (e.g. to drop a database schema). */
  cleanup?(kafka: TestKafka): Promise<void>
  /**
   * The event_id of each input whose effect is visible in the app's output, in output order
   * per key, duplicates included (read after the group caught up).
   */
  readEffects(kafka: TestKafka): Promise<Array<{ key: string; eventId: string }>>
  /** True when each input takes effect exactly once (else at least once). */
  readonly exactlyOnce: boolean
  /**
   * PostgreSQL schema of the app's tables for a test prefix, for apps that keep their state in
   * the database: the fault cases then also stop PostgreSQL mid-stream and check the REST
   * gateway on those tables.
   */
  dbSchema?(prefix: string): string
  /**
   * True for apps that write their outputs to PostgreSQL without rollup tables the gateway serves
   * (e.g. the event store): the fault cases stop PostgreSQL mid-stream too, without the gateway
   * check. Implied by {@link dbSchema}.
   */
  readonly database?: boolean
}

/**
 * Sends `signal` to an instance the moment it logs that its consumer is re-joining the group
 * (the runner's "rebalancing" line, logged when kafkajs starts the re-join).
 * @throws Error when no rebalance is logged within timeoutMs
 */
async function killWhenRebalancing(app: AppProcess, signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
  const stdout = app.child.stdout!
  await new Promise<void>((resolve, reject) => {
    let seen = ''
    const onData = (d: Buffer) => {
      seen = (seen + d.toString()).slice(-4096)
      if (!seen.includes('"msg":"rebalancing"')) return
      app.kill(signal)
      done()
      resolve()
    }
    const timer = setTimeout(() => {
      done()
      reject(new Error(`no rebalance logged within ${timeoutMs} ms`))
    }, timeoutMs)
    const done = () => {
      clearTimeout(timer)
      stdout.off('data', onData)
    }
    stdout.on('data', onData)
  })
}

function metricValue(text: string, name: string): number {
  const m = new RegExp(`^${name}\\{[^}]*\\} (\\d+)`, 'm').exec(text)
  return m ? Number(m[1]) : 0
}

/** Registers the conformance tests of one processor app. */
export function processorConformance(p: ProcessorUnderTest): void {
  describe(`${p.app} conformance (${p.exactlyOnce ? "exactly-once" : "at-least-once"})`, () => {
    let kafka: TestKafka
    const apps: AppProcess[] = []
    /** Starts instance `instance` (a restart of an instance keeps its number, e.g. its transactional id). */
    const start = async (env: Record<string, string> = {}, instance = 0) => {
      const base = typeof p.env === 'function' ? p.env(kafka.prefix, instance) : p.env
      const app = await startApp(p.app, kafka.prefix, { ...base, ...env })
      apps.push(app)
      await app.waitReady()
      return app
    }
    const inputTopic = () => kafka.topics[p.inputTopic ?? 'agentEvents']
    const produce = (inputs: readonly AgentEvent[]) => (p.produce ? p.produce(kafka, inputs) : kafka.produceEvents(inputs))
    const caughtUp = () => waitForGroupCaughtUp(kafka.admin, `${kafka.prefix}auren.${p.app}`, inputTopic(), 150_000)
    const expectAllTookEffect = async (inputs: AgentEvent[]) => {
      const counts = new Map<string, number>()
      for (const e of await p.readEffects(kafka)) counts.set(e.eventId, (counts.get(e.eventId) ?? 0) + 1)
      const missing = inputs.filter((e) => !counts.has(e.event_id))
      expect(missing.map((e) => e.event_id)).toEqual([])
      if (p.exactlyOnce) expect([...counts.values()].filter((n) => n !== 1)).toEqual([])
      await p.verify?.(kafka, inputs)
    }

    /** Set by a fault case: the stack is restored before anything else in afterEach. */
    let faulted = false

    beforeEach(async () => {
      kafka = await createTestKafka()
    })
    afterEach(async () => {
      if (faulted) await restoreStack()
      faulted = false
      for (const a of apps) a.kill('SIGTERM')
      await Promise.all(apps.map((a) => a.exited))
      apps.length = 0
      if (kafka) await p.cleanup?.(kafka)
      await kafka?.close()
    })
    afterAll(async () => {
      if (faulted) await restoreStack()
    })

    it('opens, processes, keeps per-key order, drains lag to 0 and closes cleanly on SIGTERM', async () => {
      const inputs = p.makeInputs(2000)
      await produce(inputs)
      const app = await start()
      await caughtUp()
      const effects = await p.readEffects(kafka)
      const position = new Map(inputs.map((e, i) => [e.event_id, i]))
      const byKey = new Map<string, number[]>()
      for (const e of effects) byKey.set(e.key, [...(byKey.get(e.key) ?? []), position.get(e.eventId)!])
      if (p.ordered !== false) for (const [key, order] of byKey) expect(order, `order of key ${key}`).toEqual([...order].sort((a, b) => a - b))
      await expectAllTookEffect(inputs)
      const lagsOf = (text: string) => [...text.matchAll(/^auren_consumer_lag_records\{[^}]*\} (\d+)/gm)].map((m) => Number(m[1]))
      const text = await waitForMetrics(app, [{ name: 'every auren_consumer_lag_records series at 0', test: (t) => lagsOf(t).length > 0 && lagsOf(t).every((v) => v === 0) }])
      expect(lagsOf(text).every((v) => v === 0)).toBe(true)
      app.kill('SIGTERM')
      expect(await app.exited).toBe(0)
      expect(app.output()).toContain('shutdown complete')
    })

    it('dead-letters poison records with their coordinates and keeps going', async () => {
      const inputs = p.makeInputs(200)
      await start()
      await produce(inputs.slice(0, 100))
      await kafka.producer.send([{ topic: inputTopic(), key: 'poison', value: Buffer.from('definitely not avro') }])
      await produce(inputs.slice(100))
      await caughtUp()
      const dlq = await kafka.consumeUntil(kafka.topics.deadLetter, (r) => r.length >= 1)
      expect(dlq).toHaveLength(1)
      expect(dlq[0]!.headers[DLQ_HEADERS.reason]).toBe('DESERIALIZATION_FAILED')
      expect(dlq[0]!.headers[DLQ_HEADERS.processor]).toBe(p.app)
      await expectAllTookEffect(inputs)
    })

    it('loses nothing when killed with SIGKILL mid-stream and restarted', async () => {
      const inputs = p.makeInputs(6000)
      await produce(inputs.slice(0, 3000))
      const first = await start({ AUREN_MAX_BATCH_BYTES: '16384' })
      const producing = produce(inputs.slice(3000))
      await consumedAtLeast(first, 500, 50)
      first.kill('SIGKILL')
      expect(await first.exited).toBe('SIGKILL')
      await producing
      await start()
      await caughtUp()
      await expectAllTookEffect(inputs)
    })

    it('on SIGTERM mid-stream drains and commits: after a restart every input took effect exactly once', async () => {
      const inputs = p.makeInputs(6000)
      await produce(inputs)
      const first = await start({ AUREN_MAX_BATCH_BYTES: '16384' })
      await consumedAtLeast(first, 500, 20)
      first.kill('SIGTERM')
      expect(await first.exited).toBe(0)
      expect(first.output()).toContain('shutdown complete')
      await start()
      await caughtUp()
      const counts = new Map<string, number>()
      for (const e of await p.readEffects(kafka)) counts.set(e.eventId, (counts.get(e.eventId) ?? 0) + 1)
      expect(inputs.filter((e) => counts.get(e.event_id) !== 1).length).toBe(0)
    })

    it('loses nothing while instances join and leave the consumer group mid-stream', async () => {
      const inputs = p.makeInputs(9000)
      const third = inputs.length / 3
      const a = await start()
      await produce(inputs.slice(0, third))
      const b = await start({}, 1)
      await produce(inputs.slice(third, 2 * third))
      b.kill('SIGTERM')
      expect(await b.exited).toBe(0)
      await produce(inputs.slice(2 * third))
      await caughtUp()
      await expectAllTookEffect(inputs)
      expect(metricValue(await a.metrics(), 'auren_rebalances_total')).toBeGreaterThanOrEqual(3)
    })

    it('exits 0 when stopped in the middle of a rebalance, and loses nothing (rolling restart)', async () => {
      const rounds = 3
      const inputs = p.makeInputs(1200 * (rounds + 1))
      const part = (k: number) => inputs.slice(k * 1200, (k + 1) * 1200)
      await start()
      let leaving = await start({}, 1)
      await produce(part(0))
      for (let round = 1; round <= rounds; round++) {
        // A new instance joins; the one to leave gets SIGTERM as soon as it logs the
        // rebalance, i.e. while its consumer is re-joining the group.
        const rejoin = killWhenRebalancing(leaving, 'SIGTERM', 60_000)
        const joining = await startApp(p.app, kafka.prefix, typeof p.env === 'function' ? p.env(kafka.prefix, round + 1) : { ...p.env })
        apps.push(joining)
        await produce(part(round))
        await rejoin
        expect(await leaving.exited, leaving.output().slice(-6000)).toBe(0)
        expect(leaving.output()).toContain('shutdown complete')
        await joining.waitReady()
        leaving = joining
      }
      await caughtUp()
      await expectAllTookEffect(inputs)
    })

    faultCases({
      app: p.app,
      exactlyOnce: p.exactlyOnce,
      database: p.dbSchema !== undefined || p.database === true,
      kafka: () => kafka,
      start,
      makeInputs: (n) => p.makeInputs(n),
      produce,
      inputTopic,
      expectAllTookEffect,
      ...(p.dbSchema ? { dbSchema: p.dbSchema } : {}),
      faulted: () => void (faulted = true),
      track: (app) => void apps.push(app),
    })
  })
}
