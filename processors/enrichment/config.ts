/**
 * Enrichment's own configuration (STYLE.md principle 4): read once from `AUREN_ENRICHMENT_*`
 * environment variables, every error reported at once, frozen. The shared base (brokers, group
 * id, registry URL, metrics port) is the runtime's and is parsed there.
 *
 * The schema below is keyed by environment variable, so a zod issue path *is* the variable to
 * fix; every field carries its description, unit and default (see {@link describeEnrichmentConfig},
 * which the README's config table and `--help` render).
 */
import { z } from 'zod'
import { defineEnvConfig, type ConfigRow } from '../runtime/ops/env-config.ts'
import { AGENT_EVENT_TYPES, type AgentEventType, type Tier } from '../../schemas/index.ts'
import { normalizeName } from './catalog.ts'

/** Critical-tier rules that can be switched off one by one (tiering.ts). */
export const CRITICAL_RULES = ['failure', 'unhealthy', 'error', 'anomaly'] as const
/** One of CRITICAL_RULES. */
export type CriticalRule = (typeof CRITICAL_RULES)[number]

const TIERS: readonly Tier[] = ['critical', 'operational', 'analytical']

/** Parses `a=1,b=2` into entries; adds one issue per malformed item. */
function keyValues(raw: string, ctx: z.RefinementCtx): [string, string][] {
  const out: [string, string][] = []
  for (const item of raw.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const eq = item.indexOf('=')
    if (eq <= 0 || eq === item.length - 1) ctx.addIssue({ code: 'custom', message: `'${item}' is not key=value` })
    else out.push([item.slice(0, eq).trim(), item.slice(eq + 1).trim()])
  }
  return out
}

const tierOverrides = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    const out: Partial<Record<AgentEventType, Tier>> = {}
    for (const [type, tier] of keyValues(raw ?? '', ctx)) {
      if (!(AGENT_EVENT_TYPES as readonly string[]).includes(type)) ctx.addIssue({ code: 'custom', message: `unknown event_type '${type}'` })
      else if (!TIERS.includes(tier as Tier)) ctx.addIssue({ code: 'custom', message: `tier of ${type} must be one of ${TIERS.join('|')}, got '${tier}'` })
      else out[type as AgentEventType] = tier as Tier
    }
    return out
  })

const criticalRules = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (raw === undefined) return [...CRITICAL_RULES]
    const names = raw.split(',').map((s) => s.trim()).filter((s) => s !== '' && s !== 'none')
    for (const n of names) {
      if (!(CRITICAL_RULES as readonly string[]).includes(n)) ctx.addIssue({ code: 'custom', message: `unknown rule '${n}' (known: ${CRITICAL_RULES.join(', ')}, or 'none')` })
    }
    return [...new Set(names)] as CriticalRule[]
  })

const pricedTools = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    const out: Record<string, number> = {}
    for (const [tool, price] of keyValues(raw ?? '', ctx)) {
      const usd = Number(price)
      if (price === '' || !Number.isFinite(usd) || usd < 0) ctx.addIssue({ code: 'custom', message: `price of ${tool} must be a USD amount >= 0, got '${price}'` })
      else out[normalizeName(tool)] = usd
    }
    return out
  })

const count = (def: number) => z.coerce.number().int().min(1).max(1e9).default(def)

const fields = {
  AUREN_ENRICHMENT_DEDUP_MAX_ENTRIES: count(100_000).meta({
    unit: 'entries',
    description: 'Most event ids the dedup window remembers; the oldest is evicted beyond it. About 200 B each (20 MB at the default).',
  }),
  AUREN_ENRICHMENT_DEDUP_MAX_AGE_MS: count(3_600_000).meta({
    unit: 'ms',
    description: 'How long (processing time) an event id stays in the dedup window.',
  }),
  AUREN_ENRICHMENT_MAX_FUTURE_SKEW_MS: z.coerce.number().int().min(0).max(1e12).default(86_400_000).meta({
    unit: 'ms',
    description: 'Events timestamped further than this ahead of the processing clock are dead-lettered.',
  }),
  AUREN_ENRICHMENT_CATALOG_PATH: z.string().optional().meta({
    unit: 'path',
    description: 'JSON agent/tool catalogue (catalog.ts); unset = the bundled catalog.default.json.',
  }),
  AUREN_ENRICHMENT_TIER_OVERRIDES: tierOverrides.meta({
    unit: 'event_type=tier,...',
    description: 'Default tier per event type, replacing the built-in one; critical rules still escalate.',
  }),
  AUREN_ENRICHMENT_CRITICAL_RULES: criticalRules.meta({
    unit: 'rule,... | none',
    description: `Rules that escalate an event to critical: ${CRITICAL_RULES.join(', ')} (default: all).`,
  }),
  AUREN_ENRICHMENT_LLM_MEDIUM_TOKENS: count(1_000).meta({
    unit: 'tokens',
    description: 'LLM calls with at least this many input tokens are "medium" complexity.',
  }),
  AUREN_ENRICHMENT_LLM_COMPLEX_TOKENS: count(4_096).meta({
    unit: 'tokens',
    description: 'LLM calls with at least this many input tokens are "complex".',
  }),
  AUREN_ENRICHMENT_TOOL_MEDIUM_BYTES: count(1_024).meta({
    unit: 'bytes',
    description: 'Tool calls with at least this many input bytes are "medium" complexity.',
  }),
  AUREN_ENRICHMENT_TOOL_COMPLEX_BYTES: count(16_384).meta({
    unit: 'bytes',
    description: 'Tool calls with at least this many input bytes are "complex".',
  }),
  AUREN_ENRICHMENT_PRICED_TOOLS: pricedTools.meta({
    unit: 'tool=USD,...',
    description: 'Price per call of paid tools (tool_usage_completed); empty by default.',
  }),
}

