/**
 * The demo's summary, computed from what was read back from the enriched and dead-letter
 * topics (pure: no I/O). Duplicated enriched records (same event_id, possible after a crash
 * under at-least-once) are counted once.
 */
import type { DlqReason, EnrichedAgentEvent } from '../../schemas/index.ts'
import { isAnsweredCall } from '../../processors/aggregation/transform.ts'

/**
 * Figures of one agent. Tokens are summed over answered `llm_call_completed` events only (the
 * aggregation's rule, `isAnsweredCall`). Unknown is null, never 0: an agent without any LLM
 * event has null calls; without an answered call, null tokens; without a priced event, null cost.
 */
export interface AgentSummary {
  /** Answered LLM calls (a response came back), successful or with an error status. */
  llm_calls: number | null
  /** Answered LLM calls with an error status. */
  llm_calls_failed: number | null
  /** Failed attempts without an answer (rate-limit retries, timeouts): not calls. */
  llm_failed_attempts: number | null
  /** Failed attempts by error_type. */
  llm_failed_attempts_by_error_type: Record<string, number>
  /** Input (prompt) tokens of answered calls, gen_ai.usage.input_tokens. */
  input_tokens: number | null
  /** Output (completion) tokens of answered calls, gen_ai.usage.output_tokens. */
  output_tokens: number | null
  /** Sum of the known cost_usd of the agent's events, USD. */
  cost_usd: number | null
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
    const a = (agents[agentId] ??= { llm_calls: null, llm_calls_failed: null, llm_failed_attempts: null, llm_failed_attempts_by_error_type: {}, input_tokens: null, output_tokens: null, cost_usd: null })
    if (e.cost_usd !== null) a.cost_usd = (a.cost_usd ?? 0) + e.cost_usd
    if (ev.event_type === 'llm_call_completed') {
      a.llm_calls ??= 0
      a.llm_calls_failed ??= 0
      a.llm_failed_attempts ??= 0
      const ok = ev.payload.success
      if (isAnsweredCall(ev.payload, ok)) {
        a.llm_calls += 1
        if (!ok) a.llm_calls_failed += 1
        a.input_tokens = (a.input_tokens ?? 0) + ev.payload.input_tokens
        a.output_tokens = (a.output_tokens ?? 0) + ev.payload.output_tokens
      } else {
        const type = ev.payload.error_type ?? 'unknown'
        a.llm_failed_attempts += 1
        a.llm_failed_attempts_by_error_type[type] = (a.llm_failed_attempts_by_error_type[type] ?? 0) + 1
      }
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
  const rows = Object.entries(s.agents).filter(([, a]) => a.llm_calls !== null || a.cost_usd !== null)
  const unknown = Object.keys(s.agents).length - rows.length
  const w = Math.max(5, ...rows.map(([id]) => id.length))
  const cell = (v: number | null, width: number, digits?: number) => (v === null ? '-' : digits === undefined ? String(v) : v.toFixed(digits)).padStart(width)
  lines.push(`LLM calls = answered calls; failed attempts (no answer: rate-limit retries, timeouts) apart; - = unknown${unknown > 0 ? `; ${unknown} agents without LLM or cost data left out` : ''}`)
  lines.push(`${'agent'.padEnd(w)}  ${'llm calls'.padStart(9)}  ${'errors'.padStart(6)}  ${'failed attempts'.padStart(15)}  ${'input tok'.padStart(10)}  ${'output tok'.padStart(10)}  ${'cost USD'.padStart(10)}`)
  for (const [id, a] of rows) {
    lines.push(`${id.padEnd(w)}  ${cell(a.llm_calls, 9)}  ${cell(a.llm_calls_failed, 6)}  ${cell(a.llm_failed_attempts, 15)}  ${cell(a.input_tokens, 10)}  ${cell(a.output_tokens, 10)}  ${cell(a.cost_usd, 10, 6)}`)
  }
  const sum = (f: (a: AgentSummary) => number | null) => rows.reduce<number | null>((t, [, a]) => (f(a) === null ? t : (t ?? 0) + f(a)!), null)
  lines.push(`${'total'.padEnd(w)}  ${cell(sum((a) => a.llm_calls), 9)}  ${cell(sum((a) => a.llm_calls_failed), 6)}  ${cell(sum((a) => a.llm_failed_attempts), 15)}  ${cell(sum((a) => a.input_tokens), 10)}  ${cell(sum((a) => a.output_tokens), 10)}  ${cell(sum((a) => a.cost_usd), 10, 6)}`)
  if (links.length > 0) {
    lines.push('')
    lines.push('where to look:')
    for (const l of links) lines.push(`  ${l}`)
  }
  return lines.join('\n')
}
