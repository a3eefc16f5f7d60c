/**
 * Replay fidelity on real input: every recorded ChatDev run is replayed through the real broker
 * and enrichment; for every run, the input and output tokens per agent read back from the
 * enriched topic equal the sums an independent scan of the log computes
 * (test/helpers/chatdev-reference.ts).
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { useRunningApp } from '../helpers/running-app.ts'
import { scanChatDevFolder, type TokenSums } from '../helpers/chatdev-reference.ts'
import { loadTraceRuns } from '../../scripts/sources/trace-files.ts'
import { publishRuns } from '../../scripts/sources/publish.ts'
import { readTopicToEnd, waitForGroupCaughtUp } from '../../scripts/lib/read-topic.ts'
import { fromEnrichedRecord, type EnrichedAgentEventRecord } from '../../schemas/index.ts'
import { requireRecordedRuns } from '../helpers/required-data.ts'

const TRACES = join(import.meta.dirname, '..', '..', '..', 'shared', 'data', 'agent-traces')

requireRecordedRuns(TRACES)

describe('replay of the recorded ChatDev runs', () => {
  const fixture = useRunningApp('enrichment')

  it('gives, per run and per agent, the input and output tokens the logs record', async () => {
    const { kafka } = fixture
    const found = loadTraceRuns(TRACES)
    const chatdev = found.runs.filter((r) => r.kind === 'chatdev')
    const reference = scanChatDevFolder(TRACES)
    expect(chatdev.length).toBe(reference.size)
    expect(chatdev.length).toBeGreaterThan(0)

    await publishRuns(found.runs, { producer: kafka.producer, serde: kafka.serde, topic: kafka.topics.agentEvents, speed: 'max' })
    await waitForGroupCaughtUp(kafka.admin, `${kafka.prefix}auren.enrichment`, kafka.topics.agentEvents)
    const records = await readTopicToEnd(kafka.driver, kafka.admin, kafka.topics.enrichedEvents)

    const piped = new Map<string, Map<string, TokenSums>>()
    const seen = new Set<string>()
    for (const r of records) {
      const { event } = fromEnrichedRecord((await kafka.serde.decode(r.value, 'enriched-agent-event')) as EnrichedAgentEventRecord)
      if (event.event_type !== 'llm_call_completed' || event.source !== 'chatdev' || seen.has(event.event_id)) continue
      seen.add(event.event_id)
      if (!event.payload.success) continue
      const file = event.attributes['auren.replay.file']!
      const perAgent = piped.get(file) ?? new Map<string, TokenSums>()
      const agent = event.source_agent?.id ?? '(none)'
      const s = perAgent.get(agent) ?? { calls: 0, input: 0, output: 0 }
      s.calls += 1
      s.input += event.payload.input_tokens
      s.output += event.payload.output_tokens
      perAgent.set(agent, s)
      piped.set(file, perAgent)
    }

    for (const [file, expected] of reference) {
      const got = piped.get(file)
      expect(got, `no LLM calls enriched for ${file}`).toBeDefined()
      const asObject = (m: Map<string, TokenSums>) => Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)))
      expect(asObject(got!), file).toEqual(asObject(expected))
    }
  })
})
