/**
 * The generated dashboards as Grafana loads them: ≥ 10 dashboards, each valid against the JSON
 * Schema of the SDK's Dashboard type (ajv), every datasource uid provisioned, every panel with a
 * question for a title, a description and queries, PromQL scoped by the `instance` variable
 * (recording-rule series, summed over instances, excepted).
 * The drift check (`npm run check:dashboards`) proves the JSON is what grafana/src gives.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { Ajv } from 'ajv'
import { parse } from 'yaml'
import { describe, expect, it } from 'vitest'
import { panelQueries, interpolate, type DashboardJson } from '../../../grafana/src/panel-queries.ts'
import { POSTGRES, PROMETHEUS } from '../../../grafana/src/datasources.ts'
import { measuredCount, rangeTotal } from '../../../grafana/src/queries.ts'

const root = join(import.meta.dirname, '../../..')
const dir = join(root, 'grafana/dashboards')
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
const dashboards = files.map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as DashboardJson & Record<string, unknown>)
const schema = JSON.parse(readFileSync(join(root, 'grafana/schema/dashboard.schema.json'), 'utf8')) as Record<string, unknown>
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema)
const provisioned = parse(readFileSync(join(root, 'grafana/provisioning/datasources/auren.yaml'), 'utf8')) as { datasources: Array<{ uid: string; type: string }> }

describe('generated Grafana dashboards', () => {
  it('there are at least 10, with unique uids matching their file names', () => {
    expect(dashboards.length).toBeGreaterThanOrEqual(10)
    expect(new Set(dashboards.map((d) => d.uid)).size).toBe(dashboards.length)
    for (const [i, d] of dashboards.entries()) expect(`${d.uid}.json`).toBe(files[i])
  })

  it.each(files)('%s validates against the SDK Dashboard schema', (f) => {
    const d = dashboards[files.indexOf(f)]
    const ok = validate(d)
    expect(ok, JSON.stringify(validate.errors?.slice(0, 5))).toBe(true)
  })

  it('the schema rejects a panel without its type and a dashboard with a wrong-typed title', () => {
    const broken = structuredClone(dashboards[0]!) as unknown as { panels: Array<Record<string, unknown>>; title: unknown }
    delete broken.panels[0]!.type
    expect(validate(broken)).toBe(false)
    const badTitle = { ...structuredClone(dashboards[0]!), title: 42 }
    expect(validate(badTitle)).toBe(false)
  })

  it('every datasource uid in panels, targets and variables is a provisioned datasource of the same type', () => {
    const byUid = new Map(provisioned.datasources.map((d) => [d.uid, d.type]))
    expect(byUid.get(PROMETHEUS.uid!)).toBe(PROMETHEUS.type)
    expect(byUid.get(POSTGRES.uid!)).toBe(POSTGRES.type)
    const refs: Array<{ where: string; uid?: string; type?: string }> = []
    for (const d of dashboards) {
      for (const v of d.templating?.list ?? []) refs.push({ where: `${d.title} $${v.name}`, ...(v.datasource as { uid?: string; type?: string }) })
      for (const p of d.panels ?? []) {
        refs.push({ where: `${d.title} / ${p.title}`, ...p.datasource })
        for (const t of p.targets ?? []) refs.push({ where: `${d.title} / ${p.title} ${t.refId}`, ...t.datasource })
      }
    }
    for (const r of refs) {
      expect(byUid.has(r.uid ?? ''), `${r.where}: uid ${r.uid}`).toBe(true)
      expect(byUid.get(r.uid ?? ''), `${r.where}: type`).toBe(r.type)
    }
  })

  it('every panel asks a question, says how its figure is computed, and has queries; PromQL is scoped by $instance', () => {
    for (const d of dashboards) {
      for (const p of d.panels ?? []) {
        const where = `${d.title} / ${p.title}`
        expect(p.title ?? '', where).not.toBe('')
        expect(((p as { description?: string }).description ?? '').length, where).toBeGreaterThan(20)
        expect((p.targets ?? []).length, where).toBeGreaterThan(0)
      }
      for (const q of panelQueries(d)) {
        if (q.kind !== 'prometheus') continue
        // Recording-rule series (`level:metric:operations`, prometheus/rules/auren-recording.yml)
        // are summed over instances and carry no instance label: they are not scoped.
        for (const m of q.text.matchAll(/(?<![\w:])(auren_[a-z_]+|up)(?![\w:])(\{[^}]*\})?/g)) {
          expect(m[2] ?? '', `${q.dashboard} / ${q.panel}: ${m[0]}`).toContain('instance=~"$instance"')
        }
      }
    }
  })

  it('no figure over the range is an increase() or rate() over [$__range], which drops counter series born inside the range', () => {
    // increase(x[$__range]) cannot count a series' first sample: after a fast replay the counter
    // series is born already holding its whole count and the figure reads 0 (issue 12: the token
    // economics stat showed 0 failed attempts for 471). Totals come from the rollups or from
    // rangeTotal() (grafana/src/queries.ts).
    const offenders: string[] = []
    for (const d of dashboards) {
      for (const q of panelQueries(d)) {
        if (q.kind === 'prometheus' && /\b(increase|rate|irate)\s*\([^()]*\[\$__range\]/.test(q.text)) offenders.push(`${q.dashboard} / ${q.panel} [${q.refId}]: ${q.text}`)
      }
    }
    expect(offenders, offenders.join('\n')).toEqual([])
  })

  it('a range total is now minus $__range ago per series, or the whole value of a series born inside the range; a rollup count is null when nothing was processed', () => {
    expect(rangeTotal('x{a="1"}', ['b'])).toBe('sum by (b) ((x{a="1"} - x{a="1"} offset $__range) or x{a="1"})')
    expect(rangeTotal('x')).toBe('sum ((x - x offset $__range) or x)')
    expect(measuredCount('agg_llm_failure_window', 'attempts')).toMatch(/^CASE WHEN EXISTS \(SELECT 1 FROM agg_event_window WHERE .*\) THEN \(SELECT coalesce\(sum\(attempts\), 0\) FROM agg_llm_failure_window WHERE .*\) END$/)
  })

  it('interpolates macros and variables as Grafana does, unknown variables as All', () => {
    const text = 'rate(x{instance=~"$instance", agent=~"$agent"}[$__rate_interval]) $__range ${user:regex} $__unixEpochFrom() $__unixEpochTo()'
    expect(interpolate(text, { variables: { instance: 'a|b' }, rateInterval: '1m', range: '600s', fromS: 10.7, toS: 20.2 }))
      .toBe('rate(x{instance=~"a|b", agent=~".*"}[1m]) 600s .* 10 21')
  })
})
