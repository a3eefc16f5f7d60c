import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { describeEnrichmentConfig } from '../../../../processors/enrichment/config.ts'
import { createEnrichmentMetrics } from '../../../../processors/enrichment/metrics.ts'

const readme = readFileSync(join(import.meta.dirname, '../../../../processors/enrichment/README.md'), 'utf8')

describe('enrichment README (STYLE.md principle 7: every metric and setting documented)', () => {
  it('has a row for every configuration variable, with its default', () => {
    for (const row of describeEnrichmentConfig()) {
      expect(readme).toContain(`| \`${row.env}\` | ${row.unit.replace(/\|/g, '\\|')} | ${row.default} |`)
    }
  })

  it('has a row for every domain metric, and the registry has every metric of the table', async () => {
    const registry = new Registry()
    createEnrichmentMetrics(registry)
    const registered = (await registry.getMetricsAsJSON()).map((m) => m.name).sort()
    const documented = [...readme.matchAll(/^\| `(auren_enrichment_[a-z_]+)` \|/gm)].map((m) => m[1]).sort()
    expect(documented).toEqual(registered)
  })

  it('creates the metrics once per registry', () => {
    const registry = new Registry()
    expect(createEnrichmentMetrics(registry)).toBe(createEnrichmentMetrics(registry))
    expect(createEnrichmentMetrics(new Registry())).not.toBe(createEnrichmentMetrics(registry))
  })
})