/** Enrichment configuration, compiled: durations in ms, lists parsed, deeply frozen. */
export interface EnrichmentConfig {
  readonly dedupMaxEntries: number
  readonly dedupMaxAgeMs: number
  readonly maxFutureSkewMs: number
  /** null: the bundled catalog.default.json. */
  readonly catalogPath: string | null
  readonly tierOverrides: Readonly<Partial<Record<AgentEventType, Tier>>>
  readonly criticalRules: readonly CriticalRule[]
  /** Lower bounds (inclusive) of "medium" and "complex" (complexity.ts). */
  readonly complexity: {
    readonly llmTokens: { readonly medium: number; readonly complex: number }
    readonly toolBytes: { readonly medium: number; readonly complex: number }
  }
  /** Normalized tool name → USD per call. */
  readonly pricedTools: Readonly<Record<string, number>>
}

/** The enrichment configuration ({@link defineEnvConfig}; `AUREN_ENRICHMENT_*` typos are errors). */
export const ENRICHMENT_CONFIG = defineEnvConfig({
  name: 'enrichment',
  prefix: 'AUREN_ENRICHMENT_',
  fields,
  check: (v) => {
    const problems: string[] = []
    const below = (lo: keyof typeof fields, hi: keyof typeof fields) => {
      const a = v[lo]
      const b = v[hi]
      if (typeof a === 'number' && typeof b === 'number' && a >= b) problems.push(`${lo} must be < ${hi}`)
    }
    below('AUREN_ENRICHMENT_LLM_MEDIUM_TOKENS', 'AUREN_ENRICHMENT_LLM_COMPLEX_TOKENS')
    below('AUREN_ENRICHMENT_TOOL_MEDIUM_BYTES', 'AUREN_ENRICHMENT_TOOL_COMPLEX_BYTES')
    return problems
  },
  compile: (c): EnrichmentConfig => ({
    dedupMaxEntries: c.AUREN_ENRICHMENT_DEDUP_MAX_ENTRIES,
    dedupMaxAgeMs: c.AUREN_ENRICHMENT_DEDUP_MAX_AGE_MS,
    maxFutureSkewMs: c.AUREN_ENRICHMENT_MAX_FUTURE_SKEW_MS,
    catalogPath: c.AUREN_ENRICHMENT_CATALOG_PATH ?? null,
    tierOverrides: c.AUREN_ENRICHMENT_TIER_OVERRIDES,
    criticalRules: c.AUREN_ENRICHMENT_CRITICAL_RULES,
    complexity: {
      llmTokens: { medium: c.AUREN_ENRICHMENT_LLM_MEDIUM_TOKENS, complex: c.AUREN_ENRICHMENT_LLM_COMPLEX_TOKENS },
      toolBytes: { medium: c.AUREN_ENRICHMENT_TOOL_MEDIUM_BYTES, complex: c.AUREN_ENRICHMENT_TOOL_COMPLEX_BYTES },
    },
    pricedTools: c.AUREN_ENRICHMENT_PRICED_TOOLS,
  }),
})

/**
 * Parses the `AUREN_ENRICHMENT_*` variables of `env` (other variables are ignored; an unknown
 * variable with the prefix is an error, to catch typos). Empty strings count as unset.
 * @throws AurenError AUREN_ERR_CONFIG listing every problem, one per line, each naming its variable.
 */
export function parseEnrichmentConfig(env: Record<string, string | undefined>): EnrichmentConfig {
  return ENRICHMENT_CONFIG.parse(env)
}

/** The configuration with every default (no variables set). */
export const DEFAULT_ENRICHMENT_CONFIG: EnrichmentConfig = parseEnrichmentConfig({})

/** One row per variable: name, unit, default (as text) and description, for docs and `--help`. */
export function describeEnrichmentConfig(): ConfigRow[] {
  return ENRICHMENT_CONFIG.describe()
}
