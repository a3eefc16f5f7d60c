import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parseHeaderTime, splitEntries } from '../../../../scripts/sources/chatdev-entries.ts'
import { parseChatDevLog, utteranceReply } from '../../../../scripts/sources/chatdev-log.ts'

const fixture = (name: string): string => readFileSync(fileURLToPath(new URL(`../../../fixtures/sources/${name}`, import.meta.url)), 'utf8')
const iso = (us: number): string => new Date(us / 1000).toISOString()

describe('parseHeaderTime (README "Timestamp pitfall")', () => {
  it('reads year-DAY-month', () => {
    expect(iso(parseHeaderTime(['2023', '18', '09', '11', '05', '21'])!.timeUs)).toBe('2023-09-18T11:05:21.000Z')
  })
  it('reads day-first when both orders are valid', () => {
    expect(iso(parseHeaderTime(['2023', '05', '09', '23', '30', '02'])!.timeUs)).toBe('2023-09-05T23:30:02.000Z')
  })
  it('swaps day and month when day-first is no date (Tetris `%Y-%m-%d` lines)', () => {
    const t = parseHeaderTime(['2024', '01', '15', '18', '15', '13'])!
    expect(iso(t.timeUs)).toBe('2024-01-15T18:15:13.000Z')
    expect(t.swapped).toBe(true)
  })
  it('rejects dates valid in neither order, including 31 February', () => {
    expect(parseHeaderTime(['2024', '33', '44', '00', '00', '00'])).toBeNull()
    expect(parseHeaderTime(['2023', '31', '02', '00', '00', '00'])).toBeNull()
  })
})

describe('splitEntries', () => {
  it('drops flask noise and counts it; keeps multi-line bodies', () => {
    const text = '[2023-18-09 11:05:33 INFO] **[OpenAI_Usage_Info Receive]**\nprompt_tokens: 440\n\n' +
      '[2023-18-09 11:05:33 INFO] flask app.py did not start for online log\n\n[2023-18-09 11:05:35 WARNING] x\n'
    const { entries, skipped } = splitEntries(text)
    expect(entries.map((e) => [e.index, e.line, e.level, e.header])).toEqual([[0, 1, 'INFO', '**[OpenAI_Usage_Info Receive]**'], [1, 6, 'WARNING', 'x']])
    expect(entries[0]!.body).toBe('prompt_tokens: 440\n')
    expect(skipped).toEqual({ flask_noise: 1 })
  })
  it('handles CRLF: same entries as LF and no carriage return left', () => {
    const lf = fixture('chatdev-basic.input.txt')
    const crlf = splitEntries(lf.replace(/\n/g, '\r\n'))
    expect(crlf).toEqual(splitEntries(lf))
    expect(crlf.entries.some((e) => e.body.includes('\r') || e.header.includes('\r'))).toBe(false)
  })
})

describe('parseChatDevLog', () => {
  it('parses the CRLF / swapped-date / unicode fixture', () => {
    const run = parseChatDevLog(fixture('chatdev-swap-crlf-unicode.input.txt'), 'chatdev/WareHouse/Red Packet Rain - thu - α/x.log')
    expect(run.runFolder).toBe('Red Packet Rain - thu - α')
    expect(run.runId).toBe('20240115181403')
    expect(run.skipped).toEqual({ orphan_lines: 1, invalid_timestamp: 1, invalid_timestamp_body_lines: 1, unknown_entry: 1 })
    expect(run.items.filter((i) => i.entry.dateSwapped).map((i) => i.kind)).toEqual(['http_request', 'receive'])
    expect(run.phases).toMatchObject([{ assistantRole: 'Chief Créative Officer α', userRole: 'Chief Executive Officer', name: 'ArtDesign', modelType: 'ModelType.GPT_3_5_TURBO_NEW' }])
    const u = run.items.find((i) => i.kind === 'utterance')
    expect(u).toMatchObject({ speaker: 'Chief Créative Officer α', assistantRole: 'Chief Créative Officer α', phaseName: 'ArtDesign', turn: 0, reply: 'button.png: a round blue button — “go”' })
  })
  it('merges a [RolePlaying] table into the [chatting] phase before it, and keeps a lone [RolePlaying] as a phase', () => {
    const run = parseChatDevLog(fixture('chatdev-send-receive.input.txt'), 'chatdev/WareHouse/ToDo_THUNLP_20230825072331/ToDo.log')
    expect(run.phases.map((p) => [p.assistantRole, p.userRole, p.name])).toEqual([
      ['Prompt Engineer', 'User', null],
      ['Chief Product Officer', 'Chief Executive Officer', 'DemandAnalysis'],
    ])
    expect(run.items.find((i) => i.kind === 'speaker_message')).toMatchObject({ speaker: 'Prompt Engineer', text: '<INFO> Create a todo list application.' })
    expect(run.items.filter((i) => i.kind === 'send').map((i) => i.kind === 'send' && i.numPromptTokens)).toEqual([192, 535, 585, 590])
    expect(run.items.filter((i) => i.kind === 'receive').map((i) => i.kind === 'receive' && i.costUsd)).toEqual([null, 0.001657, 0.001955])
  })
  it('classifies tools, rate limits, warnings and human feedback', () => {
    const run = parseChatDevLog(fixture('chatdev-rate-limit-tools.input.txt'), 'chatdev/WareHouse/Good_code_ModelBest1024_20231023013519/Good_code.log')
    const kinds = run.items.map((i) => (i.kind === 'tool' ? `tool:${i.tool}:${i.success}` : i.kind === 'rate_limit' ? `rate_limit:${i.source}:${i.incident}` : i.kind === 'api_warning' ? `warning:${i.errorType}` : i.kind))
    expect(kinds.filter((k) => /^(tool|rate_limit|warning|human|resolution)/.test(k))).toEqual([
      'rate_limit:error_code:false', 'rate_limit:warning:true', 'warning:connection_retry', 'rate_limit:error_code:true',
      'tool:update_codes:true', 'tool:rewrite_codes:true', 'tool:git:true', 'tool:test_reports:false', 'tool:cmd_execute:true',
      'tool:test_error_found:false', 'resolution', 'human_interaction', 'human_comments', 'warning:timeout',
    ])
    expect(run.items.filter((i) => i.kind === 'receive').map((i) => i.kind === 'receive' && i.modelType)).toEqual(['ModelType.GPT_3_5_TURBO', 'ModelType.GPT_4'])
  })
  it('takes the run id from the folder suffix, else the folder name, when no [Preprocessing] gives one', () => {
    expect(parseChatDevLog('', 'WareHouse/Maze_THUNLP_20231006154305/maze_DefaultOrganization_20231006154305.log').runId).toBe('20231006154305')
    expect(parseChatDevLog('', 'WareHouse/MBBusinessCardGen_jc_  ModelBest1024/x.log').runId).toBe('MBBusinessCardGen_jc_  ModelBest1024')
  })
})

describe('utteranceReply', () => {
  it('drops the bracketed system prompt of the other role', () => {
    expect(utteranceReply('\n\n[You are X.\nHere is a [task].]\n\n<INFO> Python\n\n')).toBe('<INFO> Python')
    expect(utteranceReply('\nno prompt block\n')).toBe('no prompt block')
  })
})
