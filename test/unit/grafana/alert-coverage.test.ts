/**
 * Every Prometheus alert rule's expression appears in at least one dashboard panel, so an SRE can
 * see what pages them. The rule files are every YAML file under prometheus/ in Prometheus'
 * rule-file format (top-level `groups`); the panels are those of the generated dashboards
 * (grafana/dashboards/*.json).
 *
 * Checked rule (grafana/src/alert-coverage.ts): each alert's `expr` is split at its top-level
 * `and` / `or` / `unless` into comparisons `<measured> <op> <number>`; each comparison is covered
 * when one panel has a query that contains the measured side and a threshold step whose value is
 * the number. Containment is on canonical PromQL: whitespace removed, label matchers that use a
 * dashboard variable (`$…`) dropped, the other matchers sorted. The panel queries the measured
 * side without the comparison, so it shows a value whether or not the alert fires (the proof
 * test, test/integration/grafana-dashboards.test.ts, runs it on a live pipeline).
 */
import { readFileSync, readdirSync } from 'node:fs'
import { join, relative } from 'node:path'
import { parse } from 'yaml'
import { describe, expect, it } from 'vitest'
import { alertRules, canonical, clauses, coverage, type AlertRule, type PanelView } from '../../../grafana/src/alert-coverage.ts'

const root = join(import.meta.dirname, '../../..')

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name)
    if (e.isDirectory()) return yamlFiles(p)
    return /\.ya?ml$/.test(e.name) ? [p] : []
  })
}

const rules: AlertRule[] = yamlFiles(join(root, 'prometheus'))
  .map((f) => ({ f, doc: parse(readFileSync(f, 'utf8')) as unknown }))
  .filter(({ doc }) => doc !== null && typeof doc === 'object' && Array.isArray((doc as { groups?: unknown }).groups))
  .flatMap(({ f, doc }) => alertRules(doc, relative(root, f)))

/** The parts of a generated dashboard the check reads. */
interface DashboardFile {
  title: string
  panels?: Array<{ title?: string; targets?: Array<{ expr?: string }>; fieldConfig?: { defaults?: { thresholds?: { steps?: Array<{ value: number | null }> } } } }>
}

const dashDir = join(root, 'grafana/dashboards')
const panels: PanelView[] = readdirSync(dashDir).filter((f) => f.endsWith('.json')).flatMap((f) => {
  const d = JSON.parse(readFileSync(join(dashDir, f), 'utf8')) as DashboardFile
  return (d.panels ?? []).map((p) => ({
    dashboard: d.title,
    title: p.title ?? '',
    queries: (p.targets ?? []).flatMap((t) => (typeof t.expr === 'string' ? [t.expr] : [])),
    steps: (p.fieldConfig?.defaults?.thresholds?.steps ?? []).flatMap((s) => (s.value === null ? [] : [s.value])),
  }))
})

describe('every Prometheus alert rule is shown on a dashboard with its threshold', () => {
  it('the rule files hold alert rules', () => {
    expect(rules.length).toBeGreaterThanOrEqual(10)
    expect(rules.map((r) => r.alert)).toContain('AurenProcessorDown')
  })

  it('every comparison of every alert has a panel with its measured side and its threshold', () => {
    const all = coverage(rules, panels)
    const missing = all.filter((c) => c.panels.length === 0).map((c) => `${c.alert}: ${c.clause.measured} ${c.clause.op} ${c.clause.threshold}`)
    expect(missing, `alert comparisons without a panel:\n${missing.join('\n')}`).toEqual([])
    // every alert of the files was looked at
    expect(new Set(all.map((c) => c.alert))).toEqual(new Set(rules.map((r) => r.alert)))
  })

  it('splits an expression into its comparisons at top-level and / or, not inside selectors or parentheses', () => {
    const rule = { alert: 'X', source: 't', expr: 'sum by (a) (rate(m{reason!="or"}[5m])) > 0 and ratio:x:rate5m >= 20\n or y{tier="critical"} > 1' }
    expect(clauses(rule)).toEqual([
      { measured: 'sum by (a) (rate(m{reason!="or"}[5m]))', op: '>', threshold: 0 },
      { measured: 'ratio:x:rate5m', op: '>=', threshold: 20 },
      { measured: 'y{tier="critical"}', op: '>', threshold: 1 },
    ])
    expect(() => clauses({ alert: 'Y', source: 't', expr: 'absent(up{job="x"})' })).toThrow(/Y .*not <measured> <op> <number>/)
  })

  it('canonical PromQL drops only the dashboard-variable matchers', () => {
    expect(canonical('up{instance=~"$instance", job="auren"}')).toBe('up{job="auren"}')
    expect(canonical('rate(x{agent=~"${agent:regex}"}[5m])')).toBe('rate(x[5m])')
    expect(canonical('m{b="2", a="1"}')).toBe('m{a="1",b="2"}')
  })

  it('a panel without the threshold, with another filter, or with another measure does not cover', () => {
    const rule: AlertRule = { alert: 'Lag', source: 't', expr: 'lag:sum{tier="critical"} > 1000' }
    const panel = (queries: string[], steps: number[]): PanelView => ({ dashboard: 'D', title: 'P', queries, steps })
    expect(coverage([rule], [panel(['lag:sum{tier="critical", processor=~"$processor"}'], [1000])])[0]!.panels).toEqual(['D / P'])
    expect(coverage([rule], [panel(['lag:sum{tier="critical"}'], [100])])[0]!.panels).toEqual([])
    expect(coverage([rule], [panel(['lag:sum{tier="critical", processor="enrichment"}'], [1000])])[0]!.panels).toEqual([])
    expect(coverage([rule], [panel(['lag:max{tier="critical"}'], [1000])])[0]!.panels).toEqual([])
  })
})
