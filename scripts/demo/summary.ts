/**
 * The demo's summary, computed from what was read back from the enriched and dead-letter
 * topics (pure: no I/O). Duplicated enriched records (same event_id, possible after a crash
 * under at-least-once) are counted once.
 */
import type { DlqReason, EnrichedAgentEvent } from '../../schemas/index.ts'

/** Figures of one agent. Tokens are summed over llm_call_completed events only. */
export interface AgentSummary {
  /** Completed LLM calls, successful or not. */
  llm_calls: number
  /** Completed LLM calls that failed (e.g. rate limited). */
  llm_calls_failed: number
  /** Input (prompt) tokens, gen_ai.usage.input_tokens. */
  input_tokens: number
  /** Output (completion) tokens, gen_ai.usage.output_tokens. */
  output_tokens: number
  /** Sum of cost_usd of the agent's events, USD. */
  cost_usd: number
}

/** The whole summary (the `--json` output of `auren demo`). */
export interface DemoSummary {
  events_in: number
  enriched: number
  duplicates_skipped: number
  dead_lettered: Partial<Record<DlqReason, number>>
  by_event_type: Record<string, number>
  by_tier: Record<string, number>
  cost_by_source: Record<string, number>
  agents: Record<string, AgentSummary>
}

/**
 * Summarises a run of the pipeline.
 * @param eventsIn records produced to the input topic during the run
 * @param enriched decoded enriched records (duplicates allowed)
 * @param dlqReasons the `auren.dlq.reason` header of each dead-letter record
 */
export function summarize(eventsIn: number, enriched: readonly EnrichedAgentEvent[], dlqReasons: readonly string[]): DemoSummary {
  const seen = new Set<string>()
  const agents: Record<string, AgentSummary> = {}
  const byType: Record<string, number> = {}
  const byTier: Record<string, number> = {}
  const costBySource: Record<string, number> = {}
  for (const e of enriched) {
    const ev = e.event
    if (seen.has(ev.event_id)) continue
    seen.add(ev.event_id)
    byType[ev.event_type] = (byType[ev.event_type] ?? 0) + 1
    byTier[e.tier] = (byTier[e.tier] ?? 0) + 1
    if (e.cost_source) costBySource[e.cost_source] = (costBySource[e.cost_source] ?? 0) + (e.cost_usd ?? 0)
    const agentId = ev.source_agent?.id
    if (!agentId) continue
    const a = (agents[agentId] ??= { llm_calls: 0, llm_calls_failed: 0, input_tokens: 0, output_tokens: 0, cost_usd: 0 })
    a.cost_usd += e.cost_usd ?? 0
    if (ev.event_type === 'llm_call_completed') {
      a.llm_calls += 1
      if (!ev.payload.success) a.llm_calls_failed += 1
      a.input_tokens += ev.payload.input_tokens
      a.output_tokens += ev.payload.output_tokens
    }
  }
  const deadLettered: Partial<Record<DlqReason, number>> = {}
  for (const r of dlqReasons) deadLettered[r as DlqReason] = (deadLettered[r as DlqReason] ?? 0) + 1
  return {
    events_in: eventsIn,
    enriched: seen.size,
    duplicates_skipped: Math.max(0, eventsIn - seen.size - dlqReasons.length),
    dead_lettered: deadLettered,
    by_event_type: byType,
    by_tier: byTier,
    cost_by_source: costBySource,
    agents: Object.fromEntries(Object.entries(agents).sort(([a], [b]) => a.localeCompare(b))),
  }
}

/** Renders the summary as a text report for a terminal. */
export function renderSummary(s: DemoSummary, links: readonly string[]): string {
  const lines: string[] = []
  const dl = Object.entries(s.dead_lettered)
  lines.push(`events in: ${s.events_in}   enriched: ${s.enriched}   duplicates skipped: ${s.duplicates_skipped}   dead-lettered: ${dl.reduce((n, [, v]) => n + (v ?? 0), 0)}`)
  if (dl.length > 0) lines.push(`dead-lettered by reason: ${dl.map(([k, v]) => `${k}=${v}`).join(', ')}`)
  lines.push(`by tier: ${Object.entries(s.by_tier).map(([k, v]) => `${k}=${v}`).join(', ')}`)
  lines.push('')
  const rows = Object.entries(s.agents).filter(([, a]) => a.llm_calls > 0 || a.cost_usd > 0)
  const w = Math.max(5, ...rows.map(([id]) => id.length))
  lines.push(`${'agent'.padEnd(w)}  ${'llm calls'.padStart(9)}  ${'failed'.padStart(6)}  ${'input tok'.padStart(10)}  ${'output tok'.padStart(10)}  ${'cost USD'.padStart(10)}`)
  for (const [id, a] of rows) {
    lines.push(`${id.padEnd(w)}  ${String(a.llm_calls).padStart(9)}  ${String(a.llm_calls_failed).padStart(6)}  ${String(a.input_tokens).padStart(10)}  ${String(a.output_tokens).padStart(10)}  ${a.cost_usd.toFixed(6).padStart(10)}`)
  }
  const tot = rows.reduce((t, [, a]) => ({ c: t.c + a.llm_calls, i: t.i + a.input_tokens, o: t.o + a.output_tokens, u: t.u + a.cost_usd }), { c: 0, i: 0, o: 0, u: 0 })
  lines.push(`${'total'.padEnd(w)}  ${String(tot.c).padStart(9)}  ${''.padStart(6)}  ${String(tot.i).padStart(10)}  ${String(tot.o).padStart(10)}  ${tot.u.toFixed(6).padStart(10)}`)
  if (links.length > 0) {
    lines.push('')
    lines.push('where to look:')
    for (const l of links) lines.push(`  ${l}`)
  }
  return lines.join('\n')
}
