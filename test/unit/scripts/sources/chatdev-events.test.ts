import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import type { AgentEvent } from '../../../../schemas/index.ts'
import { parseChatDevLog } from '../../../../scripts/sources/chatdev-log.ts'
import { chatDevRunToEvents } from '../../../../scripts/sources/chatdev-events.ts'
import { chatDevModel } from '../../../../scripts/sources/chatdev-attribution.ts'
import { invalidEvents } from './schema-check.ts'

const fixture = (name: string): string => readFileSync(fileURLToPath(new URL(`../../../fixtures/sources/${name}`, import.meta.url)), 'utf8')
const convert = (name: string, folder = 'Run_X_20230101000000', userId: string | null = null) =>
  chatDevRunToEvents(parseChatDevLog(fixture(name), `chatdev/WareHouse/${folder}/${folder}.log`), { userId })
const ofType = <T extends AgentEvent['event_type']>(events: AgentEvent[], t: T) =>
  events.filter((e): e is Extract<AgentEvent, { event_type: T }> => e.event_type === t)
const CASES = ['chatdev-basic.input.txt', 'chatdev-send-receive.input.txt', 'chatdev-rate-limit-tools.input.txt', 'chatdev-swap-crlf-unicode.input.txt']

describe('chatDevRunToEvents: common fields', () => {
  for (const name of CASES) {
    it(`${name}: schema-valid, time-ordered, unique and stable ids`, () => {
      const { events } = convert(name)
      expect(invalidEvents(events)).toEqual([])
      expect(events.every((e, i) => i === 0 || events[i - 1]!.timestamp <= e.timestamp)).toBe(true)
      expect(new Set(events.map((e) => e.event_id)).size).toBe(events.length)
      expect(convert(name).events.map((e) => e.event_id)).toEqual(events.map((e) => e.event_id))
    })
  }
  it('sets trace, session, source, user, domain and replay attributes', () => {
    const { events, traceId } = convert('chatdev-basic.input.txt', 'BMI Calculator_DefaultOrganization_20230918110521', 'u-1')
    expect(traceId).toBe('chatdev:BMI Calculator_DefaultOrganization_20230918110521')
    for (const e of events) {
      expect(e).toMatchObject({ trace_id: traceId, session_id: '20230918110521', source: 'chatdev', user_id: 'u-1' })
      expect(e.attributes['auren.replay.file']).toBe('chatdev/WareHouse/BMI Calculator_DefaultOrganization_20230918110521/BMI Calculator_DefaultOrganization_20230918110521.log')
      expect(e.attributes['auren.replay.entry']).toMatch(/^\d+$/)
      if (e.source_agent) expect(e.source_agent.domain).toBe('software')
    }
    expect(new Date(events[0]!.timestamp / 1000).toISOString()).toBe('2023-09-18T11:05:23.000Z')
  })
})

describe('chatDevRunToEvents: LLM calls', () => {
  it('with block-order, attributes the k-th Receive of a block to the k-th utterance, and falls back to the assistant role', () => {
    const run = parseChatDevLog(fixture('chatdev-send-receive.input.txt'), 'chatdev/WareHouse/Run_X_20230101000000/Run_X_20230101000000.log')
    const calls = ofType(chatDevRunToEvents(run, { attribution: 'block-order' }).events, 'llm_call_completed')
    expect(calls.map((c) => [c.source_agent?.id, c.payload.output_tokens, c.attributes['auren.chatdev.attribution']])).toEqual([
      ['Prompt Engineer', 115, 'fallback'],
      ['Chief Product Officer', 13, 'utterance'],
      ['Chief Executive Officer', 47, 'utterance'],
    ])
  })
  it('measures latency from the last Send since the previous Receive, else from the previous entry', () => {
    const { events } = convert('chatdev-send-receive.input.txt')
    const started = ofType(events, 'llm_call_started')
    const calls = ofType(events, 'llm_call_completed')
    expect(calls.map((c) => c.payload.latency_ms)).toEqual([9000, 2000, 2000])
    expect(calls.map((c) => started.findIndex((s) => s.event_id === c.parent_event_id))).toEqual([0, 1, 3])
    expect(started.map((s) => [s.payload.input_tokens, s.payload.output_tokens])).toEqual([[192, 0], [535, 0], [585, 0], [590, 0]])
    expect(ofType(convert('chatdev-basic.input.txt').events, 'llm_call_completed')[0]!.payload.latency_ms).toBe(6000) // from [Start Chat]
  })
  it('reports the cost line when present and null when absent', () => {
    expect(ofType(convert('chatdev-send-receive.input.txt').events, 'llm_call_completed').map((c) => c.payload.reported_cost_usd)).toEqual([null, 0.001657, 0.001955])
  })
  it('takes the model of each phase (mixed GPT-3.5 / GPT-4) and maps ChatDev ModelType names', () => {
    const calls = ofType(convert('chatdev-rate-limit-tools.input.txt').events, 'llm_call_completed')
    expect(calls.map((c) => [c.payload.model, c.payload.success, c.attributes['gen_ai.request.model']])).toEqual([
      ['gpt-3.5-turbo-16k-0613', true, 'gpt-3.5-turbo-16k-0613'],
      ['gpt-4', false, 'gpt-4'],
      ['gpt-4', false, 'gpt-4'],
      ['gpt-4', true, 'gpt-4'],
    ])
    expect([chatDevModel('ModelType.GPT_3_5_TURBO_NEW'), chatDevModel('ModelType.GPT_4O_MINI'), chatDevModel('ModelType.STUB'), chatDevModel(null)]).toEqual(['gpt-3.5-turbo-16k', 'gpt-4o-mini', 'stub', 'unknown'])
  })
  it('emits one failed call per rate-limit incident, with 0 tokens, the next call\'s agent and a redacted message', () => {
    const failed = ofType(convert('chatdev-rate-limit-tools.input.txt').events, 'llm_call_completed').filter((c) => !c.payload.success)
    expect(failed).toHaveLength(2) // WARNING (+ its error_code line) and one error_code line without WARNING
    for (const f of failed) {
      expect(f.payload).toMatchObject({ error_type: 'rate_limit_exceeded', input_tokens: 0, output_tokens: 0 })
      // the log gives no duration for a retry: latency unknown (null), never a fabricated 0 ms
      expect(f.payload.latency_ms).toBeNull()
      expect(f.performance).toBeNull()
      expect(f.source_agent?.id).toBe('Programmer')
      expect(f.attributes['auren.error.message']).toContain('org-[REDACTED]')
      expect(f.attributes['auren.error.message']).not.toMatch(/UEAAQ/)
    }
  })
})

