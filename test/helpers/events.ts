/** Builders of valid AgentEvents for tests; override any field. Timestamps are epoch µs. */
import { randomUUID } from 'node:crypto'
import type { AgentEventOf, AgentEvent } from '../../schemas/index.ts'

/** A completed LLM call by `agent` with the given tokens, event time `timestampUs` (default now). */
export function llmCallEvent(opts: { agent?: string; trace?: string; input?: number; output?: number; model?: string; timestampUs?: number; eventId?: string; userId?: string | null } = {}): AgentEventOf<'llm_call_completed'> {
  const agent = opts.agent ?? 'neuroscientist'
  return {
    event_id: opts.eventId ?? randomUUID(),
    trace_id: opts.trace ?? `trace-${randomUUID().slice(0, 8)}`,
    session_id: null,
    parent_event_id: null,
    timestamp: opts.timestampUs ?? Date.now() * 1000,
    event_type: 'llm_call_completed',
    source_agent: { id: agent, role: agent, domain: null },
    target_agent: null,
    user_id: opts.userId ?? null,
    source: 'test',
    payload: {
      model: opts.model ?? 'gpt-4o',
      provider: 'openai',
      input_tokens: opts.input ?? 100,
      output_tokens: opts.output ?? 20,
      cached_input_tokens: null,
      reasoning_tokens: null,
      reported_cost_usd: null,
      latency_ms: 850,
      success: true,
      error_type: null,
      purpose: null,
    },
    performance: null,
    attributes: {},
  }
}

/** n valid LLM call events spread over `traces` trace ids (so over several partitions). */
export function llmCallEvents(n: number, traces = 12): AgentEvent[] {
  return Array.from({ length: n }, (_, i) => llmCallEvent({ trace: `trace-${i % traces}`, input: 10 + i, output: i % 7 }))
}
