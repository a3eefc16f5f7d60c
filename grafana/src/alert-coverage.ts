/**
 * Does every Prometheus alert rule have a dashboard panel that shows what it pages on? Pure
 * functions over the parsed rule files (prometheus/rules/*.yml, Prometheus' `groups:` format)
 * and the generated dashboard JSON; test/unit/grafana/alert-coverage.test.ts applies them.
 *
 * The rule, precisely:
 * 1. An alert's `expr` is split at its top-level `and` / `or` / `unless` into clauses; each clause
 *    must be `<measured> <op> <number>` with op one of `>`, `>=`, `<`, `<=`, `==`, `!=`.
 * 2. A clause is covered by a panel when one query of the panel, canonicalized, contains the
 *    clause's measured side, canonicalized, and the panel's thresholds have a step whose value
 *    is the clause's number (the line where the alert's comparison flips).
 * 3. Canonical form: whitespace removed; in every `{…}` the matchers whose value references a
 *    dashboard variable (`$…`) are dropped and the rest sorted; `{}` left empty is removed.
 *    So `up{instance=~"$instance", job="auren"}` shows `up{job="auren"}`, and a panel may
 *    narrow the series by the dashboard's variables but by nothing else.
 * An alert is covered when every clause is covered (by the same or by different panels).
 */

/** An alert rule as written in a rule file. */
export interface AlertRule {
  alert: string
  expr: string
  /** Rule file (repo-relative) and group, for messages. */
  source: string
}

/** One comparison of an alert expression. */
export interface Clause {
  measured: string
  op: string
  threshold: number
}

/** A panel as the checker needs it. */
export interface PanelView {
  dashboard: string
  title: string
  queries: string[]
  /** Threshold step values (the base step, null, left out). */
  steps: number[]
}

/** Where a clause is shown, or why it is not. */
export interface ClauseCoverage {
  alert: string
  clause: Clause
  /** `dashboard / panel` of every covering panel. */
  panels: string[]
}

/** The alert rules of a parsed Prometheus rule file (`groups[].rules[]` with `alert`); recording rules are left out. */
export function alertRules(doc: unknown, file: string): AlertRule[] {
  const groups = (doc as { groups?: Array<{ name?: string; rules?: Array<{ alert?: string; expr?: unknown }> }> } | null)?.groups ?? []
  const out: AlertRule[] = []
  for (const g of groups) {
    for (const r of g.rules ?? []) {
      if (typeof r.alert === 'string') out.push({ alert: r.alert, expr: String(r.expr), source: `${file} (${g.name ?? '?'})` })
    }
  }
  return out
}

/** Splits `text` at top-level (outside parentheses, braces, brackets and strings) occurrences of the binary set operators. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = []
  let depth = 0
  let quote = ''
  let start = 0
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quote) {
      if (c === '\\') i++
      else if (c === quote) quote = ''
      continue
    }
    if (c === '"' || c === "'" || c === '`') quote = c
    else if ('({['.includes(c)) depth++
    else if (')}]'.includes(c)) depth--
    else if (depth === 0 && /\s/.test(c)) {
      const m = /^\s+(and|or|unless)\s+/.exec(text.slice(i))
      if (m) {
        parts.push(text.slice(start, i))
        i += m[0].length - 1
        start = i + 1
      }
    }
  }
  parts.push(text.slice(start))
  return parts.map((p) => p.trim()).filter((p) => p !== '')
}

const COMPARISON = /^([\s\S]*[^<>=!\s])\s*(>=|<=|==|!=|>|<)\s*(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)$/i

/**
 * The comparisons of an alert expression.
 * @throws Error when a clause is not `<measured> <op> <number>` (the checker cannot tell what to show)
 */
export function clauses(rule: AlertRule): Clause[] {
  return splitTopLevel(rule.expr.trim()).map((part) => {
    const m = COMPARISON.exec(part)
    if (!m) throw new Error(`${rule.alert} (${rule.source}): clause "${part}" is not <measured> <op> <number>`)
    return { measured: m[1]!.trim(), op: m[2]!, threshold: Number(m[3]) }
  })
}

/** Splits the inside of `{…}` at top-level commas (outside strings). */
function matchers(inner: string): string[] {
  const out: string[] = []
  let quote = ''
  let cur = ''
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i]!
    if (quote) {
      if (c === '\\') {
        cur += c + (inner[i + 1] ?? '')
        i++
        continue
      }
      if (c === quote) quote = ''
    } else if (c === '"' || c === "'" || c === '`') quote = c
    else if (c === ',') {
      out.push(cur)
      cur = ''
      continue
    }
    cur += c
  }
  if (cur !== '') out.push(cur)
  return out
}

/** The canonical form of a PromQL text (rule 3 above). */
export function canonical(promql: string): string {
  const text = promql.replace(/\s+/g, '')
  let out = ''
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (c === '"' || c === "'" || c === '`') {
      const end = closingQuote(text, i)
      out += text.slice(i, end + 1)
      i = end
      continue
    }
    if (c !== '{') {
      out += c
      continue
    }
    let j = i + 1
    while (j < text.length && text[j] !== '}') j = text[j] === '"' || text[j] === "'" || text[j] === '`' ? closingQuote(text, j) + 1 : j + 1
    const kept = matchers(text.slice(i + 1, j)).filter((m) => !m.includes('$')).sort()
    if (kept.length > 0) out += `{${kept.join(',')}}`
    i = j
  }
  return out
}

/** Index of the quote closing the string that opens at `start`. */
function closingQuote(text: string, start: number): number {
  const q = text[start]
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++
    else if (text[i] === q) return i
  }
  return text.length - 1
}

/** Every clause of every rule with the panels that cover it (an empty `panels` = not covered). */
export function coverage(rules: readonly AlertRule[], panels: readonly PanelView[]): ClauseCoverage[] {
  const views = panels.map((p) => ({ name: `${p.dashboard} / ${p.title}`, queries: p.queries.map(canonical), steps: p.steps }))
  const out: ClauseCoverage[] = []
  for (const rule of rules) {
    for (const clause of clauses(rule)) {
      const want = canonical(clause.measured)
      const covering = views.filter((v) => v.steps.includes(clause.threshold) && v.queries.some((q) => q.includes(want))).map((v) => v.name)
      out.push({ alert: rule.alert, clause, panels: covering })
    }
  }
  return out
}
