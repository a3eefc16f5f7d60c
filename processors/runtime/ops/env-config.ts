/**
 * One configuration mechanism for every app, processors and gateway alike (STYLE.md principle 4):
 * `defineEnvConfig({ name, prefix, fields, check, compile })` declares the environment variables
 * of an app as zod schemas keyed by variable name, each with `.meta({ unit, description })`.
 * `parse(env)` reads them once, reports EVERY problem at once (invalid, missing, and unknown
 * variables under the app's own prefix, to catch typos) in one AUREN_ERR_CONFIG error, and
 * returns the compiled value deeply frozen; `describe()` gives one row per variable for the
 * README configuration tables (tests compare them). Shared fragments (Kafka, HTTP, database)
 * are in config-fragments.ts.
 */
import type { z } from 'zod'
import { AurenError } from './errors.ts'

/** Fields of a configuration: environment variable name → zod schema of its (string) value. */
export type EnvFields = Record<string, z.ZodType>

/** Parsed values, keyed by variable name. */
export type EnvValues<F extends EnvFields> = { readonly [K in keyof F]: z.output<F[K]> }

/** One README row: variable, unit, default as text (`(required)`, `(unset)` or the value) and description. */
export interface ConfigRow {
  readonly env: string
  readonly unit: string
  readonly default: string
  readonly description: string
}

/** A declared configuration. */
export interface EnvConfig<F extends EnvFields, T> {
  /** The app's name, used in the error message. */
  readonly name: string
  readonly fields: F
  /**
   * Parses `env` (values trimmed; empty strings count as unset; variables of other apps ignored).
   * @throws AurenError AUREN_ERR_CONFIG `invalid <name> configuration:` and one line per problem,
   *   each starting with the variable to fix
   */
  parse(env: Record<string, string | undefined>): T
  /** One row per variable, in declaration order. */
  describe(): ConfigRow[]
}

/** What {@link defineEnvConfig} takes. */
export interface EnvConfigSpec<F extends EnvFields, T> {
  readonly name: string
  /**
   * The app's own prefixes (e.g. `AUREN_ENRICHMENT_`): a variable under one that is not a field
   * is reported as unknown. Variables under shared prefixes (`AUREN_S3_`, `AUREN_`) are not listed here.
   */
  readonly prefix?: string | readonly string[]
  readonly fields: F
  /**
   * Cross-field rules, run even when other fields failed: gets the values that parsed and the
   * names of the variables set; returns one sentence per problem.
   */
  readonly check?: (values: Partial<EnvValues<F>>, set: ReadonlySet<string>) => string[]
  /** Builds the app's config shape from the values (then deeply frozen). */
  readonly compile: (values: EnvValues<F>) => T
}

/** Freezes `value` and everything reachable from it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const v of Object.values(value)) deepFreeze(v)
  }
  return value
}

/** `.meta()` of a schema or of the schema it wraps (optional, default, pipe). */
function metaOf(schema: z.ZodType): { unit?: string; description?: string } {
  let s: z.ZodType | undefined = schema
  for (let depth = 0; s && depth < 8; depth++) {
    const meta = s.meta() as { unit?: string; description?: string } | undefined
    if (meta && (meta.unit !== undefined || meta.description !== undefined)) return meta
    const def = s.def as { innerType?: z.ZodType; in?: z.ZodType }
    s = def.innerType ?? def.in
  }
  return {}
}

/** Default of a field as README text: the default value, `(unset)` when optional, else `(required)`. */
function defaultText(schema: z.ZodType): string {
  for (let s: z.ZodType | undefined = schema; s; s = (s.def as { in?: z.ZodType }).in) {
    if (s.def.type === 'default') return String((s.def as unknown as { defaultValue: unknown }).defaultValue)
  }
  return schema.safeParse(undefined).success ? '(unset)' : '(required)'
}

/** Declares an app's configuration; see the module comment. */
export function defineEnvConfig<F extends EnvFields, T>(spec: EnvConfigSpec<F, T>): EnvConfig<F, T> {
  const prefixes = spec.prefix === undefined ? [] : typeof spec.prefix === 'string' ? [spec.prefix] : spec.prefix
  const names = Object.keys(spec.fields)
  const known = new Set(names)
  return Object.freeze({
    name: spec.name,
    fields: spec.fields,
    parse(env: Record<string, string | undefined>): T {
      const raw: Record<string, string> = {}
      const problems: string[] = []
      for (const [name, value] of Object.entries(env)) {
        if (known.has(name)) {
          if (value !== undefined && value.trim() !== '') raw[name] = value.trim()
        } else if (prefixes.some((p) => name.startsWith(p))) {
          problems.push(`${name}: unknown variable (known: ${names.filter((n) => prefixes.some((p) => n.startsWith(p))).join(', ')})`)
        }
      }
      const values: Record<string, unknown> = {}
      for (const name of names) {
        const r = spec.fields[name]!.safeParse(raw[name])
        if (r.success) values[name] = r.data
        else problems.push(...r.error.issues.map((i) => `${name}: ${raw[name] === undefined && i.code === 'invalid_type' ? 'required, not set' : i.message}`))
      }
      if (spec.check) problems.push(...spec.check(values as Partial<EnvValues<F>>, new Set(Object.keys(raw))))
      if (problems.length > 0) throw new AurenError('AUREN_ERR_CONFIG', `invalid ${spec.name} configuration:\n  ${problems.join('\n  ')}`)
      return deepFreeze(spec.compile(values as EnvValues<F>))
    },
    describe(): ConfigRow[] {
      return names.map((env) => {
        const schema = spec.fields[env]!
        const meta = metaOf(schema)
        return { env, unit: meta.unit ?? '', default: defaultText(schema), description: meta.description ?? '' }
      })
    },
  })
}
