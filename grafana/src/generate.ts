/**
 * What `npm run gen:dashboards` writes, as data (no I/O): each dashboard's JSON under
 * `grafana/dashboards/<uid>.json` and the JSON Schema of the SDK's `Dashboard` type under
 * `grafana/schema/dashboard.schema.json` (ts-json-schema-generator on the SDK's declaration file;
 * the SDK ships no JSON schema, RECIPES.md item 6b).
 */
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { createGenerator } from 'ts-json-schema-generator'
import { buildDashboard } from './board.ts'
import { DASHBOARDS } from './index.ts'

/** Repo-relative path → file content. */
export type GeneratedFiles = Map<string, string>

const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`

/** The dashboard JSON files. */
export function dashboardFiles(): GeneratedFiles {
  const out: GeneratedFiles = new Map()
  for (const spec of DASHBOARDS) out.set(`grafana/dashboards/${spec.uid}.json`, json(buildDashboard(spec)))
  return out
}

/** Path of the SDK's dashboard type declarations. */
export function sdkDashboardTypesPath(): string {
  const require = createRequire(import.meta.url)
  const entry = require.resolve('@grafana/grafana-foundation-sdk/dashboard')
  return join(dirname(entry), 'types.gen.d.ts')
}

/**
 * The JSON Schema of the SDK's `Dashboard` type. The SDK's open `Dataquery` interface (a method
 * only) becomes `{type: object}`: queries are checked by the proof test against the real servers.
 */
export function dashboardSchemaFile(): GeneratedFiles {
  const schema = createGenerator({ path: sdkDashboardTypesPath(), type: 'Dashboard', skipTypeCheck: true, additionalProperties: true, expose: 'all' }).createSchema('Dashboard')
  const defs = (schema.definitions ?? {}) as Record<string, unknown>
  for (const name of Object.keys(defs)) if (/(^|\.)Dataquery$/.test(name)) defs[name] = { type: 'object' }
  return new Map([['grafana/schema/dashboard.schema.json', json(schema)]])
}
