/**
 * Stream alert rules as data: the schema of the rule file (`prometheus/auren-stream-rules.yml`),
 * its validation (every error listed with its path, never only the first) and the compiled form
 * the engine evaluates (durations in ms, defaults filled in).
 *
 * A rule: `id`, `severity` (critical | warning | info), `selector` (which events count), `group_by`
 * (the grouping labels: one alert per distinct value combination), `condition` (one of the kinds
 * below), `for` (pending before firing), `keep_firing_for` (firing after the condition cleared),
 * `labels` and templated `annotations` (`summary`, `description`, `runbook_url`; placeholders
 * `{{ labels.<name> }}`, `{{ value }}`, `{{ threshold }}`, `{{ window }}`).
 *
 * Condition kinds (all over event time):
 * - `event`: a matching event fires at once (the value is 1);
 * - `count`: matching events in the window ≥ `threshold`;
 * - `ratio`: events matching `numerator` over the events matching the selector, in the window,
 *   > `threshold`, once the denominator has ≥ `min_sample` events;
 * - `latency`: `statistic` (p50, p95, p99 from the mergeable histograms of
 *   schemas/latency-histogram.ts, or mean) of the events' latency in ms > `threshold_ms`, once
 *   ≥ `min_sample` events;
 * - `budget`: USD (`cost_usd`) or tokens (input + output) in the window ≥ `warn_at` × `budget`;
 * - `window_sum`: a field of the AgentMetricsWindow records (auren.agent-metrics.v1) of the agent,
 *   summed over the windows that end inside the window, ≥ `threshold`;
 * - `absence`: a group that sent a matching event sends none for `after`;
 * - `baseline`: matching events per second over the last `window` < (1 − `drop`) × the rate of
 *   the `baseline_window` before it, once the baseline had ≥ `min_baseline_events` events.
 */
import { z } from 'zod'
import { AGENT_EVENT_TYPES } from '../../schemas/index.ts'
import { parseDurationMs } from './duration.ts'

/** Labels an alert can be grouped by, and where each comes from in an enriched event. */
export const GROUP_LABELS = ['agent', 'model', 'user', 'event_type', 'tier', 'source', 'component', 'metric', 'error_type'] as const
/** A grouping label. */
export type GroupLabel = (typeof GROUP_LABELS)[number]

/** Fields of AgentMetricsWindow a `window_sum` rule can add up. */
export const WINDOW_FIELDS = ['errors', 'llm_calls_failed', 'executions_failed', 'cost_usd', 'input_tokens', 'output_tokens', 'tool_calls'] as const
/** A summable AgentMetricsWindow field. */
export type WindowField = (typeof WINDOW_FIELDS)[number]

const duration = z.string().refine((s) => parseDurationMs(s) !== null, { message: 'not a duration (e.g. 30s, 5m, 1h)' })
const positiveDuration = z.string().refine((s) => (parseDurationMs(s) ?? 0) > 0, { message: 'not a duration longer than 0 (e.g. 30s, 5m, 1h)' })
const nonEmptyStrings = z.array(z.string().min(1)).min(1)

const selectorSchema = z.strictObject({
  event_types: z.array(z.enum(AGENT_EVENT_TYPES)).min(1).optional(),
  agents: nonEmptyStrings.optional(),
  models: nonEmptyStrings.optional(),
  users: nonEmptyStrings.optional(),
  tiers: z.array(z.enum(['critical', 'operational', 'analytical'])).min(1).optional(),
  sources: nonEmptyStrings.optional(),
  error_types: nonEmptyStrings.optional(),
  success: z.boolean().optional(),
  health_status: z.array(z.enum(['healthy', 'degraded', 'unhealthy'])).min(1).optional(),
  anomaly: z.boolean().optional(),
})
/** Which events a rule (or a ratio's numerator) counts; every given field must match. */
export type Selector = z.output<typeof selectorSchema>

const windowed = { window: positiveDuration, window_type: z.enum(['sliding', 'tumbling']).default('sliding') }

const conditionSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('event') }),
  z.strictObject({ kind: z.literal('count'), ...windowed, threshold: z.number().int().positive() }),
  z.strictObject({ kind: z.literal('ratio'), ...windowed, numerator: selectorSchema, threshold: z.number().gt(0).lt(1), min_sample: z.number().int().positive() }),
  z.strictObject({ kind: z.literal('latency'), ...windowed, statistic: z.enum(['p50', 'p95', 'p99', 'mean']), threshold_ms: z.number().positive(), min_sample: z.number().int().positive() }),
  z.strictObject({ kind: z.literal('budget'), ...windowed, measure: z.enum(['usd', 'tokens']), budget: z.number().positive(), warn_at: z.number().gt(0).max(1) }),
  z.strictObject({ kind: z.literal('window_sum'), ...windowed, field: z.enum(WINDOW_FIELDS), threshold: z.number().positive() }),
  z.strictObject({ kind: z.literal('absence'), after: positiveDuration }),
  z.strictObject({ kind: z.literal('baseline'), window: positiveDuration, baseline_window: positiveDuration, drop: z.number().gt(0).lt(1), min_baseline_events: z.number().int().positive() }),
])

