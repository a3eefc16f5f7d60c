import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { terminalResult, thoughtDecision, whoAndWhenToEvents } from '../../../../scripts/sources/who-and-when.ts'
import { invalidEvents } from './schema-check.ts'

const fixture = (name: string): unknown => JSON.parse(readFileSync(fileURLToPath(new URL(`../../../fixtures/sources/${name}`, import.meta.url)), 'utf8'))

describe('whoAndWhenToEvents', () => {
  it('converts Hand-Crafted (Magentic-One): handoffs from (-> X), decisions from thoughts, terminal tools, labels', () => {
    const c = whoAndWhenToEvents(fixture('who-and-when-magentic.input.json'), 'who-and-when/Hand-Crafted/14.json')
    expect(c).toMatchObject({ traceId: 'who-and-when:Hand-Crafted/14', format: 'magentic-one', error: null })
    expect(invalidEvents(c.events)).toEqual([])
    expect(c.events.filter((e) => e.event_type === 'conversation_turn')).toHaveLength(10)
    expect(c.events.filter((e) => e.event_type === 'agent_handoff').map((e) => e.target_agent?.id)).toEqual(['FileSurfer', 'ComputerTerminal'])
    expect(c.events.filter((e) => e.event_type === 'agent_decision')).toHaveLength(3)
    expect(c.events.filter((e) => e.event_type === 'tool_usage_completed').map((e) => e.payload)).toMatchObject([
      { tool_name: 'ComputerTerminal', success: false, error_type: 'no_code_block' },
      { tool_name: 'ComputerTerminal', success: true },
    ])
    const labelled = c.events.filter((e) => e.attributes['auren.label.mistake_step'] !== undefined)
    expect(labelled.map((e) => [e.attributes['auren.replay.entry'], e.attributes['auren.label.mistake_agent']])).toEqual([['5', 'FileSurfer']])
    expect(c.events.every((e) => e.source === 'magentic-one' && e.session_id === 'fixture-q-1')).toBe(true)
  })
  it('converts Algorithm-Generated (AG2): a handoff per change of speaker', () => {
    const c = whoAndWhenToEvents(fixture('who-and-when-ag2.input.json'), 'who-and-when/Algorithm-Generated/2.json')
    expect(c.format).toBe('ag2')
    expect(invalidEvents(c.events)).toEqual([])
    expect(c.events.filter((e) => e.event_type === 'agent_handoff').map((e) => `${e.source_agent?.id}>${e.target_agent?.id}`)).toEqual([
      'Math_Expert>Python_Expert', 'Python_Expert>Computer_terminal', 'Computer_terminal>Python_Expert', 'Python_Expert>Computer_terminal', 'Computer_terminal>Verification_Expert',
    ])
    expect(c.events.filter((e) => e.attributes['auren.label.mistake_step'] === '3').map((e) => e.event_type)).toEqual(['conversation_turn', 'agent_handoff'])
  })
  it('synthesizes time: base + 1 s per message by default, or from options', () => {
    const c = whoAndWhenToEvents(fixture('who-and-when-ag2.input.json'), 'x/1.json', { baseTimeUs: 1_000_000, stepUs: 10 })
    expect(c.events.filter((e) => e.event_type === 'conversation_turn').map((e) => e.timestamp)).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => 1_000_000 + 10 * i))
    const d = whoAndWhenToEvents(fixture('who-and-when-ag2.input.json'), 'x/1.json')
    expect(new Date(d.events[0]!.timestamp / 1000).toISOString()).toBe('2025-01-01T00:00:00.000Z')
  })
  it('reports input in neither format as an error, and bad messages as skipped', () => {
    expect(whoAndWhenToEvents({ foo: 1 }, 'x/1.json').error).toBe('no history array')
    const c = whoAndWhenToEvents({ history: [{ content: 'hi', role: 'human' }, { role: 'WebSurfer' }] }, 'x/1.json')
    expect(c.skipped).toEqual({ invalid_message: 1 })
    expect(c.events).toHaveLength(1)
  })
})

describe('thoughtDecision', () => {
  it('summarizes an Updated Ledger and keeps the reasons as steps', () => {
    const d = thoughtDecision('Updated Ledger:\n{"is_request_satisfied": {"reason": "no", "answer": false}, "next_speaker": {"reason": "need web", "answer": "WebSurfer"}}\n/usr/local/lib/x.py:1: UserWarning')
    expect(d).toEqual({ decision: 'is_request_satisfied=false; next_speaker=WebSurfer', category: 'ledger', confidence: null, urgency: null, reasoning_steps: ['is_request_satisfied: no', 'next_speaker: need web'] })
  })
  it('keeps the first line of a Next speaker thought and categorizes plans', () => {
    expect(thoughtDecision('Next speaker WebSurfer\n/usr/lib/a.py: warn')).toMatchObject({ decision: 'Next speaker WebSurfer', category: 'next_speaker' })
    expect(thoughtDecision('New plan:\n\n1. look up /home/u/data/x.csv')).toMatchObject({ decision: 'New plan:\n\n1. look up [PATH]', category: 'plan' })
  })
})

describe('terminalResult', () => {
  it('succeeds only on exit code 0', () => {
    expect(terminalResult('exitcode: 0 (execution succeeded)\nCode output: 4\n')).toEqual({ success: true, errorType: null })
    expect(terminalResult('The script ran, then exited with Unix exit code: 0\nIts output was:\n1')).toEqual({ success: true, errorType: null })
    expect(terminalResult('exitcode: 1 (execution failed)')).toEqual({ success: false, errorType: 'exit_code_1' })
    expect(terminalResult('There is no code from the last 1 message for me to execute.')).toEqual({ success: false, errorType: 'no_code_block' })
  })
})
