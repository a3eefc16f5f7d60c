import { readFileSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Schema } from 'avsc'
import type { RootSchemaName } from './avro-options.ts'

const generatedDir = join(dirname(fileURLToPath(import.meta.url)), 'generated')

/**
 * The self-contained Avro schema registered for a topic family, read from
 * `schemas/generated/<name>.avsc.json` (produced by `npm run gen:schemas`).
 * @throws Error when the generated file is missing (run `npm run gen:schemas`).
 */
export function loadSchema(name: RootSchemaName): Schema {
  return JSON.parse(readFileSync(join(generatedDir, `${name}.avsc.json`), 'utf8')) as Schema
}
