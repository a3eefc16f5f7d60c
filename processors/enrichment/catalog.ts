/**
 * The agent and tool catalogue: agent id → domain and tool name → category, from a JSON file
 * (CONTRACTS.md section 3: `agent_domain` and `tool_category` come "from configuration").
 *
 * File shape (`catalog.default.json` is the bundled default):
 * ```json
 * {
 *   "agents": { "neuroscientist": "neuroscience", "programmer": "software" },
 *   "agent_patterns": [{ "pattern": "_expert$", "value": "research" }],
 *   "tools": { "update_codes": "code_write" },
 *   "tool_patterns": [{ "pattern": "^memory_", "value": "memory" }]
 * }
 * ```
 * Keys and patterns apply to the *normalized* name (see {@link normalizeName}), so the ChatDev
 * role "Chief Executive Officer", `chief-executive-officer` and `chief_executive_officer` are one
 * entry. An exact entry wins over patterns; patterns are tried in file order, first match wins.
 */
import { readFileSync } from 'node:fs'
import { z } from 'zod'
import type { AgentEvent } from '../../schemas/index.ts'
import defaultCatalogJson from './catalog.default.json' with { type: 'json' }

/** A compiled catalogue. Lookups are by normalized name. */
export interface Catalog {
  readonly agents: ReadonlyMap<string, string>
  readonly agentPatterns: readonly { readonly pattern: RegExp; readonly value: string }[]
  readonly tools: ReadonlyMap<string, string>
  readonly toolPatterns: readonly { readonly pattern: RegExp; readonly value: string }[]
}

/**
 * Lower-cases and turns every run of characters other than `a-z0-9` into one `_`, trimmed:
 * "CMD Execute" → `cmd_execute`, "WebSurfer" → `websurfer`, "Excel_Expert" → `excel_expert`.
 */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '')
}

const label = z.string().trim().min(1)
const patternList = z
  .array(z.object({ pattern: z.string().min(1), value: label }).strict())
  .default([])
const catalogFileSchema = z
  .object({
    $comment: z.string().optional(),
    agents: z.record(z.string(), label).default({}),
    agent_patterns: patternList,
    tools: z.record(z.string(), label).default({}),
    tool_patterns: patternList,
  })
  .strict()

/** Thrown when a catalogue file is unreadable or malformed; the message lists every problem. */
export class CatalogError extends Error {
  override readonly name = 'CatalogError'
}

function compilePatterns(list: { pattern: string; value: string }[], field: string, problems: string[]) {
  const out: { pattern: RegExp; value: string }[] = []
  list.forEach((entry, i) => {
    try {
      out.push(Object.freeze({ pattern: new RegExp(entry.pattern), value: entry.value }))
    } catch (err) {
      problems.push(`${field}[${i}].pattern is not a valid regular expression: ${(err as Error).message}`)
    }
  })
  return Object.freeze(out)
}

function normalizedMap(record: Record<string, string>): ReadonlyMap<string, string> {
  return new Map(Object.entries(record).map(([k, v]) => [normalizeName(k), v]))
}

/**
 * Validates and compiles a parsed catalogue file.
 * @throws CatalogError listing every problem (unknown keys, empty values, bad regular expressions).
 */
export function parseCatalog(json: unknown, origin = 'catalog'): Catalog {
  const parsed = catalogFileSchema.safeParse(json)
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    throw new CatalogError(`${origin} is invalid:\n  ${lines.join('\n  ')}`)
  }
  const problems: string[] = []
  const agentPatterns = compilePatterns(parsed.data.agent_patterns, 'agent_patterns', problems)
  const toolPatterns = compilePatterns(parsed.data.tool_patterns, 'tool_patterns', problems)
  if (problems.length > 0) throw new CatalogError(`${origin} is invalid:\n  ${problems.join('\n  ')}`)
  return Object.freeze({
    agents: normalizedMap(parsed.data.agents),
    agentPatterns,
    tools: normalizedMap(parsed.data.tools),
    toolPatterns,
  })
}

/** The bundled `catalog.default.json`, compiled. */
export const DEFAULT_CATALOG: Catalog = parseCatalog(defaultCatalogJson, 'catalog.default.json')

/**
 * Reads and compiles a catalogue file; `null` gives {@link DEFAULT_CATALOG}. Startup-time I/O,
 * called from the composition root (main.ts), never from the transform.
 * @throws CatalogError when the file cannot be read, is not JSON, or is malformed.
 */
export function loadCatalog(path: string | null, readFile: (p: string) => string = (p) => readFileSync(p, 'utf8')): Catalog {
  if (path === null) return DEFAULT_CATALOG
  let text: string
  try {
    text = readFile(path)
  } catch (err) {
    throw new CatalogError(`cannot read catalog file ${path}: ${(err as Error).message}`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw new CatalogError(`catalog file ${path} is not JSON: ${(err as Error).message}`)
  }
  return parseCatalog(json, path)
}

function lookup(name: string, exact: ReadonlyMap<string, string>, patterns: Catalog['agentPatterns']): string | null {
  const key = normalizeName(name)
  if (key === '') return null
  const hit = exact.get(key)
  if (hit !== undefined) return hit
  for (const { pattern, value } of patterns) if (pattern.test(key)) return value
  return null
}

/**
 * Domain of the event's source agent: the event's own `source_agent.domain` when non-empty (the
 * producer knows best), else the catalogue entry for `source_agent.id`, else for
 * `source_agent.role`; null when there is no source agent or no entry matches.
 */
export function agentDomain(event: AgentEvent, catalog: Catalog): string | null {
  const agent = event.source_agent
  if (!agent) return null
  if (agent.domain !== null && agent.domain.trim() !== '') return agent.domain
  return lookup(agent.id, catalog.agents, catalog.agentPatterns) ?? lookup(agent.role, catalog.agents, catalog.agentPatterns)
}

/** Category of the tool for `tool_usage_*` events; null for other events or unknown tools. */
export function toolCategory(event: AgentEvent, catalog: Catalog): string | null {
  if (event.event_type !== 'tool_usage_started' && event.event_type !== 'tool_usage_completed') return null
  return lookup(event.payload.tool_name, catalog.tools, catalog.toolPatterns)
}
