/**
 * Golden fixture cases (STYLE.md principle 14) stored as `<case>.input.json` →
 * `<case>.expected.json` in one folder, as the enrichment and aggregation transform tests use them.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/** Names of every case in `dir` (files ending in .input.json, without that ending), sorted. */
export function goldenCaseNames(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.input.json'))
    .map((f) => f.slice(0, -'.input.json'.length))
    .sort()
}

/**
 * Reads one case: its input (typed by the caller, not validated) and its expected output.
 * @throws Error when either file is missing or is not JSON
 */
export function readGoldenCase<Input>(dir: string, name: string): { input: Input; expected: unknown } {
  const input = JSON.parse(readFileSync(join(dir, `${name}.input.json`), 'utf8')) as Input
  const expected = JSON.parse(readFileSync(join(dir, `${name}.expected.json`), 'utf8')) as unknown
  return { input, expected }
}
