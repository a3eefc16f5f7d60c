/**
 * One Who&When conversation (data README, section 2) → AgentEvents. Both formats: Hand-Crafted
 * (Magentic-One; `history[{content, role}]`, the role naming agent and direction) and
 * Algorithm-Generated (AG2 CaptainAgent; `history[{content, name, role}]`). Pure.
 */
import type { AgentEvent, AgentEventType, PayloadByType } from '../../schemas/index.ts'
import { agentRef, countSkip, redact, replayEventId, SYNTHETIC_TIME_ATTRIBUTE, utf8Bytes } from './common.ts'

/** Default synthetic time of message 0: 2025-01-01T00:00:00Z, epoch microseconds. */
export const WHO_AND_WHEN_BASE_TIME_US = Date.UTC(2025, 0, 1) * 1000
/** Default synthetic gap between two messages: 1 s, in microseconds. */
export const WHO_AND_WHEN_STEP_US = 1_000_000

/** Options of the conversion. The files have no timestamps (README "Caveats"), so time is synthesized. */
export interface WhoAndWhenOptions {
  /** Time of history[0], epoch microseconds; default `WHO_AND_WHEN_BASE_TIME_US`. */
  baseTimeUs?: number
  /** Time between messages, microseconds; default `WHO_AND_WHEN_STEP_US`. */
  stepUs?: number
  /** `user_id` of every event; default null. */
  userId?: string | null
}

/** Result of one file: events in history order, or an error when the JSON is in neither format. */
export interface WhoAndWhenConversion {
  traceId: string
  format: 'magentic-one' | 'ag2' | null
  events: AgentEvent[]
  /** Messages left out, by reason (`invalid_message`). */
  skipped: Record<string, number>
  /** Why the whole file was not converted; null when it was. */
  error: string | null
}

type Message = { content: string; role: string; name: string | null }
const TERMINALS = new Set(['ComputerTerminal', 'Computer_terminal'])

/** Parses the first balanced `{…}` of a text (string-aware), or null. */
function firstJsonObject(text: string): Record<string, unknown> | null {
  const start = text.indexOf('{')
  if (start < 0) return null
  let depth = 0
  let inString = false
  for (let i = start; i < text.length; i++) {
    const ch = text[i]
    if (inString) {
      if (ch === '\\') i++
      else if (ch === '"') inString = false
    } else if (ch === '"') inString = true
    else if (ch === '{') depth++
    else if (ch === '}' && --depth === 0) {
      try {
        return JSON.parse(text.slice(start, i + 1)) as Record<string, unknown>
      } catch {
        return null
      }
    }
  }
  return null
}

/**
 * An `Orchestrator (thought)` as a decision. An "Updated Ledger" JSON becomes
 * `key=answer; …` with each reason as a reasoning step (category `ledger`); other thoughts keep
 * their text (`Next speaker X` only its first line), with paths redacted.
 */
export function thoughtDecision(content: string): PayloadByType['agent_decision'] {
  const base = { confidence: null, urgency: null }
  const ledger = /Updated Ledger/.test(content) ? firstJsonObject(content) : null
  if (ledger) {
    const parts: string[] = []
    const steps: string[] = []
    for (const [key, v] of Object.entries(ledger)) {
      const item = (v ?? {}) as { answer?: unknown; reason?: unknown }
      parts.push(`${key}=${typeof item.answer === 'string' ? item.answer : JSON.stringify(item.answer ?? null)}`)
      if (typeof item.reason === 'string') steps.push(`${key}: ${redact(item.reason, { orgIds: false })}`)
    }
    return { ...base, decision: redact(parts.join('; '), { orgIds: false }), category: 'ledger', reasoning_steps: steps }
  }
  const text = content.trim()
  const firstLine = text.split('\n')[0] ?? ''
  const category = /^Next speaker/.test(text) ? 'next_speaker' : /plan:/i.test(firstLine) ? 'plan'
    : /^Stalled/.test(text) ? 'replan' : /^Request satisfied/.test(text) ? 'request_satisfied' : 'thought'
  const decision = category === 'next_speaker' ? firstLine : text
  return { ...base, decision: redact(decision, { orgIds: false }), category, reasoning_steps: [] }
}

/** Tool result of a terminal message: success iff it reports exit code 0. */
export function terminalResult(content: string): { success: boolean; errorType: string | null } {
  const m = /exit ?code:? ?(-?\d+)/i.exec(content)
  if (!m) return { success: false, errorType: 'no_code_block' }
  return Number(m[1]) === 0 ? { success: true, errorType: null } : { success: false, errorType: `exit_code_${m[1]}` }
}

