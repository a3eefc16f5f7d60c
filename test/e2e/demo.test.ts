/**
 * The main job as a user runs it: `auren demo --json` on the recorded runs completes, reports
 * nothing lost, and its per-agent token totals equal an independent scan of the logs.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { scanChatDevFolder } from '../helpers/chatdev-reference.ts'

const run = promisify(execFile)
const ROOT = join(import.meta.dirname, '..', '..')
const TRACES = join(ROOT, '..', 'shared', 'data', 'agent-traces')

interface DemoJson {
  events_in: number
  enriched: number
  dead_lettered: Record<string, number>
  agents: Record<string, { llm_calls: number; input_tokens: number; output_tokens: number; cost_usd: number }>
}

describe.skipIf(!existsSync(TRACES))('auren demo --json', () => {
  it('completes and its per-agent totals match the logs', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/auren.ts', 'demo', '--json', '--traces', TRACES], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024, timeout: 600_000 })
    const summary = JSON.parse(stdout) as DemoJson
    expect(summary.events_in).toBeGreaterThan(1000)
    expect(summary.enriched + Object.values(summary.dead_lettered).reduce((a, b) => a + b, 0)).toBe(summary.events_in)

    const expected = new Map<string, { input: number; output: number }>()
    for (const perAgent of scanChatDevFolder(TRACES).values()) {
      for (const [agent, s] of perAgent) {
        const e = expected.get(agent) ?? { input: 0, output: 0 }
        e.input += s.input
        e.output += s.output
        expected.set(agent, e)
      }
    }
    for (const [agent, e] of expected) {
      expect(summary.agents[agent], agent).toBeDefined()
      expect({ input: summary.agents[agent]!.input_tokens, output: summary.agents[agent]!.output_tokens }, agent).toEqual(e)
      expect(summary.agents[agent]!.cost_usd).toBeGreaterThan(0)
    }
    for (const [agent, a] of Object.entries(summary.agents)) {
      if (!expected.has(agent)) expect(a.input_tokens + a.output_tokens, agent).toBe(0)
    }
  })
})
