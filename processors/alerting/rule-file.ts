/**
 * Reads a stream rule file (YAML, or JSON which is YAML too) and validates it
 * (rule-schema.ts). Every problem is returned: YAML syntax errors with their line, then the
 * schema errors with their path. Default file: `prometheus/auren-stream-rules.yml`.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseDocument } from 'yaml'
import { validateRuleFile, type RuleFileResult } from './rule-schema.ts'

/** The shipped rule file (repo path prometheus/auren-stream-rules.yml). */
export const DEFAULT_RULE_FILE = join(import.meta.dirname, '..', '..', 'prometheus', 'auren-stream-rules.yml')

/** Parses and validates rule-file text; `name` prefixes the messages. */
export function parseRuleText(text: string, name: string): RuleFileResult {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true })
  if (doc.errors.length > 0) {
    return { ok: false, errors: doc.errors.map((e) => `${name}: ${e.message.split('\n')[0]}`) }
  }
  const result = validateRuleFile(doc.toJS())
  return result.ok ? result : { ok: false, errors: result.errors.map((e) => `${name}: ${e}`) }
}

/** Reads and validates a rule file; an unreadable file is one error. */
export function loadRuleFile(path: string): RuleFileResult {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    return { ok: false, errors: [`${path}: cannot read: ${(err as Error).message}`] }
  }
  return parseRuleText(text, path)
}
