/**
 * The Prometheus rules (prometheus/rules/) pass `promtool check rules` and `promtool test rules`
 * (prometheus/rules-tests/), every alert has a firing and a silent case there, every alert
 * carries severity, summary, description and a runbook_url whose section exists in
 * prometheus/runbooks.md, and the stack's Prometheus has loaded them and sends to the
 * stack's Alertmanager.
 */
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { describe, expect, it } from 'vitest'
import { stackEnv } from '../helpers/stack.ts'
import { waitUntil } from '../helpers/wait-until.ts'

const REPO = join(import.meta.dirname, '..', '..')
const RULES_DIR = join(REPO, 'prometheus', 'rules')
const TESTS_DIR = join(REPO, 'prometheus', 'rules-tests')

interface RuleFile {
  groups: Array<{ name: string; rules: Array<{ alert?: string; record?: string; labels?: Record<string, string>; annotations?: Record<string, string> }> }>
}
interface RuleTestFile {
  tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }>
}

const ruleFiles = readdirSync(RULES_DIR).filter((f) => f.endsWith('.yml')).map((f) => join(RULES_DIR, f))
const testFiles = readdirSync(TESTS_DIR).filter((f) => f.endsWith('.test.yml')).map((f) => join(TESTS_DIR, f))
const alerts = ruleFiles.flatMap((f) => (parse(readFileSync(f, 'utf8')) as RuleFile).groups.flatMap((g) => g.rules.filter((r) => r.alert)))
const groupNames = ruleFiles.flatMap((f) => (parse(readFileSync(f, 'utf8')) as RuleFile).groups.map((g) => g.name))

function promtool(...args: string[]) {
  return spawnSync('promtool', args, { encoding: 'utf8', cwd: REPO })
}

describe('Prometheus rules', () => {
  it('pass promtool check rules', () => {
    const res = promtool('check', 'rules', ...ruleFiles)
    expect(res.status, res.stdout + res.stderr).toBe(0)
    expect(res.stdout).toMatch(/SUCCESS: 16 rules found/)
  })

  it('pass promtool test rules', () => {
    expect(testFiles.length).toBeGreaterThan(0)
    const res = promtool('test', 'rules', ...testFiles)
    expect(res.status, res.stdout + res.stderr).toBe(0)
    expect(res.stdout).toMatch(/SUCCESS/)
  })

  it('have a firing and a silent case for every alert', () => {
    const cases = testFiles.flatMap((f) => (parse(readFileSync(f, 'utf8')) as RuleTestFile).tests.flatMap((t) => t.alert_rule_test ?? []))
    for (const { alert } of alerts) {
      const mine = cases.filter((c) => c.alertname === alert)
      expect(mine.some((c) => c.exp_alerts.length > 0), `${alert}: a firing case`).toBe(true)
      expect(mine.some((c) => c.exp_alerts.length === 0), `${alert}: a silent case`).toBe(true)
    }
  })

  it('give every alert a severity, a summary, a description and a runbook section', () => {
    const runbooks = readFileSync(join(REPO, 'prometheus', 'runbooks.md'), 'utf8')
    const sections = new Set([...runbooks.matchAll(/^### (\S+)$/gm)].map((m) => m[1]!.toLowerCase()))
    expect(alerts.length).toBeGreaterThanOrEqual(14)
    for (const rule of alerts) {
      expect(['critical', 'warning', 'info'], `${rule.alert} severity`).toContain(rule.labels?.severity)
      expect(rule.annotations?.summary, `${rule.alert} summary`).toBeTruthy()
      expect(rule.annotations?.description, `${rule.alert} description`).toBeTruthy()
      const anchor = /^prometheus\/runbooks\.md#([a-z0-9]+)$/.exec(rule.annotations?.runbook_url ?? '')?.[1]
      expect(anchor, `${rule.alert} runbook_url`).toBe(rule.alert!.toLowerCase())
      expect(sections.has(anchor!), `${rule.alert}: section in runbooks.md`).toBe(true)
    }
  })

  it('are loaded by the stack\'s Prometheus, which sends its alerts to the stack\'s Alertmanager', async () => {
    const prom = stackEnv().prometheusUrl
    await waitUntil(`rule groups ${groupNames.join(', ')} loaded by ${prom}`, async () => {
      const res = (await (await fetch(`${prom}/api/v1/rules`)).json()) as { data: { groups: Array<{ name: string }> } }
      const loaded = new Set(res.data.groups.map((g) => g.name))
      return groupNames.every((g) => loaded.has(g))
    }, { timeoutMs: 15_000, everyMs: 200 })
    const am = (await (await fetch(`${prom}/api/v1/alertmanagers`)).json()) as { data: { activeAlertmanagers: Array<{ url: string }> } }
    expect(am.data.activeAlertmanagers.map((a) => a.url)).toContain(`${stackEnv().alertmanagerUrl}/api/v2/alerts`)
  })
})
