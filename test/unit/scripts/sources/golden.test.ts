/**
 * Golden fixtures (STYLE.md principle 14): `test/fixtures/sources/<case>.input.txt` (ChatDev log
 * snippets; `.txt` because the repo ignores `*.log`) and `<case>.input.json` (Who&When) →
 * `<case>.expected.json`, a readable projection of the events. Regenerate after a deliberate
 * change with `UPDATE_GOLDEN=1 npx vitest run --project unit test/unit/scripts/sources`.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import type { AgentEvent } from '../../../../schemas/index.ts'
import { parseChatDevLog } from '../../../../scripts/sources/chatdev-log.ts'
import { chatDevRunToEvents } from '../../../../scripts/sources/chatdev-events.ts'
import { whoAndWhenToEvents } from '../../../../scripts/sources/who-and-when.ts'

const DIR = fileURLToPath(new URL('../../../fixtures/sources/', import.meta.url))

/** `2023-09-18T11:05:27.000003Z`: ISO time with the microseconds. */
export function isoMicros(us: number): string {
  const seconds = Math.floor(us / 1_000_000)
  return `${new Date(seconds * 1000).toISOString().slice(0, 19)}.${String(us - seconds * 1_000_000).padStart(6, '0')}Z`
}

function dropNulls(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null))
}

/** One line per event: what a reviewer checks by eye. Ids are left out (tested on their own). */
export function project(events: AgentEvent[]): unknown[] {
  const index = new Map(events.map((e, i) => [e.event_id, i]))
  return events.map((e) => {
    const { 'auren.replay.file': _file, ...attributes } = e.attributes
    return dropNulls({
      type: e.event_type,
      time: isoMicros(e.timestamp),
      source: e.source_agent?.id ?? null,
      target: e.target_agent?.id ?? null,
      parent: e.parent_event_id === null ? null : (index.get(e.parent_event_id) ?? 'outside'),
      payload: dropNulls(e.payload),
      performance: e.performance ? dropNulls(e.performance) : null,
      attributes,
    })
  })
}

function convert(name: string): unknown {
  if (name.endsWith('.txt')) {
    const stem = name.replace(/\.input\.txt$/, '')
    const run = parseChatDevLog(readFileSync(DIR + name, 'utf8'), `chatdev/WareHouse/${stem}/${stem}.log`)
    const conv = chatDevRunToEvents(run)
    return { traceId: conv.traceId, parseSkipped: run.skipped, eventSkipped: conv.skipped, events: project(conv.events) }
  }
  const stem = name.replace(/\.input\.json$/, '')
  const conv = whoAndWhenToEvents(JSON.parse(readFileSync(DIR + name, 'utf8')), `who-and-when/Fixtures/${stem}.json`)
  return { traceId: conv.traceId, format: conv.format, skipped: conv.skipped, events: project(conv.events) }
}

describe('golden fixtures of scripts/sources', () => {
  const inputs = readdirSync(DIR).filter((f) => /\.input\.(txt|json)$/.test(f)).sort()
  it('has fixtures', () => expect(inputs.length).toBeGreaterThanOrEqual(6))
  for (const name of inputs) {
    it(name, () => {
      const actual = convert(name)
      const expectedFile = DIR + name.replace(/\.input\.(txt|json)$/, '.expected.json')
      if (process.env.UPDATE_GOLDEN) writeFileSync(expectedFile, `${JSON.stringify(actual, null, 2)}\n`)
      expect(actual).toEqual(JSON.parse(readFileSync(expectedFile, 'utf8')))
    })
  }
})
