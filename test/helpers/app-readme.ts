/**
 * The README contract of a processor app, as unit tests: a row for every configuration variable
 * with its default, exactly the registered metrics with their labels (none per user, trace or
 * event), and only existing repository paths.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import type { ConfigRow } from '../../processors/runtime/ops/env-config.ts'

/** Registers the tests for the app in `dir` (its README.md), its config rows and its metrics. */
export function appReadmeContract(name: string, dir: string, describeConfig: () => ConfigRow[], registerMetrics: (registry: Registry) => unknown): void {
  const readme = readFileSync(join(dir, 'README.md'), 'utf8')
  describe(`${name} README`, () => {
    it('has a row for every configuration variable, with its default', () => {
      for (const row of describeConfig()) expect(readme).toContain(`| \`${row.env}\` | ${row.unit} | ${row.default} |`)
    })

    it('documents exactly the registered metrics, with their labels; none is per user, trace or event', async () => {
      const registry = new Registry()
      registerMetrics(registry)
      const registered = (await registry.getMetricsAsJSON()) as unknown as { name: string; type: string }[]
      const documented = [...readme.matchAll(/^\| `(auren_[a-z_]+)` \| (counter|gauge|histogram) \| ([a-z_, ]*) \|/gm)]
      expect(documented.map((m) => m[1]).sort()).toEqual(registered.map((m) => m.name).sort())
      for (const m of documented) {
        const metric = registry.getSingleMetric(m[1]!) as unknown as { labelNames: string[]; type?: string }
        expect(metric.labelNames.join(', '), m[1]).toBe(m[3]!.trim())
        expect(metric.labelNames.some((l) => /user|trace|event/.test(l))).toBe(false)
      }
    })

    it('names only existing repository paths', () => {
      for (const m of readme.matchAll(/`((?:io\/|migrations\/)?[a-z0-9./_-]+\.(?:ts|sql|md))`/g)) {
        const p = m[1]!
        const candidates = [join(dir, p), join(dir, '../..', p)]
        expect(candidates.some((c) => existsSync(c)), p).toBe(true)
      }
    })
  })
}
