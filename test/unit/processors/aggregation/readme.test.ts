import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Registry } from 'prom-client'
import { AGGREGATION_METRICS_CONTRACT } from '../../../helpers/metric-contract.ts'
import { describe, expect, it } from 'vitest'
import { describeAggregationConfig } from '../../../../processors/aggregation/config.ts'
import { createAggregationMetrics } from '../../../../processors/aggregation/metrics.ts'
import { createSignalMetrics } from '../../../../processors/aggregation/signal-metrics.ts'
import { ROLLUP_TABLES, STATE_TABLES } from '../../../../schemas/rollup-tables.ts'

const dir = join(import.meta.dirname, '../../../../processors/aggregation')
const readme = readFileSync(join(dir, 'README.md'), 'utf8')

const CONTRACT = AGGREGATION_METRICS_CONTRACT

describe('aggregation README and contracts', () => {
  it('has a row for every configuration variable, with its default', () => {
    for (const row of describeAggregationConfig()) expect(readme).toContain(`| \`${row.env}\` | ${row.unit} | ${row.default} |`)
  })

  it('registers every contract metric with the contract labels, and documents exactly the registered ones', async () => {
    const registry = new Registry()
    createAggregationMetrics(registry)
    createSignalMetrics(registry)
    const registered = (await registry.getMetricsAsJSON()) as unknown as { name: string }[]
    for (const [name, labels] of Object.entries(CONTRACT)) {
      const metric = registry.getSingleMetric(name) as unknown as { labelNames: string[] } | undefined
      expect(metric, name).toBeDefined()
      expect(metric!.labelNames).toEqual(labels)
    }
    const documented = [...readme.matchAll(/^\| `(auren_[a-z_]+)` \| (counter|gauge|histogram) \|/gm)].map((m) => m[1]).sort()
    expect(documented).toEqual(registered.map((m) => m.name).sort())
    for (const m of registered) expect(readme).toContain(`| \`${m.name}\``)
  })

  it('no metric has a user, trace or event label', async () => {
    const registry = new Registry()
    createAggregationMetrics(registry)
    createSignalMetrics(registry)
    const names = ((await registry.getMetricsAsJSON()) as unknown as { name: string }[]).map((m) => m.name)
    for (const name of names) {
      const labels = (registry.getSingleMetric(name) as unknown as { labelNames: string[] }).labelNames
      expect(labels.some((l) => /user|trace|event/.test(l))).toBe(false)
    }
  })

  it('names every rollup table of the contract (schemas/rollup-tables.ts); the migrations are checked against it in test/integration/rollup-tables-contract.test.ts', () => {
    for (const spec of [...Object.values(ROLLUP_TABLES), ...Object.values(STATE_TABLES)]) expect(readme).toContain(`\`${spec.table}\``)
  })
})
