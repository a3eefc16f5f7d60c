/**
 * `node --import tsx processors/alerting/check-rules.ts [file]`: validates a stream rule file
 * (default prometheus/auren-stream-rules.yml), prints every error on stderr and exits 2 when
 * there is one, else prints the rule ids and exits 0. The alerting app runs the same check at
 * start.
 */
import { DEFAULT_RULE_FILE, loadRuleFile } from './rule-file.ts'

const file = process.argv[2] ?? DEFAULT_RULE_FILE
const result = loadRuleFile(file)
if (!result.ok) {
  process.stderr.write(`invalid stream rule file ${file} (${result.errors.length} errors):\n${result.errors.map((e) => `  - ${e}`).join('\n')}\n`)
  process.exit(2)
}
process.stdout.write(`${file}: ${result.rules.length} rules: ${result.rules.map((r) => r.id).join(', ')}\n`)