const ruleSchema = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/, { message: 'must be lower-case letters, digits, - or _, starting with a letter (at most 64)' }),
  severity: z.enum(['critical', 'warning', 'info']),
  selector: selectorSchema.default({}),
  group_by: z.array(z.enum(GROUP_LABELS)).default([]),
  condition: conditionSchema,
  for: duration.default('0s'),
  keep_firing_for: duration.default('0s'),
  labels: z.record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/), z.string()).default({}),
  annotations: z.strictObject({ summary: z.string().min(1), description: z.string().default(''), runbook_url: z.string().min(1).optional() }),
})

const fileSchema = z.strictObject({ rules: z.array(z.unknown()).min(1) })

/** A rule as written in the file, after defaults. */
export type RuleSpec = z.output<typeof ruleSchema>
/** A condition as written in the file, after defaults. */
export type ConditionSpec = z.output<typeof conditionSchema>

/** A compiled rule: durations in ms. */
export interface Rule extends Omit<RuleSpec, 'for' | 'keep_firing_for' | 'condition'> {
  /** Pending time before firing, ms. */
  forMs: number
  /** Time an alert keeps firing after its condition cleared, ms. */
  keepFiringForMs: number
  /** The condition with its durations in ms (`windowMs`, `afterMs`, `baselineWindowMs`). */
  condition: CompiledCondition
}

/** A condition with durations in ms. */
export type CompiledCondition =
  | { kind: 'event' }
  | { kind: 'count'; windowMs: number; tumbling: boolean; threshold: number }
  | { kind: 'ratio'; windowMs: number; tumbling: boolean; numerator: Selector; threshold: number; minSample: number }
  | { kind: 'latency'; windowMs: number; tumbling: boolean; statistic: 'p50' | 'p95' | 'p99' | 'mean'; thresholdMs: number; minSample: number }
  | { kind: 'budget'; windowMs: number; tumbling: boolean; measure: 'usd' | 'tokens'; budget: number; warnAt: number }
  | { kind: 'window_sum'; windowMs: number; tumbling: boolean; field: WindowField; threshold: number }
  | { kind: 'absence'; afterMs: number }
  | { kind: 'baseline'; windowMs: number; baselineWindowMs: number; drop: number; minBaselineEvents: number }

/** The result of validating a rule file: the rules, or every error found. */
export type RuleFileResult = { ok: true; rules: Rule[] } | { ok: false; errors: string[] }

