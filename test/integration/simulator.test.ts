/**
 * The simulator's events are valid input: `auren simulate` produces them at the given rate,
 * enrichment accepts every one (no dead letter) and all event types come through (a fixed seed, so
 * the run is the same every time: the default seed is random per run).
 */
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { useRunningApp } from '../helpers/running-app.ts'
import { readTopicToEnd, waitForGroupCaughtUp } from '../../scripts/lib/read-topic.ts'
import { AGENT_EVENT_TYPES, fromEnrichedRecord, type EnrichedAgentEventRecord } from '../../schemas/index.ts'

const run = promisify(execFile)
const ROOT = join(import.meta.dirname, '..', '..')

describe('auren simulate', () => {
  const fixture = useRunningApp('enrichment')

  it('produces rate × duration events that enrichment accepts, covering every event type', async () => {
    const { kafka } = fixture
    const started = Date.now()
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/auren.ts', '--topic-prefix', kafka.prefix, 'simulate', '--rate', '400', '--duration', '4', '--seed', '42', '--no-progress'], { cwd: ROOT, timeout: 120_000 })
    expect(stdout).toContain('simulated 1600 events')
    expect(Date.now() - started).toBeGreaterThanOrEqual(4000)

    await waitForGroupCaughtUp(kafka.admin, `${kafka.prefix}auren.enrichment`, kafka.topics.agentEvents)
    expect(await readTopicToEnd(kafka.driver, kafka.admin, kafka.topics.deadLetter)).toHaveLength(0)
    const enriched = await readTopicToEnd(kafka.driver, kafka.admin, kafka.topics.enrichedEvents)
    expect(enriched).toHaveLength(1600)
    const types = new Set<string>()
    const tiers = new Set<string>()
    for (const r of enriched) {
      const e = fromEnrichedRecord((await kafka.serde.decode(r.value, 'enriched-agent-event')) as EnrichedAgentEventRecord)
      types.add(e.event.event_type)
      tiers.add(e.tier)
    }
    expect([...types].sort()).toEqual([...AGENT_EVENT_TYPES].sort())
    expect([...tiers].sort()).toEqual(['analytical', 'critical', 'operational'])
  })
})
