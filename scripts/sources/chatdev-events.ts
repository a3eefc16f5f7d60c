/**
 * A parsed ChatDev run → AgentEvents, following the data README's "Mapping to pipeline events"
 * (section 1). Pure. The per-kind rules are on `chatDevRunToEvents`.
 */
import type { AgentEvent, AgentEventType, AgentRef, PayloadByType, PerformanceMetrics } from '../../schemas/index.ts'
import { agentRef, countSkip, redact, replayEventId, utf8Bytes } from './common.ts'
import { diffMs, type LogEntry } from './chatdev-entries.ts'
import type { ChatDevItem, ChatDevRun } from './chatdev-log.ts'
import { attributeAroundCalls, attributeReceives, chatDevModel, type AttributionRule, type CallAgent } from './chatdev-attribution.ts'

/** Domain of every ChatDev role. */
export const CHATDEV_DOMAIN = 'software'

/** Options of the conversion. */
export interface ChatDevEventOptions {
  /** `user_id` of every event; default null. */
  userId?: string | null
  /** How Receives are attributed to agents; default `block-order` (see `attributeReceives`). */
  attribution?: AttributionRule
}

/** Events of a run, in time order, and the items that gave none (`no_event:<kind>`). */
export interface ChatDevConversion {
  traceId: string
  events: AgentEvent[]
  skipped: Record<string, number>
}

type Extra = { source?: string | null; target?: string | null; parent?: string | null; performance?: PerformanceMetrics | null; attributes?: Record<string, string>; key?: string }

const perf = (latencyMs: number, success = true, errorType: string | null = null): PerformanceMetrics =>
  ({ latency_ms: latencyMs, success, error_type: errorType, confidence_score: null, memory_usage_mb: null, cpu_percent: null })

/**
 * Converts a run. Common fields: trace_id `chatdev:<run folder>`, session_id the run id, source
 * `chatdev`, agents `{ id: role, role, domain: 'software' }` with the role name as logged.
 * timestamp: the entry's log time read as UTC plus the entry index in microseconds, so events of
 * one second keep log order (indexes stay far below 10^6); events of one entry keep emission order.
 * event_id: `replayEventId('<trace_id>/<entry index>/<kind>')`. attributes: `auren.replay.file`,
 * `auren.replay.entry`, `auren.replay.line`; on LLM calls also `gen_ai.request.model` and
 * `auren.chatdev.attribution` (`utterance` | `fallback` | `none`, see `attributeReceives`).
 *
 * - Send → `llm_call_started` (input_tokens = tiktoken estimate, output 0); it is the
 *   `parent_event_id` of the Receive it precedes. Token totals must be summed from
 *   `llm_call_completed` only. A Send followed by another Send before any Receive (15 of 157
 *   in the sample: requests whose response the log never records) keeps no completed event.
 * - Receive → `llm_call_completed`: tokens as logged, `reported_cost_usd` from `cost: $` else
 *   null, model from the nearest preceding `model_type` row (`chatDevModel`), provider `openai`,
 *   latency = Receive − its Send (the last Send since the previous Receive), else Receive −
 *   previous entry, passing over `HTTP Request` lines (logged when the response arrives, so
 *   they would give ~0); agent per `attributeReceives`; purpose = phase name.
 * - Rate-limit incident (a rate-limit WARNING, or an `error_code=rate_limit_exceeded` line not
 *   followed by its WARNING) → `llm_call_completed` success false, `rate_limit_exceeded`,
 *   0 tokens, latency null and no `performance` (the log gives no duration: unknown, never 0),
 *   agent of the next Receive (`attributeAroundCalls`), redacted message in
 *   `auren.error.message`. Aggregation counts it as a failed attempt, not an LLM call.
 * - Other WARNING / `error_code` lines → `system_health` (`openai_api`, degraded).
 * - Phase set-up → `agent_handoff` user role → assistant role, topic = phase; phase end (its
 *   last utterance, conclusion or call) → `agent_collaboration` (`role_playing`, resolution =
 *   phase span, knowledge_items_shared = utterances in the phase).
 * - `[Start Chat]` → `agent_execution_started` (user role → assistant role); the next utterance,
 *   Seminar Conclusion or speaker line before the next Start Chat or set-up →
 *   `agent_execution_completed`, same agents, latency = difference.
 * - Utterance → `conversation_turn` (reply bytes, header turn; conversation = trace/phase index).
 * - Seminar Conclusion → `agent_decision` (text trimmed, `<INFO>` removed, redacted; category =
 *   phase; agent = speaker of the phase's last utterance, else the assistant role).
 * - Tool-like actions → `tool_usage_completed` (input_size_bytes = body bytes); agent = the
 *   actor named in the header, else the phase's assistant role. Human feedback (Interaction →
 *   User Provided Comments) → `tool_usage_completed` `human_feedback`, execution time = the wait,
 *   agent = user role of the next phase (the role that relays the comments).
 * - `[Post Info]` → `performance_metric` `chatdev.run.duration` (seconds) and
 *   `chatdev.run.reported_cost` (USD; see the README for why it can disagree with per-call costs).
 */