/**
 * Converts one parsed Who&When JSON file.
 *
 * trace_id `who-and-when:<folder>/<file stem>`; session_id `question_ID`; source `magentic-one`
 * (messages without `name`) or `ag2`; agents `{ id: name, role: name, domain: null }`, the
 * Magentic-One name being the role without its `(…)` suffix. Message i is at
 * `baseTimeUs + i·stepUs`. Per message, in this order:
 * - `conversation_turn` (turn_index i, UTF-8 bytes of content, conversation = trace_id);
 * - handoff: `X (-> Y)` → `agent_handoff` X → Y (reason = the instruction, paths redacted); in
 *   AG2 each change of speaker → `agent_handoff` previous → current;
 * - `Orchestrator (thought)` → `agent_decision` (`thoughtDecision`, confidence null);
 * - `ComputerTerminal` / `Computer_terminal` → `tool_usage_completed` (tool_name as named;
 *   output_size_bytes = content bytes; success per `terminalResult`; agent = the latest speaker
 *   that is not a terminal, target = the terminal).
 * The events of history index `mistake_step` carry `auren.label.mistake_agent` and
 * `auren.label.mistake_step` (human labels, README "Format"). No agent_execution or LLM events:
 * the files have no timing, tokens or model.
 * @param file path relative to the traces root, e.g. `who-and-when/Hand-Crafted/14.json`
 */
export function whoAndWhenToEvents(json: unknown, file: string, options: WhoAndWhenOptions = {}): WhoAndWhenConversion {
  const parts = file.split(/[\\/]/)
  const stem = (parts.at(-1) ?? file).replace(/\.json$/i, '')
  const traceId = `who-and-when:${parts.length >= 2 ? `${parts.at(-2)}/` : ''}${stem}`
  const skipped: Record<string, number> = {}
  const doc = json as { history?: unknown; question_ID?: unknown; mistake_agent?: unknown; mistake_step?: unknown } | null
  if (typeof doc !== 'object' || doc === null || !Array.isArray(doc.history)) {
    return { traceId, format: null, events: [], skipped, error: 'no history array' }
  }
  const history: Array<Message | null> = doc.history.map((m: unknown) => {
    const o = m as { content?: unknown; role?: unknown; name?: unknown } | null
    if (!o || typeof o.content !== 'string' || typeof o.role !== 'string') return null
    return { content: o.content, role: o.role, name: typeof o.name === 'string' ? o.name : null }
  })
  const format = history.some((m) => m?.name) ? 'ag2' : 'magentic-one'
  const base = options.baseTimeUs ?? WHO_AND_WHEN_BASE_TIME_US
  const step = options.stepUs ?? WHO_AND_WHEN_STEP_US
  const synthetic = `history index × ${step} µs from ${new Date(base / 1000).toISOString()} (the file has no timestamps)`
  const mistakeStep = doc.mistake_step === undefined || doc.mistake_step === null ? NaN : Number(doc.mistake_step)
  const mistakeAgent = typeof doc.mistake_agent === 'string' ? doc.mistake_agent : ''
  const session = doc.question_ID === undefined || doc.question_ID === null ? null : String(doc.question_ID)
  const events: AgentEvent[] = []
  let previous: string | null = null
  let lastCaller: string | null = null // latest speaker that is not a terminal
  history.forEach((m, i) => {
    if (!m) return countSkip(skipped, 'invalid_message')
    const qualified = format === 'magentic-one' ? /^(.+?) \((.+)\)$/.exec(m.role.trim()) : null
    const agent = format === 'ag2' ? (m.name ?? m.role) : (qualified?.[1] ?? m.role.trim())
    const qualifier = qualified?.[2] ?? null
    const handoffTo = qualifier?.startsWith('->') ? qualifier.slice(2).trim() : null
    const labels = i === mistakeStep ? { 'auren.label.mistake_agent': mistakeAgent, 'auren.label.mistake_step': String(mistakeStep) } : {}
    const emit = <T extends AgentEventType>(type: T, payload: PayloadByType[T], source: string | null, target: string | null): void => {
      events.push({
        event_id: replayEventId(`${traceId}/${i}/${type}`), trace_id: traceId, session_id: session, parent_event_id: null,
        timestamp: base + i * step, event_type: type, source_agent: source ? agentRef(source, null) : null,
        target_agent: target ? agentRef(target, null) : null, user_id: options.userId ?? null, source: format,
        payload, performance: null,
        attributes: { 'auren.replay.file': file, 'auren.replay.entry': String(i), [SYNTHETIC_TIME_ATTRIBUTE]: synthetic, ...labels },
      } as AgentEvent)
    }
    emit('conversation_turn', { conversation_id: traceId, turn_index: i, message_size_bytes: utf8Bytes(m.content) }, agent, handoffTo)
    if (handoffTo) {
      emit('agent_handoff', { from_agent: agent, to_agent: handoffTo, topic: null, reason: redact(m.content.trim(), { orgIds: false }) }, agent, handoffTo)
    } else if (format === 'ag2' && previous !== null && previous !== agent) {
      emit('agent_handoff', { from_agent: previous, to_agent: agent, topic: null, reason: null }, previous, agent)
    }
    if (qualifier === 'thought') emit('agent_decision', thoughtDecision(m.content), agent, null)
    if (TERMINALS.has(agent)) {
      const r = terminalResult(m.content)
      emit('tool_usage_completed', {
        tool_name: agent, input_size_bytes: null, output_size_bytes: utf8Bytes(m.content), execution_time_ms: null, success: r.success, error_type: r.errorType,
      }, lastCaller, agent)
    } else lastCaller = agent
    previous = agent
  })
  return { traceId, format, events, skipped, error: null }
}
