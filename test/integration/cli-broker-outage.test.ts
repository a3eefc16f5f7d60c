/**
 * `auren simulate` through a broker outage longer than the Kafka client's own retry budget (the
 * broker SIGKILLed and restarted through the stack script): the command keeps its process, says
 * on stderr that it retries, and finishes with every event in the topic (issue 10, defect 6).
 * Stopping after `--give-up-after` with the resume command is shown by
 * test/unit/scripts/sources/publish-retry.test.ts.
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, afterEach, expect, it } from 'vitest'
import { createTestKafka, type TestKafka } from '../helpers/kafka.ts'
import { brokerOutage, restoreStack } from '../helpers/stack-control.ts'
import { waitUntil } from '../helpers/wait-until.ts'
import { CLIENT_RETRY_BUDGET_MS } from '../conformance/fault-cases.ts'
import { readTopicToEnd } from '../../scripts/lib/read-topic.ts'
import { fromAgentEventRecord, type AgentEventRecord } from '../../schemas/index.ts'

const repoRoot = join(import.meta.dirname, '..', '..')
let kafka: TestKafka | undefined
let faulted = false

afterEach(async () => {
  if (faulted) await restoreStack()
  faulted = false
  await kafka?.close()
})
afterAll(async () => {
  if (faulted) await restoreStack()
})

it('auren simulate rides out a broker outage past the client retry budget and sends every event', async () => {
  kafka = await createTestKafka()
  const rate = 100
  const duration = 40
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/auren.ts', '--topic-prefix', kafka.prefix, 'simulate', '--rate', String(rate), '--duration', String(duration), '--no-progress', '--seed', '7'], {
    cwd: repoRoot,
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  let exitCode: number | string | undefined
  child.once('exit', (code, signal) => (exitCode = code ?? signal ?? -1))
  try {
    // Mid-stream: some events are in the topic, most are not yet sent.
    const topic = kafka
    await waitUntil('simulate to send its first 300 events', async () => {
      if (child.exitCode !== null) throw new Error(`simulate exited (${child.exitCode})`)
      const ends = await topic.admin.endOffsets(topic.topics.agentEvents).catch(() => new Map<number, string>())
      return [...ends.values()].reduce((n, o) => n + Number(o), 0) >= 300
    }, { timeoutMs: 60_000, everyMs: 200, stopOn: () => child.exitCode !== null }).catch((err: unknown) => {
      throw new Error(`simulate did not start sending (${(err as Error).message}):\n${stdout}${stderr}`)
    })
    faulted = true
    const outage = await brokerOutage(CLIENT_RETRY_BUDGET_MS + 4_000)
    expect(outage.outageMs).toBeGreaterThan(CLIENT_RETRY_BUDGET_MS)
    const code = await waitUntil('auren simulate to exit after the outage', () => exitCode, { timeoutMs: 180_000, everyMs: 200 }).catch((err: unknown) => (err as Error).message)
    expect(code, `${stdout}\n${stderr.slice(-4000)}`).toBe(0)
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
  }
  expect(stderr).toMatch(/auren simulate: broker unavailable .* retrying in \d+ s/)
  expect(stdout).toContain(`simulated ${rate * duration} events`)
  const ids = new Set<string>()
  for (const r of await readTopicToEnd(kafka.driver, kafka.admin, kafka.topics.agentEvents)) {
    ids.add(fromAgentEventRecord((await kafka.serde.decode(r.value, 'agent-event')) as AgentEventRecord).event_id)
  }
  expect(ids.size).toBe(rate * duration)
}, 420_000)
