/**
 * Finds and converts the recorded runs under a directory (the layout of
 * `shared/data/agent-traces`, data README). The only module of `scripts/sources` with I/O:
 * it reads files with node:fs and never touches Kafka.
 */
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs'
import { join, posix, sep } from 'node:path'
import type { AgentEvent } from '../../schemas/index.ts'
import { parseChatDevLog } from './chatdev-log.ts'
import { chatDevRunToEvents } from './chatdev-events.ts'
import { whoAndWhenToEvents, type WhoAndWhenOptions } from './who-and-when.ts'
import type { AttributionRule } from './chatdev-attribution.ts'

/** Which converter a file goes to. */
export type TraceKind = 'chatdev' | 'who-and-when'

/** One converted run. */
export interface ReplayRun {
  /** Path relative to the root, `/`-separated (also in each event's `auren.replay.file`). */
  file: string
  kind: TraceKind
  traceId: string
  /** Events in time order (ChatDev) or history order (Who&When). */
  events: AgentEvent[]
  /** Input of the file that gave no event, by reason (parser and converter tallies merged). */
  skipped: Record<string, number>
}

/** All runs found, and every other file with the reason it was not converted. */
export interface TraceDiscovery {
  runs: ReplayRun[]
  skipped: Array<{ file: string; reason: string }>
}

/** Options of `loadTraceRuns`. */
export interface LoadTraceOptions extends Pick<WhoAndWhenOptions, 'baseTimeUs' | 'stepUs'> {
  /** `user_id` of every event; default null. */
  userId?: string | null
  /** ChatDev call attribution rule; default `next-utterance` (see `AttributionRule`). */
  attribution?: AttributionRule
}

/**
 * What a path is, by the README's layout: ChatDev logs are `WareHouse/<run>/<name>.log` (names
 * may hold spaces, double spaces, `α`; any `.log` is tried, and one without entries is skipped
 * later); Who&When files are `<folder>/<N>.json`. Everything else is a skip reason.
 */
export function classifyTraceFile(file: string): { kind: TraceKind } | { reason: string } {
  const parts = file.split('/')
  const name = parts.at(-1) ?? ''
  if (name.endsWith('.log')) return { kind: 'chatdev' }
  if (name.endsWith('.prompt') || name === 'meta.txt' || name === 'ChatChainConfig.json') return { reason: 'chatdev run sidecar, not a log' }
  if (/^\d+\.json$/.test(name) && parts.length >= 2) return { kind: 'who-and-when' }
  if (/^(README|LICENSE)/i.test(name)) return { reason: 'documentation or licence' }
  return { reason: 'unknown file type' }
}

/**
 * Every regular file under `root`, following symbolic links to files and folders (a folder
 * reached twice through links, e.g. a link to an ancestor, is listed once); a link that points
 * nowhere or to something else than a file or folder is returned in `skipped` with the reason.
 */
function listFiles(root: string): { files: string[]; skipped: Array<{ file: string; reason: string }> } {
  const files: string[] = []
  const skipped: Array<{ file: string; reason: string }> = []
  const visited = new Set<string>([realpathSync(root)])
  const walk = (dir: string) => {
    for (const d of readdirSync(join(root, dir), { withFileTypes: true })) {
      const rel = dir === '' ? d.name : `${dir}/${d.name}`
      if (d.isDirectory()) walk(rel)
      else if (d.isFile()) files.push(rel)
      else if (d.isSymbolicLink()) {
        const path = join(root, rel)
        let target: ReturnType<typeof statSync>
        try {
          target = statSync(path)
        } catch (err) {
          skipped.push({ file: rel, reason: `broken symbolic link (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})` })
          continue
        }
        if (target.isFile()) files.push(rel)
        else if (target.isDirectory()) {
          const real = realpathSync(path)
          if (visited.has(real)) skipped.push({ file: rel, reason: 'symbolic link to a folder already read' })
          else {
            visited.add(real)
            walk(rel)
          }
        } else skipped.push({ file: rel, reason: 'symbolic link to neither a file nor a folder' })
      } else skipped.push({ file: rel, reason: 'not a regular file' })
    }
  }
  walk('')
  return { files, skipped }
}

function merge(...tallies: Array<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const t of tallies) for (const [k, v] of Object.entries(t)) out[k] = (out[k] ?? 0) + v
  return out
}

/**
 * Reads and converts one file of a known kind.
 * @returns the run, or a skip reason (no entries, invalid JSON, neither Who&When format)
 */
export function convertTraceFile(root: string, file: string, kind: TraceKind, options: LoadTraceOptions = {}): ReplayRun | { reason: string } {
  const text = readFileSync(join(root, ...file.split('/')), 'utf8')
  if (kind === 'chatdev') {
    const run = parseChatDevLog(text, file)
    if (run.items.length === 0) return { reason: 'no ChatDev log entries' }
    const conv = chatDevRunToEvents(run, { userId: options.userId ?? null, attribution: options.attribution ?? 'next-utterance' })
    return { file, kind, traceId: conv.traceId, events: conv.events, skipped: merge(run.skipped, conv.skipped) }
  }
  let json: unknown
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''))
  } catch (err) {
    return { reason: `invalid JSON: ${(err as Error).message}` }
  }
  const conv = whoAndWhenToEvents(json, file, options)
  if (conv.error) return { reason: `not a Who&When conversation: ${conv.error}` }
  return { file, kind, traceId: conv.traceId, events: conv.events, skipped: conv.skipped }
}

/**
 * Discovers, reads and converts every recorded run under `root`, in path order, following
 * symbolic links. Files that are not runs (and links that lead nowhere) are listed in `skipped`
 * with a reason, never silently ignored.
 * @throws the fs error when `root` cannot be read
 */
export function loadTraceRuns(root: string, options: LoadTraceOptions = {}): TraceDiscovery {
  const listed = listFiles(root)
  const result: TraceDiscovery = { runs: [], skipped: listed.skipped }
  const files = listed.files.map((f) => f.split(sep).join(posix.sep)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  for (const file of files) {
    const c = classifyTraceFile(file)
    if ('reason' in c) {
      result.skipped.push({ file, reason: c.reason })
      continue
    }
    const run = convertTraceFile(root, file, c.kind, options)
    if ('reason' in run) result.skipped.push({ file, reason: run.reason })
    else result.runs.push(run)
  }
  return result
}
