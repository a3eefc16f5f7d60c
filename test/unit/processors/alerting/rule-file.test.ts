/**
 * The stream rule file: the shipped file is valid; a file with errors lists every one of them
 * with its path, and the check command exits 2 on it.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DEFAULT_RULE_FILE, loadRuleFile, parseRuleText } from '../../../../processors/alerting/rule-file.ts'

const BAD = `
rules:
  - id: Bad Id
    severity: urgent
    condition: { kind: count, window: 5 min, threshold: 0 }
    annotations: { summary: 'x {{ labels.agent }} {{ nope }}' }
  - id: dup
    severity: warning
    condition: { kind: ratio, window: 5m, numerator: { success: false }, threshold: 5, min_sample: 20 }
    annotations: { summary: ok }
  - id: dup
    severity: info
    selector: { event_types: [no_such_event] }
    condition: { kind: event }
    annotations: { summary: ok }
  - id: lonely
    severity: info
    group_by: [agent, agent]
    labels: { severity: high }
    condition: { kind: window_sum, field: errors, window: 1h, threshold: 10 }
    annotations: { summary: '{{ labels.agent }}' }
  - id: lone-event
    severity: info
    condition: { kind: event }
    annotations: { summary: ok }
`

describe('stream rule file', () => {
  it('the shipped file is valid and holds the seed rules', () => {
    const r = loadRuleFile(DEFAULT_RULE_FILE)
    expect(r.ok, r.ok ? '' : r.errors.join('\n')).toBe(true)
    if (!r.ok) return
    expect(r.rules.map((x) => x.id)).toEqual(expect.arrayContaining(['agent-rate-limited', 'llm-error-rate-high', 'llm-latency-p95-high', 'agent-latency-average-high', 'agent-errors-per-hour', 'events-rate-drop', 'user-llm-budget-hourly', 'system-unhealthy', 'biometric-anomaly', 'agent-silent', 'stream-silent']))
  })

  it('gives every shipped rule a summary, a description and a runbook section in prometheus/runbooks.md', () => {
    const r = loadRuleFile(DEFAULT_RULE_FILE)
    if (!r.ok) throw new Error(r.errors.join('\n'))
    const runbooks = readFileSync(join(import.meta.dirname, '..', '..', '..', '..', 'prometheus', 'runbooks.md'), 'utf8')
    const sections = new Set([...runbooks.matchAll(/^### (\S+)$/gm)].map((m) => m[1]!))
    for (const rule of r.rules) {
      expect(rule.annotations.description, rule.id).not.toBe('')
      expect(rule.annotations.runbook_url, rule.id).toBe(`prometheus/runbooks.md#${rule.id}`)
      expect(sections.has(rule.id), `runbooks.md section ### ${rule.id}`).toBe(true)
    }
  })

  it('lists every error of a bad file, each with its path', () => {
    const r = parseRuleText(BAD, 'bad.yml')
    expect(r.ok).toBe(false)
    if (r.ok) return
    const expected = [
      /rules\[0\]\.id: must be lower-case/,
      /rules\[0\]\.severity: Invalid option/,
      /rules\[0\]\.condition\.window: not a duration/,
      /rules\[0\]\.condition\.threshold: Too small/,
      /rules\[0\]\.annotations\.summary: \{\{ labels\.agent \}\} names a label that is neither in group_by nor in labels/,
      /rules\[0\]\.annotations\.summary: unknown placeholder \{\{ nope \}\}/,
      /rules\[1\]\.condition\.threshold: Too big/,
      /rules\[2\]\.id: duplicate id "dup" \(also rules\[1\]\)/,
      /rules\[2\]\.selector\.event_types\[0\]: Invalid option/,
      /rules\[4\]\.keep_firing_for: an event rule needs keep_firing_for > 0/,
      /rules\[3\]\.labels\.severity: set by the engine/,
      /rules\[3\]\.group_by: a label is listed twice/,
    ]
    for (const re of expected) expect(r.errors.some((e) => re.test(e)), `${re} in\n${r.errors.join('\n')}`).toBe(true)
    expect(r.errors.every((e) => e.startsWith('bad.yml: '))).toBe(true)
  })

  it('reports YAML syntax errors and an empty file', () => {
    const syntax = parseRuleText('rules:\n  - id: a\n   severity: [', 'x.yml')
    expect(syntax.ok).toBe(false)
    expect(parseRuleText('', 'empty.yml')).toMatchObject({ ok: false, errors: ['empty.yml: (file): Invalid input: expected object, received null'] })
  })

  it('the check command exits 2 on a bad file, listing every error, and 0 on the shipped file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'auren-rules-'))
    try {
      const file = join(dir, 'bad.yml')
      writeFileSync(file, BAD)
      const cli = join(import.meta.dirname, '..', '..', '..', '..', 'processors', 'alerting', 'check-rules.ts')
      const bad = spawnSync(process.execPath, ['--import', 'tsx', cli, file], { encoding: 'utf8' })
      expect(bad.status).toBe(2)
      expect(bad.stderr).toMatch(/invalid stream rule file .*bad\.yml \(1[0-9] errors\)/)
      expect(bad.stderr.split('\n').filter((l) => l.startsWith('  - ')).length).toBeGreaterThanOrEqual(13)
      const good = spawnSync(process.execPath, ['--import', 'tsx', cli], { encoding: 'utf8' })
      expect(good.status, good.stderr).toBe(0)
      // The app itself refuses to start on it, before it connects to anything.
      const main = join(import.meta.dirname, '..', '..', '..', '..', 'processors', 'alerting', 'main.ts')
      const app = spawnSync(process.execPath, ['--import', 'tsx', main], { encoding: 'utf8', env: { ...process.env, AUREN_ALERTING_RULES_FILE: file } })
      expect(app.status).toBe(2)
      expect(app.stderr).toMatch(/rules\[2\]\.id: duplicate id "dup"/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000)
})
