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
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'

const root = join(import.meta.dirname, '..')
const check = process.argv.includes('--check')
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

/** Every file under `dir` (absolute), repo-relative. */
function walk(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [relative(root, join(dir, e.name))]))
}

const drifted: string[] = []
for (const [copy, source] of copies) {
  const content = readFileSync(join(root, source))
  const abs = join(root, copy)
  const current = existsSync(abs) ? readFileSync(abs) : null
  if (current !== null && current.equals(content)) continue
  if (check) drifted.push(`${copy} (${current === null ? 'missing, the copy of' : 'differs from'} ${source})`)
  else {
    mkdirSync(dirname(abs), { recursive: true })
    writeFileSync(abs, content)
  }
}
for (const rel of walk(join(root, filesDir))) {
  if (copies.has(rel)) continue
  if (check) drifted.push(`${rel} (no source gives it)`)
  else rmSync(join(root, rel))
}
if (check && drifted.length > 0) {
  console.error(`the Helm chart's copies are out of date; run \`npx tsx scripts/gen-helm-files.ts\`:\n  ${drifted.join('\n  ')}`)
  process.exit(1)
}
console.log(check ? 'the Helm chart\'s copies are up to date' : `wrote ${copies.size} files under ${filesDir}/`)