describe('chatDevRunToEvents: agents, decisions, tools', () => {
  it('emits handoff, execution, turn, decision and collaboration per phase', () => {
    const { events } = convert('chatdev-basic.input.txt')
    expect(events.map((e) => e.event_type)).toEqual([
      'agent_handoff', 'agent_execution_started', 'llm_call_completed', 'conversation_turn', 'agent_execution_completed',
      'agent_decision', 'agent_collaboration', 'tool_usage_completed', 'tool_usage_completed', 'performance_metric', 'performance_metric',
    ])
    const [handoff] = ofType(events, 'agent_handoff')
    expect(handoff!.payload).toMatchObject({ from_agent: 'Chief Executive Officer', to_agent: 'Chief Product Officer', topic: 'DemandAnalysis' })
    const [done] = ofType(events, 'agent_execution_completed')
    expect(done!.payload.latency_ms).toBe(8000)
    expect(done!.parent_event_id).toBe(ofType(events, 'agent_execution_started')[0]!.event_id)
    expect(ofType(events, 'agent_decision')[0]!.payload).toMatchObject({ decision: 'Application', category: 'DemandAnalysis', confidence: null })
    expect(ofType(events, 'agent_collaboration')[0]!.payload).toMatchObject({ collaboration_type: 'role_playing', resolution_time_ms: 14000, knowledge_items_shared: 1 })
    expect(ofType(events, 'conversation_turn')[0]!.payload).toMatchObject({ turn_index: 0, message_size_bytes: 18 })
  })
  it('redacts paths in decisions', () => {
    const [d] = ofType(convert('chatdev-swap-crlf-unicode.input.txt').events, 'agent_decision')
    expect(d!.payload.decision).toBe('Finished. Files saved under [PATH] and [PATH]')
    expect(d!.source_agent?.id).toBe('Chief Créative Officer α')
  })
  it('maps tool-like actions, failures and human feedback', () => {
    const tools = ofType(convert('chatdev-rate-limit-tools.input.txt').events, 'tool_usage_completed')
    expect(tools.map((t) => [t.payload.tool_name, t.payload.success, t.payload.error_type, t.source_agent?.id])).toEqual([
      ['update_codes', true, null, 'Programmer'],
      ['rewrite_codes', true, null, 'Programmer'],
      ['git', true, null, 'Programmer'],
      ['test_reports', false, 'ModuleNotFoundError', 'Programmer'],
      ['cmd_execute', true, null, 'Programmer'],
      ['test_error_found', false, 'ModuleNotFoundError', 'Software Test Engineer'],
      ['human_feedback', true, null, 'Code Reviewer'],
    ])
    expect(tools[0]!.payload.input_size_bytes).toBe(Buffer.byteLength('main.py updated.'))
    expect(tools[6]!.payload.execution_time_ms).toBe(600_000)
  })
  it('reports other API warnings as degraded system health and counts entries without events', () => {
    const { events, skipped } = convert('chatdev-rate-limit-tools.input.txt')
    expect(ofType(events, 'system_health').map((h) => h.payload.details.error_type)).toEqual(['connection_retry', 'timeout'])
    expect(skipped).toMatchObject({ 'no_event:rate_limit': 1, 'no_event:resolution': 1, 'no_event:info:execute_detail': 1 })
  })
})

describe('chatDevRunToEvents: attribution rule option', () => {
  it('next-utterance gives every pending Receive to the next utterance, and the tail to the last assistant role', () => {
    const run = parseChatDevLog(fixture('chatdev-send-receive.input.txt'), 'chatdev/WareHouse/ToDo/ToDo.log')
    const calls = ofType(chatDevRunToEvents(run, { attribution: 'next-utterance' }).events, 'llm_call_completed')
    expect(calls.map((c) => c.source_agent?.id)).toEqual(['Chief Product Officer', 'Chief Product Officer', 'Chief Product Officer'])
  })
})