export function chatDevRunToEvents(run: ChatDevRun, options: ChatDevEventOptions = {}): ChatDevConversion {
  const traceId = `chatdev:${run.runFolder}`
  const events: AgentEvent[] = []
  const skipped: Record<string, number> = {}
  const used = new Set<number>()
  const ref = (name: string | null | undefined): AgentRef | null => (name ? agentRef(name, CHATDEV_DOMAIN) : null)
  const idOf = (entry: LogEntry, key: string): string => replayEventId(`${traceId}/${entry.index}/${key}`)
  const emit = <T extends AgentEventType>(entry: LogEntry, type: T, payload: PayloadByType[T], x: Extra = {}): string => {
    const event_id = idOf(entry, x.key ?? type)
    used.add(entry.index)
    events.push({
      event_id, trace_id: traceId, session_id: run.runId, parent_event_id: x.parent ?? null,
      timestamp: entry.timeUs + entry.index, event_type: type, source_agent: ref(x.source), target_agent: ref(x.target),
      user_id: options.userId ?? null, source: 'chatdev', payload, performance: x.performance ?? null,
      attributes: { 'auren.replay.file': run.file, 'auren.replay.entry': String(entry.index), 'auren.replay.line': String(entry.line), ...x.attributes },
    } as AgentEvent)
    return event_id
  }
  const phaseOf = (it: ChatDevItem) => (it.phase === null ? null : run.phases[it.phase]!)
  const receives = attributeReceives(run, options.attribution)
  const around = attributeAroundCalls(run, receives)
  const llm = (model: string, o: Partial<PayloadByType['llm_call_completed']>): PayloadByType['llm_call_completed'] => ({
    model, provider: 'openai', input_tokens: 0, output_tokens: 0, cached_input_tokens: null, reasoning_tokens: null,
    reported_cost_usd: null, latency_ms: null, success: true, error_type: null, purpose: null, ...o,
  })
  const callAttrs = (model: string, a: CallAgent | undefined) => ({ 'gen_ai.request.model': model, 'auren.chatdev.attribution': a?.via ?? 'none' })

  let lastSend: { item: ChatDevItem; id: string } | null = null
  let openStart: { item: ChatDevItem & { kind: 'start_chat' }; id: string; target: string | null } | null = null
  let pendingHuman: ChatDevItem | null = null
  const lastSpeaker = new Map<number, string>()
  const utterances = new Map<number, number>()
  const handoffPhases = new Set<number>()
  let prev: ChatDevItem | null = null // previous item, HTTP Request lines passed over

  run.items.forEach((it, i) => {
    const phase = phaseOf(it)
    if (it.kind === 'phase_table' && phase && phase.entry === it.entry && !handoffPhases.has(phase.index)) {
      handoffPhases.add(phase.index)
      emit(it.entry, 'agent_handoff', { from_agent: phase.userRole, to_agent: phase.assistantRole, topic: phase.name, reason: 'phase_setup' }, { source: phase.userRole, target: phase.assistantRole })
    }
    if (it.kind === 'send') {
      const a = around.get(it.entry.index)
      const model = chatDevModel(it.modelType)
      const id = emit(it.entry, 'llm_call_started', llm(model, { input_tokens: it.numPromptTokens ?? 0, purpose: phase?.name ?? null, success: true }), { source: a?.agent, attributes: callAttrs(model, a) })
      lastSend = { item: it, id }
    }
    if (it.kind === 'receive') {
      const a = receives.get(it.entry.index)
      const model = chatDevModel(it.modelType)
      const from = lastSend ? lastSend.item.entry : prev?.entry
      const latency = from ? diffMs(from.timeUs, it.entry.timeUs) : null
      emit(it.entry, 'llm_call_completed', llm(model, {
        input_tokens: it.promptTokens, output_tokens: it.completionTokens, reported_cost_usd: it.costUsd, latency_ms: latency, purpose: phase?.name ?? null,
      }), { source: a?.agent, parent: lastSend?.id ?? null, performance: latency === null ? null : perf(latency), attributes: callAttrs(model, a) })
      lastSend = null
    }
    if (it.kind === 'rate_limit' && it.incident) {
      const a = around.get(it.entry.index)
      const model = chatDevModel(it.modelType)
      emit(it.entry, 'llm_call_completed', llm(model, { success: false, error_type: 'rate_limit_exceeded', purpose: phase?.name ?? null }), {
        source: a?.agent, performance: null, // the log gives no duration: latency unknown (null), never 0
        attributes: { ...callAttrs(model, a), 'auren.error.message': redact(it.message), 'auren.chatdev.rate_limit_source': it.source },
      })
    }
    if (it.kind === 'api_warning') {
      const a = around.get(it.entry.index)
      emit(it.entry, 'system_health', { component: 'openai_api', status: 'degraded', details: { error_type: it.errorType, message: redact(it.message) } }, { source: a?.agent })
    }
    if (it.kind === 'start_chat' || it.kind === 'phase_table') openStart = null
    if (it.kind === 'start_chat') {
      const target = phase?.assistantRole ?? null
      const payload = { task_id: phase?.name ?? null, execution_mode: 'role_playing', tools_available: [], latency_ms: null, success: null, error_type: null, output_length: null }
      openStart = { item: it, target, id: emit(it.entry, 'agent_execution_started', payload, { source: it.speaker, target }) }
    }
    if (it.kind === 'utterance') {
      const other = it.speaker === it.userRole ? it.assistantRole : it.userRole
      emit(it.entry, 'conversation_turn', { conversation_id: `${traceId}#${it.phase ?? 'none'}`, turn_index: it.turn, message_size_bytes: utf8Bytes(it.reply) }, { source: it.speaker, target: other })
      if (it.phase !== null) {
        lastSpeaker.set(it.phase, it.speaker)
        utterances.set(it.phase, (utterances.get(it.phase) ?? 0) + 1)
      }
    }
    if (openStart && (it.kind === 'utterance' || it.kind === 'seminar_conclusion' || it.kind === 'speaker_message')) {
      const latency = diffMs(openStart.item.entry.timeUs, it.entry.timeUs)
      const output = it.kind === 'utterance' ? it.reply : it.text
      emit(it.entry, 'agent_execution_completed', {
        task_id: phase?.name ?? null, execution_mode: 'role_playing', tools_available: [], latency_ms: latency, success: true, error_type: null, output_length: output.length,
      }, { source: openStart.item.speaker, target: openStart.target, parent: openStart.id, performance: perf(latency) })
      openStart = null
    }
    if (it.kind === 'seminar_conclusion') {
      const decision = redact(it.text.replaceAll('<INFO>', '').trim())
      const who = (it.phase !== null ? lastSpeaker.get(it.phase) : undefined) ?? phase?.assistantRole
      emit(it.entry, 'agent_decision', { decision, category: phase?.name ?? null, confidence: null, urgency: null, reasoning_steps: [] }, { source: who })
    }
    if (it.kind === 'tool') {
      emit(it.entry, 'tool_usage_completed', {
        tool_name: it.tool, input_size_bytes: utf8Bytes(it.body), output_size_bytes: null, execution_time_ms: null, success: it.success, error_type: it.errorType,
      }, { source: it.actor ?? phase?.assistantRole, key: 'tool_usage_completed' })
    }
    if (it.kind === 'human_interaction') pendingHuman = it
    if (it.kind === 'human_comments' && pendingHuman) {
      const next = run.items.slice(i + 1).find((x) => x.kind === 'phase_table')
      const relay = (next ? phaseOf(next) : null)?.userRole ?? phase?.userRole
      const wait = diffMs(pendingHuman.entry.timeUs, it.entry.timeUs)
      emit(it.entry, 'tool_usage_completed', {
        tool_name: 'human_feedback', input_size_bytes: utf8Bytes(it.text.trim()), output_size_bytes: null, execution_time_ms: wait, success: true, error_type: null,
      }, { source: relay, attributes: { 'auren.chatdev.human_interaction_entry': String(pendingHuman.entry.index) } })
      used.add(pendingHuman.entry.index)
      pendingHuman = null
    }
    if (it.kind === 'post_info') {
      const { duration, cost } = it.values
      if (duration !== undefined) emit(it.entry, 'performance_metric', { name: 'chatdev.run.duration', value: duration, unit: 'seconds' }, { key: 'performance_metric:duration' })
      if (cost !== undefined) emit(it.entry, 'performance_metric', { name: 'chatdev.run.reported_cost', value: cost, unit: 'usd' }, { key: 'performance_metric:cost' })
    }
    if (it.kind !== 'http_request') prev = it
  })

  for (const phase of run.phases) {
    const span = diffMs(phase.entry.timeUs, phase.lastEntry.timeUs)
    emit(phase.lastEntry, 'agent_collaboration', {
      primary_agent: phase.assistantRole, collaborating_agents: [phase.userRole], collaboration_type: 'role_playing', consensus_reached: null,
      confidence_by_agent: {}, resolution_time_ms: span, knowledge_items_shared: utterances.get(phase.index) ?? 0,
    }, { source: phase.assistantRole, target: phase.userRole })
  }
  for (const it of run.items) {
    if (!used.has(it.entry.index)) countSkip(skipped, `no_event:${it.kind}${it.kind === 'info' ? `:${it.label}` : ''}`)
  }
  events.sort((a, b) => a.timestamp - b.timestamp)
  return { traceId, events, skipped }
}
