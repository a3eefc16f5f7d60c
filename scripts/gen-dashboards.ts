/**
 * Writes the Grafana dashboards built in `grafana/src/` (@grafana/grafana-foundation-sdk) to
 * `grafana/dashboards/*.json`, and the JSON Schema they are validated against to
 * `grafana/schema/dashboard.schema.json`.
 *
 * Usage: `tsx scripts/gen-dashboards.ts` writes the files; `--check` writes nothing and exits 1
 * when a committed file differs from what the sources give, or a generated dashboard file is
 * not produced by any module (the drift check run by `npm test`).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { dashboardFiles, dashboardSchemaFile } from '../grafana/src/generate.ts'

const root = join(import.meta.dirname, '..')
const check = process.argv.includes('--check')
const files = new Map([...dashboardFiles(), ...dashboardSchemaFile()])
const drifted: string[] = []
for (const [rel, content] of files) {
  const abs = join(root, rel)
  const current = existsSync(abs) ? readFileSync(abs, 'utf8') : null
  if (current === content) continue
  if (check) drifted.push(rel)
  else {
    mkdirSync(dirname(abs), { recursive: true })
    writeFileSync(abs, content)
  }
}
const dir = join(root, 'grafana/dashboards')
for (const f of existsSync(dir) ? readdirSync(dir) : []) {
  const rel = `grafana/dashboards/${f}`
  if (files.has(rel)) continue
  if (check) drifted.push(`${rel} (no module produces it)`)
  else rmSync(join(dir, f))
}
if (check && drifted.length > 0) {
  console.error(`generated Grafana files are out of date; run \`npm run gen:dashboards\`:\n  ${drifted.join('\n  ')}`)
  process.exit(1)
}
console.log(check ? 'generated Grafana files are up to date' : `wrote ${files.size} files under grafana/`)
