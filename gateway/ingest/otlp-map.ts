/**
 * Maps OTLP spans to AgentEvents (pure), by the OpenTelemetry GenAI semantic conventions
 * (https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/ and
 * gen-ai-agent-spans/) and the OpenInference attributes CrewAI instrumentations emit
 * (https://github.com/Arize-ai/openinference/blob/main/spec/semantic_conventions.md):
 *
 * | span | events |
 * |---|---|
 * | `gen_ai.operation.name` = `invoke_agent` (or `create_agent`), or `openinference.span.kind` = `AGENT` | `agent_execution_started` (start time) and `agent_execution_completed` (end time, latency, success, `error.type`) |
 * | `chat`, `generate_content`, `text_completion` (or OpenInference `LLM`) | `llm_call_completed`: `gen_ai.request.model` (else `gen_ai.response.model`, `llm.model_name`), `gen_ai.provider.name` (else `gen_ai.system`, `llm.provider`, `llm.system`), `gen_ai.usage.input_tokens`/`output_tokens` (else `llm.token_count.prompt`/`completion`), latency = end − start |
 * | `execute_tool` (or OpenInference `TOOL`) | `tool_usage_completed`: `gen_ai.tool.name` (else `tool.name`, the span name), execution time |
 * | `create_memory`, `update_memory`, `delete_memory`, `search_memory`, `retrieve_memory` (proposed GenAI memory operations) | `memory_operation`: created, updated (an upsert), deleted, retrieved; `gen_ai.memory.id` (else the span id), `gen_ai.memory.type` (else `unknown`) |
 * | an agent span with OpenInference `graph.node.parent_id`, or with span links to spans of another agent | `agent_handoff` from that agent to this one (also `source_agent` → `target_agent`), at the span's start, before its execution events; the linked span's agent is found in the same request, else from the link's `gen_ai.agent.name` |
 *
 * - The agent of an event: `gen_ai.agent.name` (else `gen_ai.agent.id`, OpenInference
 *   `agent.name`, or on an agent span OpenInference's `graph.node.id`, which
 *   `openinference-instrumentation-crewai` sets to the agent's role) of the span, else of its nearest agent ancestor in the same request, else the
 *   resource's `service.name`. `session_id` = `gen_ai.conversation.id` (else `session.id`),
 *   `user_id` = `user.id` (span, else resource), `trace_id` = the trace id (hex).
 * - Ids are deterministic ({@link spanEventId}): a span's main event is UUID v5 (RFC 9562) of
 *   `<trace id>/<span id>`, its started event of `<trace id>/<span id>/started`, so a
 *   re-exported span gives the same ids (dedup by event_id), and `parent_event_id` is the
 *   parent span's main event id even when the parent comes in a later request.
 * - The agent of a span is found in the same request only: with a batching span processor a
 *   crew's spans come together; a span whose agent ancestor is exported in a later request
 *   falls back to `service.name`.
 * - Usage is counted once, on leaf spans: an LLM span with an LLM span below it in the same
 *   request is not an LLM call of its own (skipped, `non_leaf_llm`); agent spans never carry
 *   tokens (executions have none), so usage reported on an agent span and on its LLM spans is
 *   counted once, from the LLM spans.
 * - Status: ERROR (code 2) → success false, `error_type` = `error.type`, else the status
 *   message's first word, else `error`.
 * - Spans of no GenAI operation are skipped with a reason (`not_gen_ai`), never silently;
 *   every span attribute of a mapped span is kept in `attributes` (`otel.` prefix, values as
 *   text, at most 64).
 */
import { createHash } from 'node:crypto'
import type { AttrValue, OtlpSpan } from './otlp-decode.ts'

/** Why a span gave no event (the `reason` label of auren_ingest_items_rejected_total{api="otlp"} is the refusal's; skips are counted apart). */
export type SkipReason = 'not_gen_ai' | 'non_leaf_llm' | 'no_model'

/** What a span became. */
export type SpanOutcome =
  | { readonly kind: 'events'; readonly span: OtlpSpan; readonly events: readonly Record<string, unknown>[] }
  | { readonly kind: 'skipped'; readonly span: OtlpSpan; readonly reason: SkipReason }

/** UUID namespace of span-derived event ids (a fixed random v4, so ids never collide with other producers' v5 ids). */
export const SPAN_EVENT_NAMESPACE = 'b3c4f0a2-7d1e-4c8b-9a6f-2e5d8c1b7a90'

