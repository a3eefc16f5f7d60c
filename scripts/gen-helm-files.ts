/**
 * Copies the repository files the Helm chart ships into `helm/auren/files/` (Helm's `.Files` reads
 * only inside the chart directory): the Prometheus rules `prometheus/rules/*.yml` →
 * `files/prometheus-rules/` (the PrometheusRule), the alerting app's stream rules
 * `prometheus/auren-stream-rules.yml` → `files/auren-stream-rules.yml` (its ConfigMap) and the
 * Grafana dashboards `grafana/dashboards/*.json` → `files/dashboards/` (one ConfigMap each).
 *
 * Usage: `npx tsx scripts/gen-helm-files.ts` writes the copies and removes files under
 * `helm/auren/files/` that no source gives; `--check` writes nothing and exits 1 listing every
 * copy that differs from its source, is missing, or has no source (the drift check run by
 * `npm test`).
 */
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { syncGeneratedFiles } from './lib/generated-files.ts'

const root = join(import.meta.dirname, '..')
const filesDir = 'helm/auren/files'

/** Every file of a folder whose name ends with `ext`, sorted. */
function listed(dir: string, ext: string): string[] {
  return readdirSync(join(root, dir)).filter((f) => f.endsWith(ext)).sort()
}

/** Copy path (repo-relative) → source path (repo-relative). */
const copies = new Map<string, string>([
  ...listed('prometheus/rules', '.yml').map((f): [string, string] => [`${filesDir}/prometheus-rules/${f}`, `prometheus/rules/${f}`]),
  [`${filesDir}/auren-stream-rules.yml`, 'prometheus/auren-stream-rules.yml'],
  ...listed('grafana/dashboards', '.json').map((f): [string, string] => [`${filesDir}/dashboards/${f}`, `grafana/dashboards/${f}`]),
])

syncGeneratedFiles({
  root,
  files: new Map([...copies].map(([copy, source]) => [copy, readFileSync(join(root, source))])),
  ownedDir: filesDir,
  check: process.argv.includes('--check'),
  what: 'the Helm chart\'s copies',
  regenerate: 'npx tsx scripts/gen-helm-files.ts',
})
