/**
 * Writes the Grafana dashboards built in `grafana/src/` (@grafana/grafana-foundation-sdk) to
 * `grafana/dashboards/*.json`, and the JSON Schema they are validated against to
 * `grafana/schema/dashboard.schema.json`.
 *
 * Usage: `tsx scripts/gen-dashboards.ts` writes the files; `--check` writes nothing and exits 1
 * when a committed file differs from what the sources give, or a generated dashboard file is
 * not produced by any module (the drift check run by `npm test`).
 */
import { join } from 'node:path'
import { dashboardFiles, dashboardSchemaFile } from '../grafana/src/generate.ts'
import { syncGeneratedFiles } from './lib/generated-files.ts'

syncGeneratedFiles({
  root: join(import.meta.dirname, '..'),
  files: new Map([...dashboardFiles(), ...dashboardSchemaFile()]),
  ownedDir: 'grafana/dashboards',
  check: process.argv.includes('--check'),
  what: 'generated Grafana files',
  regenerate: 'npm run gen:dashboards',
})