/** UUID v5 (SHA-1, RFC 9562 section 5.5) of `name` in `namespace`. */
export function uuidV5(name: string, namespace = SPAN_EVENT_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex')
  const h = createHash('sha1').update(ns).update(name, 'utf8').digest()
  h[6] = (h[6]! & 0x0f) | 0x50
  h[8] = (h[8]! & 0x3f) | 0x80
  const x = h.subarray(0, 16).toString('hex')
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`
}

/**
 * The event id of a span's main event (execution completed, LLM call, tool call): UUID v5 of
 * `<trace id>/<span id>`, whatever its kind, so a child's `parent_event_id` names its parent's
 * event even when the parent is exported in another request (children usually end, and are
 * exported, first). `part` names a second event of the span (`started`).
 */
export function spanEventId(traceId: string, spanId: string, part?: string): string {
  return uuidV5(part ? `${traceId}/${spanId}/${part}` : `${traceId}/${spanId}`)
}

const LLM_OPS = new Set(['chat', 'generate_content', 'text_completion'])
const AGENT_OPS = new Set(['invoke_agent', 'create_agent'])
/**
 * Memory operations (`gen_ai.operation.name`, as proposed for the GenAI semantic conventions in
 * open-telemetry/semantic-conventions issue 2664: `search_memory`, `update_memory` (an upsert),
 * `delete_memory`; `create_memory` and `retrieve_memory` taken too) → `memory_operation`'s kind.
 */
const MEMORY_OPS: Readonly<Record<string, 'created' | 'updated' | 'deleted' | 'retrieved'>> = {
  create_memory: 'created', update_memory: 'updated', delete_memory: 'deleted', search_memory: 'retrieved', retrieve_memory: 'retrieved',
}

type Kind = 'agent' | 'llm' | 'tool' | 'memory' | null
function kindOf(s: OtlpSpan): Kind {
  const op = s.attributes['gen_ai.operation.name']
  const oi = String(s.attributes['openinference.span.kind'] ?? '').toUpperCase()
  if (typeof op === 'string' && Object.hasOwn(MEMORY_OPS, op)) return 'memory'
  if ((typeof op === 'string' && AGENT_OPS.has(op)) || oi === 'AGENT') return 'agent'
  if ((typeof op === 'string' && LLM_OPS.has(op)) || oi === 'LLM') return 'llm'
  if (op === 'execute_tool' || oi === 'TOOL') return 'tool'
  return null
}

const str = (v: AttrValue | undefined): string | null => (v === undefined || v === null ? null : typeof v === 'string' ? (v === '' ? null : v) : typeof v === 'object' ? JSON.stringify(v) : String(v))
const int = (v: AttrValue | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? Math.round(v) : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : null)
const first = <T>(...xs: (T | null)[]): T | null => xs.find((x) => x !== null) ?? null

/** Maps the spans of one request. */
export function mapSpans(spans: readonly OtlpSpan[]): SpanOutcome[] {
  const byId = new Map(spans.map((s) => [`${s.traceId}/${s.spanId}`, s]))
  const kinds = new Map(spans.map((s) => [s, kindOf(s)]))
  const parentOf = (s: OtlpSpan) => (s.parentSpanId ? byId.get(`${s.traceId}/${s.parentSpanId}`) : undefined)
  // LLM spans with an LLM span below them (in this request): not leaves.
  const nonLeafLlm = new Set<OtlpSpan>()
  for (const s of spans) {
    if (kinds.get(s) !== 'llm') continue
    for (let p = parentOf(s); p; p = parentOf(p)) if (kinds.get(p) === 'llm') nonLeafLlm.add(p)
  }
  // OpenInference's CrewAI instrumentation names the agent of an AGENT span by its graph node
  // (`graph.node.id` = the agent's role); a graph node of another kind is not an agent.
  const agentName = (s: OtlpSpan): string | null => first(str(s.attributes['gen_ai.agent.name']), str(s.attributes['gen_ai.agent.id']), str(s.attributes['agent.name']), kinds.get(s) === 'agent' ? str(s.attributes['graph.node.id']) : null)
  const agentOf = (s: OtlpSpan): string | null => {
    for (let p: OtlpSpan | undefined = s; p; p = parentOf(p)) {
      const n = agentName(p)
      if (n !== null && (p === s || kinds.get(p) === 'agent')) return n
    }
    return str(s.resource['service.name'])
  }

  /**
   * Handoffs to the agent of agent span `s`: from OpenInference's `graph.node.parent_id` (the
   * CrewAI instrumentation's previous agent of a sequential crew), and from each span link to a
   * span whose agent is known (the linked span in this request, else the link's own
   * `gen_ai.agent.name`), when that agent differs. Event time: the span's start.
   */
  const handoffsTo = (s: OtlpSpan, to: string | null, common: Record<string, unknown>): Record<string, unknown>[] => {
    if (to === null) return []
    const out: Record<string, unknown>[] = []
    const add = (from: string | null, idPart: string, reason: string) => {
      if (from === null || from === to) return
      out.push({
        ...common, event_id: spanEventId(s.traceId, s.spanId, idPart), timestamp: s.startUs, event_type: 'agent_handoff',
        source_agent: { id: from, role: from, domain: null }, target_agent: { id: to, role: to, domain: null },
        payload: { from_agent: from, to_agent: to, topic: first(str(s.attributes['task_name']), str(s.attributes['gen_ai.agent.task.name'])), reason },
      })
    }
    add(str(s.attributes['graph.node.parent_id']), 'handoff', 'graph.node.parent_id')
    for (const l of s.links) {
      const linked = byId.get(`${l.traceId}/${l.spanId}`)
      add(first(linked ? agentOf(linked) : null, str(l.attributes['gen_ai.agent.name'])), `link/${l.traceId}/${l.spanId}`, 'span_link')
    }
    return out
  }

  return spans.map((s): SpanOutcome => {
    const kind = kinds.get(s) ?? null
    if (kind === null) return { kind: 'skipped', span: s, reason: 'not_gen_ai' }
    if (nonLeafLlm.has(s)) return { kind: 'skipped', span: s, reason: 'non_leaf_llm' }
    const a = s.attributes
    const failed = s.statusCode === 2
    const errorType = failed ? first(str(a['error.type']), s.statusMessage.split(/[\s:]/)[0] || null, 'error') : null
    const agent = agentOf(s)
    const common = {
      trace_id: s.traceId,
      session_id: first(str(a['gen_ai.conversation.id']), str(a['session.id'])),
      parent_event_id: s.parentSpanId ? spanEventId(s.traceId, s.parentSpanId) : null,
      source_agent: agent === null ? null : { id: agent, role: first(str(a['gen_ai.agent.description']), agent), domain: null },
      user_id: first(str(a['user.id']), str(s.resource['user.id'])),
      source: 'otlp',
      attributes: keptAttributes(s),
    }
    const latencyMs = Math.max(0, (s.endUs - s.startUs) / 1000)
    const primary = spanEventId(s.traceId, s.spanId)
    if (kind === 'agent') {
      const exec = { task_id: first(str(a['gen_ai.agent.task.id']), str(a['task.id']), str(a['task_id'])), execution_mode: null, tools_available: [] }
      return {
        kind: 'events', span: s, events: [
          ...handoffsTo(s, agent, common),
          { ...common, event_id: spanEventId(s.traceId, s.spanId, 'started'), timestamp: s.startUs, event_type: 'agent_execution_started', payload: exec },
          { ...common, event_id: primary, timestamp: s.endUs, event_type: 'agent_execution_completed', payload: { ...exec, latency_ms: latencyMs, success: !failed, error_type: errorType } },
        ],
      }
    }
    if (kind === 'memory') {
      const op = MEMORY_OPS[String(a['gen_ai.operation.name'])]!
      return {
        kind: 'events', span: s, events: [{
          ...common, event_id: primary, timestamp: s.endUs, event_type: 'memory_operation',
          payload: { operation: op, memory_id: first(str(a['gen_ai.memory.id']), str(a['gen_ai.memory.record.id'])) ?? s.spanId, memory_type: first(str(a['gen_ai.memory.type']), str(a['gen_ai.memory.scope'])) ?? 'unknown', confidence: null },
        }],
      }
    }
    if (kind === 'llm') {
      const model = first(str(a['gen_ai.request.model']), str(a['gen_ai.response.model']), str(a['llm.model_name']))
      if (model === null) return { kind: 'skipped', span: s, reason: 'no_model' }
      return {
        kind: 'events', span: s, events: [{
          ...common, event_id: primary, timestamp: s.endUs, event_type: 'llm_call_completed',
          payload: {
            model, provider: first(str(a['gen_ai.provider.name']), str(a['gen_ai.system']), str(a['llm.provider']), str(a['llm.system'])),
            input_tokens: first(int(a['gen_ai.usage.input_tokens']), int(a['llm.token_count.prompt'])) ?? 0,
            output_tokens: first(int(a['gen_ai.usage.output_tokens']), int(a['llm.token_count.completion'])) ?? 0,
            cached_input_tokens: first(int(a['gen_ai.usage.cache_read.input_tokens']), int(a['llm.token_count.prompt_details.cache_read'])),
            reasoning_tokens: first(int(a['gen_ai.usage.reasoning.output_tokens']), int(a['llm.token_count.completion_details.reasoning'])),
            reported_cost_usd: null, latency_ms: latencyMs, success: !failed, error_type: errorType, purpose: str(a['gen_ai.operation.name']),
          },
        }],
      }
    }
    return {
      kind: 'events', span: s, events: [{
        ...common, event_id: primary, timestamp: s.endUs, event_type: 'tool_usage_completed',
        payload: { tool_name: first(str(a['gen_ai.tool.name']), str(a['tool.name'])) ?? s.name, input_size_bytes: null, output_size_bytes: null, execution_time_ms: latencyMs, success: !failed, error_type: errorType },
      }],
    }
  })
}

/** The span's attributes as text (`otel.` prefix; span name and id too), at most 64. */
function keptAttributes(s: OtlpSpan): Record<string, string> {
  const out: Record<string, string> = { 'otel.span_name': s.name, 'otel.span_id': s.spanId }
  for (const [k, v] of Object.entries(s.attributes).slice(0, 62)) out[`otel.${k}`] = (typeof v === 'string' ? v : JSON.stringify(v)).slice(0, 1024)
  return out
}
