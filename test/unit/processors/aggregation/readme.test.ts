import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Registry } from 'prom-client'
import { AGGREGATION_METRICS_CONTRACT } from '../../../helpers/metric-contract.ts'
import { describe, expect, it } from 'vitest'
import { describeAggregationConfig } from '../../../../processors/aggregation/config.ts'
import { createAggregationMetrics } from '../../../../processors/aggregation/metrics.ts'
import { createSignalMetrics } from '../../../../processors/aggregation/signal-metrics.ts'
import { ROLLUP_TABLES } from '../../../../processors/aggregation/rollup-delta.ts'

const dir = join(import.meta.dirname, '../../../../processors/aggregation')
const readme = readFileSync(join(dir, 'README.md'), 'utf8')
const migrationFiles = readdirSync(join(dir, 'migrations')).filter((f) => f.endsWith('.sql')).sort()
const migrations = migrationFiles.map((f) => readFileSync(join(dir, 'migrations', f), 'utf8').split('-- Down Migration')[0]!)
const migration = migrations.join('\n')

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

  it('every rollup table spec matches its migration: keys are the primary key, counters are columns', () => {
    for (const spec of Object.values(ROLLUP_TABLES)) {
      const created = new RegExp(`CREATE TABLE ${spec.table} \\(([\\s\\S]*?)\\n\\);`).exec(migration)?.[1]
      expect(created, spec.table).toBeDefined()
      expect(created).toContain(`PRIMARY KEY (${spec.keys.join(', ')})`)
      const altered = [...migration.matchAll(new RegExp(`ALTER TABLE ${spec.table}\\b([\\s\\S]*?);`, 'g'))].map((m) => m[1]).join('\n')
      const body = `${created}\n${altered}`
      for (const [c, kind] of Object.entries(spec.counters)) expect(body, `${spec.table}.${c}`).toMatch(new RegExp(`\\s${c}\\s+${kind === 'dec' ? 'numeric\\(38, 18\\)' : 'bigint'}\\s+NOT NULL DEFAULT 0`))
      expect(readme).toContain(`\`${spec.table}\``)
    }
  })
})
