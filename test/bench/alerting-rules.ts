/**
 * The rule set the alerting benchmarks evaluate: the shipped stream rules
 * (prometheus/auren-stream-rules.yml) plus 50 extra rules — count, ratio, latency p95 and budget
 * rules over every agent, agent and model, user and model, with windows of 1 min to 1 h and
 * different thresholds — as a rule file the alerting app reads (JSON, which is YAML too).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { parse } from 'yaml'
import { DEFAULT_RULE_FILE } from '../../processors/alerting/rule-file.ts'

/** Number of extra rules beside the shipped ones. */
export const EXTRA_RULES = 50

/** Rule specs (rule-file form) of the `n` extra rules. */
export function extraRuleSpecs(n = EXTRA_RULES): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => {
    const window = ['1m', '5m', '15m', '1h'][i % 4]
    const group = [['agent'], ['agent', 'model'], ['user'], ['model']][i % 4]
    const kinds = [
      { kind: 'count', window, threshold: 5 + i },
      { kind: 'ratio', window, numerator: { success: false }, threshold: 0.01 + i / 1000, min_sample: 10 },
      { kind: 'latency', window, statistic: 'p95', threshold_ms: 1000 + 100 * i, min_sample: 10 },
      { kind: 'budget', window, measure: i % 2 ? 'usd' : 'tokens', budget: 10 + i, warn_at: 0.8 },
    ]
    return { id: `extra-${i}`, severity: 'info', group_by: group, selector: i % 3 ? { event_types: ['llm_call_completed'] } : {}, condition: kinds[i % 4], for: '1m', keep_firing_for: '1m', annotations: { summary: 'x' } }
  })
}

/** Rule-file content (`{ rules: [...] }`) of the shipped rules plus the extra ones. */
export function benchRuleFile(n = EXTRA_RULES): { rules: unknown[] } {
  const shipped = parse(readFileSync(DEFAULT_RULE_FILE, 'utf8')) as { rules: unknown[] }
  return { rules: [...shipped.rules, ...extraRuleSpecs(n)] }
}

/** Writes {@link benchRuleFile} to `path` (JSON); returns the number of rules. */
export function writeBenchRuleFile(path: string, n = EXTRA_RULES): number {
  const file = benchRuleFile(n)
  writeFileSync(path, `${JSON.stringify(file, null, 1)}\n`)
  return file.rules.length
}