function pathOf(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`
  return out === '' ? '(file)' : out
}

function compileCondition(c: ConditionSpec): CompiledCondition {
  const ms = (s: string) => parseDurationMs(s)!
  switch (c.kind) {
    case 'event':
      return { kind: 'event' }
    case 'count':
      return { kind: 'count', windowMs: ms(c.window), tumbling: c.window_type === 'tumbling', threshold: c.threshold }
    case 'ratio':
      return { kind: 'ratio', windowMs: ms(c.window), tumbling: c.window_type === 'tumbling', numerator: c.numerator, threshold: c.threshold, minSample: c.min_sample }
    case 'latency':
      return { kind: 'latency', windowMs: ms(c.window), tumbling: c.window_type === 'tumbling', statistic: c.statistic, thresholdMs: c.threshold_ms, minSample: c.min_sample }
    case 'budget':
      return { kind: 'budget', windowMs: ms(c.window), tumbling: c.window_type === 'tumbling', measure: c.measure, budget: c.budget, warnAt: c.warn_at }
    case 'window_sum':
      return { kind: 'window_sum', windowMs: ms(c.window), tumbling: c.window_type === 'tumbling', field: c.field, threshold: c.threshold }
    case 'absence':
      return { kind: 'absence', afterMs: ms(c.after) }
    case 'baseline':
      return { kind: 'baseline', windowMs: ms(c.window), baselineWindowMs: ms(c.baseline_window), drop: c.drop, minBaselineEvents: c.min_baseline_events }
  }
}

const PLACEHOLDER = /\{\{\s*([^}]*?)\s*\}\}/g

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Checks of a rule's annotations and labels that need only its raw text, so they are reported
 * even when other fields of the rule are invalid.
 */
function checkRawRule(raw: unknown, at: string): string[] {
  if (!isRecord(raw)) return []
  const errors: string[] = []
  const groupBy = new Set(Array.isArray(raw.group_by) ? raw.group_by.filter((l): l is string => typeof l === 'string') : [])
  const labels = isRecord(raw.labels) ? raw.labels : {}
  const annotations = isRecord(raw.annotations) ? raw.annotations : {}
  for (const [name, text] of Object.entries(annotations)) {
    if (typeof text !== 'string') continue
    for (const m of text.matchAll(PLACEHOLDER)) {
      const expr = m[1]!
      const label = /^labels\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(expr)?.[1]
      if (label !== undefined) {
        if (!groupBy.has(label) && !(label in labels)) {
          errors.push(`${at}.annotations.${name}: {{ ${expr} }} names a label that is neither in group_by nor in labels`)
        }
      } else if (!['value', 'threshold', 'window'].includes(expr)) {
        errors.push(`${at}.annotations.${name}: unknown placeholder {{ ${expr} }} (use labels.<name>, value, threshold or window)`)
      }
    }
  }
  for (const reserved of ['alertname', 'severity', 'replay', ...groupBy]) {
    if (reserved in labels) errors.push(`${at}.labels.${reserved}: set by the engine, cannot be given`)
  }
  return errors
}

/** Semantic checks the schema cannot express; returns messages for rule `i`. */
function checkRule(rule: RuleSpec, at: string): string[] {
  const errors: string[] = []
  const groupBy = new Set(rule.group_by)
  if (groupBy.size !== rule.group_by.length) errors.push(`${at}.group_by: a label is listed twice`)
  if (rule.condition.kind === 'window_sum' && (rule.group_by.length !== 1 || rule.group_by[0] !== 'agent')) {
    errors.push(`${at}.group_by: a window_sum rule reads per-agent metric windows and must group by [agent] exactly`)
  }
  if (rule.condition.kind === 'window_sum' && Object.keys(rule.selector).some((k) => k !== 'agents')) {
    errors.push(`${at}.selector: a window_sum rule reads metric windows and can select by agents only`)
  }
  if (rule.condition.kind === 'event') {
    if (parseDurationMs(rule.for) !== 0) errors.push(`${at}.for: an event rule fires at once; for must be 0s`)
    if (parseDurationMs(rule.keep_firing_for) === 0) errors.push(`${at}.keep_firing_for: an event rule needs keep_firing_for > 0 (how long the alert lasts after the last matching event)`)
  }
  if (rule.condition.kind === 'baseline' && parseDurationMs(rule.condition.baseline_window)! < parseDurationMs(rule.condition.window)!) {
    errors.push(`${at}.condition.baseline_window: must be at least as long as window`)
  }
  return errors
}

/**
 * Validates a parsed rule file (the object YAML or JSON gave) and compiles its rules.
 * Every problem is reported, each with its path (e.g. `rules[2].condition.window: not a
 * duration`); ids must be unique.
 */
export function validateRuleFile(doc: unknown): RuleFileResult {
  const top = fileSchema.safeParse(doc)
  if (!top.success) return { ok: false, errors: top.error.issues.map((i) => `${pathOf('', i.path)}: ${i.message}`) }
  const errors: string[] = []
  const rules: Rule[] = []
  const seen = new Map<string, number>()
  top.data.rules.forEach((raw, i) => {
    const at = `rules[${i}]`
    const id = isRecord(raw) && typeof raw.id === 'string' ? raw.id : null
    if (id !== null) {
      const first = seen.get(id)
      if (first !== undefined) errors.push(`${at}.id: duplicate id "${id}" (also rules[${first}])`)
      else seen.set(id, i)
    }
    const rawProblems = checkRawRule(raw, at)
    errors.push(...rawProblems)
    const parsed = ruleSchema.safeParse(raw)
    if (!parsed.success) {
      for (const issue of parsed.error.issues) errors.push(`${pathOf(at, issue.path)}: ${issue.message}`)
      return
    }
    const spec = parsed.data
    const problems = checkRule(spec, at)
    errors.push(...problems)
    if (problems.length > 0 || rawProblems.length > 0) return
    const { for: forText, keep_firing_for: keepText, condition, ...rest } = spec
    rules.push({ ...rest, forMs: parseDurationMs(forText)!, keepFiringForMs: parseDurationMs(keepText)!, condition: compileCondition(condition) })
  })
  return errors.length > 0 ? { ok: false, errors } : { ok: true, rules }
}
