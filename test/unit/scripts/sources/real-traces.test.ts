/**
 * The converters over the real recorded runs (`../shared/data/agent-traces` from the repo root),
 * checked against the data README's measured per-file table for the runs present, and every
 * event against the AgentEvent Avro schema. Skipped, with a message, when the folder is absent.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import type { AgentEvent } from '../../../../schemas/index.ts'
import { loadTraceRuns } from '../../../../scripts/sources/trace-files.ts'
import { parseChatDevLog } from '../../../../scripts/sources/chatdev-log.ts'
import { invalidEvents } from './schema-check.ts'
import { requireRecordedRuns } from '../../../helpers/required-data.ts'

const ROOT = fileURLToPath(new URL('../../../../../shared/data/agent-traces/', import.meta.url))
requireRecordedRuns(ROOT)

/** One row of the README's "Per file" table. */
interface Row { name: string; lines: number; calls: number; prompt: number; completion: number; roles: number; model: string; cost: number; rateLimitLines: number }

const MODELS: Record<string, string[]> = { '3.5': ['gpt-3.5-turbo-16k-0613'], '4': ['gpt-4'], '3.5+4': ['gpt-3.5-turbo-16k-0613', 'gpt-4'], '3.5-new': ['gpt-3.5-turbo-16k'] }

function readmeRows(): Row[] {
  const text = readFileSync(`${ROOT}README.md`, 'utf8')
  const rows: Row[] = []
  for (const line of text.split('\n')) {
    const m = /^(.+?)\s+(\d+) (\d+)\s+(\d+)\s+(\d+) (\d+) (\S+)\s+([\d.]+)\s+(\d+)\s+(\d+)\s*$/.exec(line)
    if (!m) continue
    rows.push({
      name: m[1]!.replace(/\.\.$/, ''), lines: +m[2]!, calls: +m[3]!, prompt: +m[4]!, completion: +m[5]!, roles: +m[6]!, model: m[7]!, cost: +m[8]!, rateLimitLines: +m[10]!,
    })
  }
  return rows
}

const ofType = <T extends AgentEvent['event_type']>(events: AgentEvent[], t: T) =>
  events.filter((e): e is Extract<AgentEvent, { event_type: T }> => e.event_type === t)

describe(`recorded runs in ${ROOT}`, () => {
  const found = loadTraceRuns(ROOT)
  const chatdev = found.runs.filter((r) => r.kind === 'chatdev')
  const whoAndWhen = found.runs.filter((r) => r.kind === 'who-and-when')
  const rows = readmeRows()

  it('finds runs of both kinds and skips only sidecars and documentation', () => {
    expect(rows.length).toBe(30)
    expect(chatdev.length).toBeGreaterThan(0)
    expect(whoAndWhen.length).toBeGreaterThan(0)
    expect(new Set(found.skipped.map((s) => s.reason))).toEqual(new Set(['chatdev run sidecar, not a log', 'documentation or licence']))
  })

  it('every event is valid against the registered AgentEvent schema; ids are unique', () => {
    const all = found.runs.flatMap((r) => r.events)
    expect(invalidEvents(all)).toEqual([])
    expect(new Set(all.map((e) => e.event_id)).size).toBe(all.length)
  })

  it('ChatDev: per file, calls, tokens, roles, models, Post-Info cost and rate-limit lines match the README table', () => {
    for (const run of chatdev) {
      const folder = run.traceId.slice('chatdev:'.length)
      const matches = rows.filter((r) => folder.startsWith(r.name))
      expect(matches, folder).toHaveLength(1)
      const row = matches[0]!
      const calls = ofType(run.events, 'llm_call_completed').filter((e) => e.payload.success)
      const text = readFileSync(ROOT + run.file, 'utf8')
      const roles = new Set(run.events.flatMap((e) => [e.source_agent?.id, e.target_agent?.id]).filter((x) => x !== undefined))
      const cost = ofType(run.events, 'performance_metric').find((e) => e.payload.name === 'chatdev.run.reported_cost')
      const rateLimitLines = parseChatDevLog(text, run.file).items.filter((i) => i.kind === 'rate_limit').length
      expect({
        lines: (text.match(/\n/g) ?? []).length,
        calls: calls.length,
        prompt: calls.reduce((s, e) => s + e.payload.input_tokens, 0),
        completion: calls.reduce((s, e) => s + e.payload.output_tokens, 0),
        roles: roles.size,
        models: [...new Set(calls.map((e) => e.payload.model))].sort(),
        cost: cost?.payload.value,
        rateLimitLines,
      }, folder).toEqual({ lines: row.lines, calls: row.calls, prompt: row.prompt, completion: row.completion, roles: row.roles, models: MODELS[row.model], cost: row.cost, rateLimitLines: row.rateLimitLines })
    }
  })

  it('ChatDev: one execution start, handoff and collaboration per phase; one decision per Seminar Conclusion; calls attributed', () => {
    for (const run of chatdev) {
      const parsed = parseChatDevLog(readFileSync(ROOT + run.file, 'utf8'), run.file)
      const count = (t: AgentEvent['event_type']) => run.events.filter((e) => e.event_type === t).length
      expect(count('agent_handoff'), run.file).toBe(parsed.phases.length)
      expect(count('agent_collaboration'), run.file).toBe(parsed.phases.length)
      expect(count('agent_execution_started'), run.file).toBe(parsed.items.filter((i) => i.kind === 'start_chat').length)
      expect(count('agent_decision'), run.file).toBe(parsed.items.filter((i) => i.kind === 'seminar_conclusion').length)
      expect(count('conversation_turn'), run.file).toBe(parsed.items.filter((i) => i.kind === 'utterance').length)
      expect(ofType(run.events, 'llm_call_completed').every((e) => e.source_agent !== null), run.file).toBe(true)
    }
  })

  it('Who&When: a turn per message, a handoff per (-> X) role, a tool event per terminal message, labels on the mistake step', () => {
    for (const run of whoAndWhen) {
      const doc = JSON.parse(readFileSync(ROOT + run.file, 'utf8')) as { history: Array<{ role: string; name?: string }>; mistake_step: string | number }
      const turns = ofType(run.events, 'conversation_turn')
      expect(turns.length, run.file).toBe(doc.history.length)
      const terminals = doc.history.filter((m) => ['ComputerTerminal', 'Computer_terminal'].includes(m.name ?? m.role)).length
      expect(ofType(run.events, 'tool_usage_completed').length, run.file).toBe(terminals)
      if (run.file.includes('Hand-Crafted')) {
        expect(ofType(run.events, 'agent_handoff').length, run.file).toBe(doc.history.filter((m) => m.role.includes('(->')).length)
      }
      const labelled = run.events.filter((e) => e.attributes['auren.label.mistake_step'] !== undefined)
      expect(labelled.length, run.file).toBeGreaterThan(0)
      expect(new Set(labelled.map((e) => e.attributes['auren.replay.entry'])), run.file).toEqual(new Set([String(Number(doc.mistake_step))]))
    }
    // README totals are for all 20 files; the files present are a subset.
    const hand = whoAndWhen.filter((r) => r.file.includes('Hand-Crafted'))
    const algo = whoAndWhen.filter((r) => r.file.includes('Algorithm-Generated'))
    expect(hand.reduce((s, r) => s + ofType(r.events, 'conversation_turn').length, 0)).toBeLessThanOrEqual(298)
    expect(algo.reduce((s, r) => s + ofType(r.events, 'conversation_turn').length, 0)).toBeLessThanOrEqual(83)
  })
})
