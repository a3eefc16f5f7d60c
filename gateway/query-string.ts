/**
 * Strict query-string parsing and the text rule of every value that reaches PostgreSQL (pure).
 *
 * fastify's default parser (fast-querystring) keeps a malformed percent-escape as literal text
 * (`%FF`, `%C0%80`, `%ZZ` arrive as those three characters), and lets a NUL byte through, which
 * PostgreSQL refuses in `text` (SQLSTATE 22021) — a 500 where the caller sent a bad value. This
 * parser decodes with `decodeURIComponent`, which refuses any byte sequence that is not UTF-8
 * (RFC 3629: stray continuation bytes, overlong forms such as `%C0%80`, UTF-16 surrogates
 * `%ED%A0%80`, code points past U+10FFFF) and records each refusal instead of throwing; the
 * app's `preValidation` hook turns the problems into one 400 naming the parameters
 * ({@link queryProblems}).
 *
 * Shapes are fast-querystring's: `a=1&a=2` gives `{ a: ['1', '2'] }`, `a` gives `{ a: '' }`, `+` is a
 * space; the route's JSON Schema then refuses arrays where one value is expected.
 */

/** Why a parameter's name or value was refused. */
export interface QueryProblem {
  /** The parameter's name as decoded, or its raw text when the name itself did not decode. */
  readonly name: string
  readonly reason: string
}

/** A parsed query: plain values, plus the problems found (kept off the enumerable keys). */
export type ParsedQuery = Record<string, string | string[]>

const PROBLEMS = Symbol('auren.query.problems')

/** C0 controls and DEL: no parameter of the API holds one, and PostgreSQL `text` cannot hold NUL. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/
/** A UTF-16 surrogate without its partner (JSON and JS strings can hold one; UTF-8 cannot). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/** Most characters of a parameter name (names of the API are short; longer is refused). */
export const MAX_NAME_CHARS = 64

/**
 * The reason a decoded text may not be used as a query value, or null when it may.
 * Refused: a NUL byte or any other control character (U+0000–U+001F, U+007F), named by its code
 * point; a lone UTF-16 surrogate (cannot be encoded as UTF-8 for PostgreSQL).
 * @param text a decoded value (or a JWT claim: auth.ts applies the same rule to `sub`)
 */
export function textProblem(text: string): string | null {
  const m = CONTROL.exec(text)
  if (m) {
    const cp = m[0].codePointAt(0)!
    return `must not contain ${cp === 0 ? 'a NUL byte' : 'a control character'} (U+${cp.toString(16).toUpperCase().padStart(4, '0')} at character ${m.index + 1})`
  }
  if (LONE_SURROGATE.test(text)) return 'must be valid UTF-8 text (it holds an unpaired UTF-16 surrogate)'
  return null
}

function decode(part: string): string | null {
  try {
    return decodeURIComponent(part.replace(/\+/g, ' '))
  } catch {
    return null
  }
}

/**
 * Parses a raw query string (without `?`) strictly.
 * @returns the values by name; problems are read with {@link queryProblems}
 */
export function parseQueryString(raw: string): ParsedQuery {
  const out: ParsedQuery = {}
  const problems: QueryProblem[] = []
  for (const piece of raw.split('&')) {
    if (piece === '') continue
    const eq = piece.indexOf('=')
    const rawName = eq < 0 ? piece : piece.slice(0, eq)
    const rawValue = eq < 0 ? '' : piece.slice(eq + 1)
    const name = decode(rawName)
    if (name === null || textProblem(name) !== null || name.length > MAX_NAME_CHARS) {
      const shown = (name ?? rawName).slice(0, MAX_NAME_CHARS)
      problems.push({ name: JSON.stringify(shown).slice(1, -1), reason: name === null ? 'has a name that is not percent-encoded UTF-8' : name.length > MAX_NAME_CHARS ? `has a name longer than ${MAX_NAME_CHARS} characters` : `has a name that ${textProblem(name)!}` })
      continue
    }
    const value = decode(rawValue)
    if (value === null) {
      problems.push({ name, reason: 'is not percent-encoded UTF-8 (a byte sequence that is not UTF-8, an overlong form, a surrogate, or a bad % escape)' })
      continue
    }
    const bad = textProblem(value)
    if (bad !== null) {
      problems.push({ name, reason: bad })
      continue
    }
    // Own-property writes only: a name like __proto__ becomes a plain (unknown) parameter.
    const prev = Object.prototype.hasOwnProperty.call(out, name) ? out[name] : undefined
    const next = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value]
    Object.defineProperty(out, name, { value: next, enumerable: true, writable: true, configurable: true })
  }
  Object.defineProperty(out, PROBLEMS, { value: problems, enumerable: false })
  return out
}

/** The problems {@link parseQueryString} recorded on a query object (empty for any other object). */
export function queryProblems(query: unknown): readonly QueryProblem[] {
  if (typeof query !== 'object' || query === null) return []
  return ((query as Record<symbol, unknown>)[PROBLEMS] as QueryProblem[] | undefined) ?? []
}

/** One sentence per problem, e.g. `query parameter 'agent_id' must not contain a NUL byte (U+0000 at character 1)`. */
export function describeQueryProblems(problems: readonly QueryProblem[]): string {
  return problems.map((p) => `query parameter '${p.name}' ${p.reason}`).join('; ')
}
