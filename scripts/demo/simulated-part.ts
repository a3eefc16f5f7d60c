/**
 * The demo's simulated part: after the recorded runs were replayed and read back, a bounded
 * synthetic load from the six AUREN specialists (scripts/sources/simulator.ts; every event's
 * `source` is `simulator`, its `attributes` carry `auren.sim.scenario`) runs through the same
 * pipeline, so the views the recorded runs have no data for (memory tiers, knowledge accesses
 * and gaps, users) show something. Its figures are reported apart from the recorded runs' and
 * never mixed into them: `summarizeSimulated` keeps only `source = simulator` events.
 * `summarizeSimulated` and `renderSimulatedSummary` are pure.
 */
import type { EnrichedAgentEvent } from '../../schemas/index.ts'
import { runSimulate } from '../lib/simulate-command.ts'
import type { CliContext } from '../lib/cli-context.ts'
import { summarize, type AgentSummary } from './summary.ts'

/** The `source` of every simulated event (scripts/sources/simulator.ts). */
export const SIMULATED_SOURCE = 'simulator'

/** How much simulated load the demo runs: events per second for a number of seconds. */
export interface SimulatedLoad {
  /** Events per second. */
  rate: number
  /** Seconds. */
  duration: number
  /** PRNG seed of the simulator (32-bit). */
  seed: number
}

/** Default load: 3,000 events over 30 s (a minute of Prometheus rate windows sees it). */
export const DEFAULT_SIMULATED_LOAD: Omit<SimulatedLoad, 'seed'> = { rate: 100, duration: 30 }

/** The simulated part's own figures (`simulated` in --json). */
export interface SimulatedSummary {
  label: string
  source: typeof SIMULATED_SOURCE
  load: SimulatedLoad
  /** Events the simulator produced (acknowledged by the broker). */
  events_sent: number
  /** Distinct simulated events read back from the enriched topic. */
  enriched: number
  by_event_type: Record<string, number>
  /** Distinct user ids of the simulated events. */
  users: string[]
  /** Per agent, the same figures as the recorded runs' `agents` (answered calls, failed attempts apart, tokens, USD). */
  agents: Record<string, AgentSummary>
  /** Sum of the known cost_usd of the simulated events, USD. */
  cost_usd: number | null
  /** Memory lookups per tier: tiers tried (lookups), hits, and lookups the tier answered (served). */
  memory_tiers: Record<string, { lookups: number; hits: number; served: number }>
  /** Knowledge accesses, those that found nothing (gaps) and distinct items. */
  knowledge: { accesses: number; not_found: number; items: number }
  /** Collaborations (with consensus reached) and handoffs. */
  collaboration: { collaborations: number; consensus_reached: number; handoffs: number }
}

const LABEL = 'SIMULATED load (scripts/sources/simulator.ts, source=simulator): synthetic events, not the recorded runs; kept out of every figure above'

/** Produces the simulated load into the demo's input topic (live timestamps); resolves with the events sent. */
export async function runSimulatedPart(ctx: CliContext, load: SimulatedLoad, progress: boolean): Promise<number> {
  return runSimulate(ctx, { rate: load.rate, duration: load.duration, seed: load.seed, progress })
}

/** Figures of the simulated events among `enriched` (others ignored; duplicates counted once). */
export function summarizeSimulated(load: SimulatedLoad, eventsSent: number, enriched: readonly EnrichedAgentEvent[]): SimulatedSummary {
  const sim = enriched.filter((e) => e.event.source === SIMULATED_SOURCE)
  const base = summarize(0, sim, [])
  const users = new Set<string>()
  const tiers: SimulatedSummary['memory_tiers'] = {}
  const items = new Set<string>()
  const knowledge = { accesses: 0, not_found: 0, items: 0 }
  const collaboration = { collaborations: 0, consensus_reached: 0, handoffs: 0 }
  const seen = new Set<string>()
  let cost: number | null = null
  for (const { event: ev, cost_usd } of sim) {
    if (seen.has(ev.event_id)) continue
    seen.add(ev.event_id)
    if (ev.user_id) users.add(ev.user_id)
    if (cost_usd !== null) cost = (cost ?? 0) + cost_usd
    if (ev.event_type === 'memory_tier_access') {
      for (const t of ev.payload.tier_latencies) {
        const r = (tiers[t.tier] ??= { lookups: 0, hits: 0, served: 0 })
        r.lookups += 1
        if (t.hit) r.hits += 1
      }
      if (ev.payload.tier_served) (tiers[ev.payload.tier_served] ??= { lookups: 0, hits: 0, served: 0 }).served += 1
    } else if (ev.event_type === 'knowledge_access') {
      knowledge.accesses += 1
      if (!ev.payload.found) knowledge.not_found += 1
      if (ev.payload.knowledge_item_id) items.add(ev.payload.knowledge_item_id)
    } else if (ev.event_type === 'agent_collaboration') {
      collaboration.collaborations += 1
      if (ev.payload.consensus_reached === true) collaboration.consensus_reached += 1
    } else if (ev.event_type === 'agent_handoff') {
      collaboration.handoffs += 1
    }
  }
  knowledge.items = items.size
  return {
    label: LABEL, source: SIMULATED_SOURCE, load, events_sent: eventsSent, enriched: base.enriched, by_event_type: base.by_event_type,
    users: [...users].sort(), agents: base.agents, cost_usd: cost, memory_tiers: tiers, knowledge, collaboration,
  }
}

/** The simulated part's section of the text report (pure). */
export function renderSimulatedSummary(s: SimulatedSummary): string {
  const lines = [`=== ${s.label} ===`]
  lines.push(`load: ${s.load.rate} events/s for ${s.load.duration} s (seed ${s.load.seed}); sent ${s.events_sent}, read back enriched ${s.enriched}; users: ${s.users.join(', ') || '-'}`)
  const agents = Object.values(s.agents)
  const sum = (f: (a: AgentSummary) => number | null) => agents.reduce((t, a) => t + (f(a) ?? 0), 0)
  lines.push(`LLM (simulated): ${sum((a) => a.llm_calls)} answered calls, ${sum((a) => a.llm_failed_attempts)} failed attempts, ${sum((a) => a.input_tokens)} input / ${sum((a) => a.output_tokens)} output tokens, ${s.cost_usd === null ? '-' : s.cost_usd.toFixed(6)} USD`)
  const tiers = Object.entries(s.memory_tiers).map(([t, r]) => `${t} ${r.lookups} lookups, ${r.hits} hits (hit rate ${(r.hits / r.lookups).toFixed(2)} of its lookups), ${r.served} served`)
  lines.push(`memory tiers (simulated): ${tiers.join('; ') || '-'}`)
  lines.push(`knowledge (simulated): ${s.knowledge.accesses} accesses of ${s.knowledge.items} items, ${s.knowledge.not_found} not found (gaps)`)
  lines.push(`collaboration (simulated): ${s.collaboration.collaborations} collaborations (${s.collaboration.consensus_reached} reached consensus), ${s.collaboration.handoffs} handoffs`)
  return lines.join('\n')
}
