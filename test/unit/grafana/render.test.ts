/** The renderer's pure parts: query results to frames, frames to Vega-Lite specs that compile and draw. */
import { describe, expect, it } from 'vitest'
import * as vega from 'vega'
import { compile } from 'vega-lite'
import { legendOf, promFrame, seriesCount, sqlFrame, sqlSeriesFrame } from '../../../grafana/src/render/panel-data.ts'
import { panelSpec, statFigures } from '../../../grafana/src/render/panel-spec.ts'

describe('dashboard renderer', () => {
  it('formats Prometheus legends and drops NaN samples, so an all-NaN series draws nothing', () => {
    expect(legendOf('{{agent}} p95', { agent: 'sleep', model: 'x' })).toBe('sleep p95')
    expect(legendOf('__auto', { __name__: 'm', tier: 'critical' })).toBe('tier=critical')
    const f = promFrame('A', '{{tier}}', [
      { metric: { tier: 'a' }, values: [[1, '1'], [2, 'NaN']] },
      { metric: { tier: 'b' }, values: [[1, 'NaN']] },
    ])
    expect(f.rows).toEqual([{ series: 'a', time: 1000, value: 1, tier: 'a' }])
    expect(seriesCount(f)).toBe(1)
  })

  it('reports a stat\'s figures as drawn: each numeric SQL column (bigint text parsed), the last value of each Prometheus series; null left out', () => {
    const sql = sqlFrame('A', ['answered calls', 'failed attempts'], [{ 'answered calls': '364', 'failed attempts': '471' }])
    expect(statFigures([sql])).toEqual([{ label: 'answered calls', value: 364 }, { label: 'failed attempts', value: 471 }])
    expect(statFigures([sqlFrame('A', ['started'], [{ started: null }])])).toEqual([])
    const prom = promFrame('B', '{{processor}}', [{ metric: { processor: 'enrichment' }, values: [[1, '2'], [2, '3']] }])
    expect(statFigures([prom])).toEqual([{ label: 'enrichment', value: 3 }])
  })

  it('turns SQL time_series rows into one series per metric, numbers parsed from pg text', () => {
    const t = new Date('2026-01-01T00:00:00Z')
    const f = sqlSeriesFrame(sqlFrame('A', ['time', 'metric', 'USD'], [{ time: t, metric: 'x', USD: '0.5' }, { time: t, metric: 'y', USD: null }]))
    expect(f.rows).toEqual([{ series: 'x', time: t.getTime(), value: 0.5 }])
  })

  it.each(['timeseries', 'stat', 'table', 'barchart', 'heatmap', 'state-timeline', 'nodeGraph'])('a %s panel compiles and renders to SVG', async (type) => {
    const series = promFrame('A', '{{a}}', [{ metric: { a: 'one' }, values: [[1_700_000_000, '1'], [1_700_000_060, '2']] }])
    const frames = type === 'nodeGraph'
      ? [sqlFrame('A', ['id', 'title', 'mainstat'], [{ id: 'a', title: 'a', mainstat: '2' }, { id: 'b', title: 'b', mainstat: '1' }]), sqlFrame('B', ['id', 'source', 'target', 'mainstat'], [{ id: 'e', source: 'a', target: 'b', mainstat: '3' }])]
      : type === 'table' || type === 'barchart' ? [sqlFrame('A', ['tier', 'share'], [{ tier: 'redis', share: '0.5' }])] : [series]
    const svg = await new vega.View(vega.parse(compile(panelSpec({ type, title: 'Q?', unit: 'short' }, frames, 300, 150)).spec), { renderer: 'none' }).toSVG()
    expect(svg).toMatch(/^<svg/)
    expect(svg).toContain('Q?')
  })
})
