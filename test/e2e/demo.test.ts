/**
 * The main job as a user runs it: `auren demo --json` on the recorded runs completes, reports
 * nothing lost, and its per-agent token totals equal an independent scan of the logs, both as
 * read back from the enriched topic (`agents`) and as read through the REST API from the
 * aggregation rollups (`api.agents_performance`), whose costs equal the topic's; the API's
 * latency percentiles and recommendations come with numbers; the archive holds every enriched
 * event once and DuckDB's answer over it adds up to the same events and USD.
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
  api: {
    agents_performance: Record<string, {
      llm_calls: number
      input_tokens: number
      output_tokens: number
      cost_usd: number
      latency: { execution: Latency | null; llm: Latency }
    }>
    top_cost_drivers: { total_usd: number; by_agent: Array<{ key: string; cost_usd: number }>; by_model: Array<{ key: string; cost_usd: number }> }
    projections: { method: string; next_day: { cost_usd: number } }
    recommendations: Array<{ kind: string; summary: string; evidence: Record<string, unknown>; method: string }>
  }
  archive: { events: number; objects: number; bytes: number; by_tier_agent: Array<{ tier: string; agent_id: string | null; events: number; usd: number | null }> }
}

interface Latency { count: number; mean_ms: number | null; p50_ms: number | null; p95_ms: number | null; p99_ms: number | null }

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

    // Through the REST API (aggregation rollups in PostgreSQL): the same tokens, exactly…
    const api = summary.api.agents_performance
    for (const [agent, e] of expected) {
      expect(api[agent], `api ${agent}`).toBeDefined()
      expect({ input: api[agent]!.input_tokens, output: api[agent]!.output_tokens }, `api ${agent}`).toEqual(e)
    }
    for (const [agent, a] of Object.entries(api)) {
      if (!expected.has(agent)) expect(a.input_tokens + a.output_tokens, `api ${agent}`).toBe(0)
    }
    // …and the same cost per agent as the enriched topic's cost_usd summed.
    const agentIds = new Set([...Object.keys(api), ...Object.keys(summary.agents)])
    for (const agent of agentIds) {
      expect(Math.abs((api[agent]?.cost_usd ?? 0) - (summary.agents[agent]?.cost_usd ?? 0)), `api cost ${agent}`).toBeLessThan(1e-9)
    }
    const topicTotal = Object.values(summary.agents).reduce((t, a) => t + a.cost_usd, 0)
    expect(Math.abs(summary.api.top_cost_drivers.total_usd - topicTotal)).toBeLessThan(1e-9)
    expect(summary.api.top_cost_drivers.by_agent[0]!.cost_usd).toBeGreaterThan(0)

    // Latency percentiles: every agent with timed LLM calls has ordered numbers.
    const timed = Object.values(api).filter((a) => a.latency.llm.count > 0)
    expect(timed.length).toBeGreaterThan(0)
    for (const a of timed) {
      for (const l of [a.latency.llm, a.latency.execution].filter((x): x is Latency => x !== null && x.count > 0)) {
        for (const p of [l.mean_ms, l.p50_ms, l.p95_ms, l.p99_ms]) expect(typeof p === 'number' && Number.isFinite(p) && p >= 0).toBe(true)
        expect(l.p50_ms!).toBeLessThanOrEqual(l.p95_ms!)
        expect(l.p95_ms!).toBeLessThanOrEqual(l.p99_ms!)
      }
    }
    expect(Object.values(api).some((a) => (a.latency.execution?.count ?? 0) > 0 && a.latency.execution!.p95_ms! > 0)).toBe(true)

    // Recommendations, each with its numbers.
    expect(summary.api.recommendations.length).toBeGreaterThan(0)
    for (const r of summary.api.recommendations) {
      expect(r.summary.length, r.kind).toBeGreaterThan(0)
      expect(Object.values(r.evidence).some((v) => typeof v === 'number' && Number.isFinite(v)), r.kind).toBe(true)
    }
    expect(summary.api.projections.method.length).toBeGreaterThan(0)

    // The archive: every enriched event once, in Parquet objects; DuckDB's per-tier-and-agent
    // answer adds up to the same events and to the topic's USD.
    expect(summary.archive.events).toBe(summary.enriched)
    expect(summary.archive.objects).toBeGreaterThan(0)
    expect(summary.archive.bytes).toBeGreaterThan(0)
    expect(summary.archive.by_tier_agent.reduce((n, r) => n + r.events, 0)).toBe(summary.enriched)
    expect(Math.abs(summary.archive.by_tier_agent.reduce((t, r) => t + (r.usd ?? 0), 0) - topicTotal)).toBeLessThan(1e-4)
  })
})
