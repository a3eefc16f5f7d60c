/**
 * The demo's pure parts of issue 9 item 4 and issue 12: alert records grouped per fingerprint
 * (a duplicate delivery counted once, the last status kept) with their groups per rule, and the
 * simulated part's figures taken from `source = simulator` events only, never from recorded ones.
 */
import { describe, expect, it } from 'vitest'
import { alertsByRule, collectAlerts, renderAlertsSummary } from '../../../scripts/demo/alerts-summary.ts'
import { summarizeSimulated, renderSimulatedSummary } from '../../../scripts/demo/simulated-part.ts'
import { createSimulator } from '../../../scripts/sources/simulator.ts'
import type { Alert, EnrichedAgentEvent } from '../../../schemas/index.ts'
import { llmCallEvent } from '../../helpers/events.ts'

const alert = (o: Partial<Alert> & Pick<Alert, 'fingerprint' | 'status'>): Alert => ({
  rule: 'agent-rate-limited', severity: 'warning', labels: { agent: 'Programmer', replay: 'true' },
  annotations: { summary: 's', description: 'd', runbook: null }, value: 3, threshold: 3, starts_at: 1_700_000_000_000_000, ends_at: null, source_window: null, ...o,
})

const enriched = (event: EnrichedAgentEvent['event'], cost: number | null): EnrichedAgentEvent => ({
  event, tier: 'operational', cost_usd: cost, cost_source: cost === null ? null : 'computed', pricing_ref: null, agent_domain: null, tool_category: null, input_complexity: null, ingest_lag_ms: 0, enriched_at: 0,
})

describe('collectAlerts', () => {
  it('groups state changes by fingerprint, counts a redelivered record once and keeps the last status', () => {
    const firing = alert({ fingerprint: 'a', status: 'firing', value: 4 })
    const resolved = alert({ fingerprint: 'a', status: 'resolved', value: 1, ends_at: 1_700_000_600_000_000 })
    const other = alert({ fingerprint: 'b', status: 'firing', labels: { agent: 'Code Reviewer', replay: 'true' }, starts_at: 1_700_000_100_000_000 })
    const out = collectAlerts([firing, firing, other, resolved])
    expect(out.map((a) => [a.fingerprint, a.status, a.state_changes])).toEqual([['a', 'resolved', 2], ['b', 'firing', 1]])
    expect(out[0]!.max_value).toBe(4)
    expect(out[0]!.resolved_at).toBe('2023-11-14T22:23:20.000Z')
    expect(out[0]!.labels).toEqual({ agent: 'Programmer', replay: 'true', alertname: 'agent-rate-limited', severity: 'warning' })
    expect(alertsByRule(out)).toEqual({ 'agent-rate-limited': { severity: 'warning', alerts: 2, groups: ['Code Reviewer', 'Programmer'] } })
    const text = renderAlertsSummary({ topic: 't', records: 4, alerts: out.map((a) => ({ ...a, receivers: ['replay-review'], receivers_from: 'alertmanager-route' as const })), by_rule: alertsByRule(out) })
    expect(text).toContain('agent-rate-limited (warning): 2 alerts, for Code Reviewer, Programmer')
    expect(text).toContain('replay-review (Alertmanager routing, resolved)')
  })
})

describe('summarizeSimulated', () => {
  it('takes only simulator events: memory tiers, knowledge gaps, users, collaboration', () => {
    const sim = createSimulator({ seed: 7 })
    const events = Array.from({ length: 400 }, () => enriched(sim.next(), null))
    const recorded = enriched(llmCallEvent({ agent: 'Programmer', input: 100, output: 10 }), 0.5)
    const s = summarizeSimulated({ rate: 10, duration: 40, seed: 7 }, 400, [...events, recorded])
    expect(s.enriched).toBe(400)
    expect(s.agents.Programmer).toBeUndefined()
    expect(s.users.length).toBeGreaterThan(0)
    const memory = events.filter((e) => e.event.event_type === 'memory_tier_access')
    expect(Object.values(s.memory_tiers).reduce((n, t) => n + t.served, 0)).toBe(memory.filter((e) => (e.event.payload as { tier_served: string | null }).tier_served !== null).length)
    expect(s.memory_tiers.redis_immediate!.lookups).toBe(memory.length) // every lookup tries the first tier
    expect(s.knowledge.accesses).toBe(events.filter((e) => e.event.event_type === 'knowledge_access').length)
    expect(s.knowledge.not_found).toBe(events.filter((e) => e.event.event_type === 'knowledge_access' && !(e.event.payload as { found: boolean }).found).length)
    expect(s.collaboration.collaborations).toBe(events.filter((e) => e.event.event_type === 'agent_collaboration').length)
    expect(renderSimulatedSummary(s)).toMatch(/^=== SIMULATED/)
  })
})
