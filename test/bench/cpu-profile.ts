/**
 * Summary of a V8 `.cpuprofile` (node --cpu-prof) of the enrichment app over the timed window:
 * where the CPU went, by component (kafkajs, Avro, our runtime, the transform, metrics, GC, ...),
 * self and inclusive, and the top functions by self time.
 */
import { readFileSync } from 'node:fs'
import { relative } from 'node:path'

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
}
interface ProfileNode {
  id: number
  callFrame: CallFrame
  children?: number[]
}
interface CpuProfile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

export interface ProfileRow {
  readonly name: string
  /** Share of the window's non-idle samples, percent. */
  readonly selfPct: number
  readonly inclusivePct?: number
}

export interface ProfileSummary {
  readonly file: string
  /** Sampled window, seconds, and the share of it the main thread was idle, percent. */
  readonly windowSeconds: number
  readonly idlePct: number
  /** Pipeline stage of each busy sample (decode, transform, encode, produce, consume, ...). */
  readonly byStage: readonly ProfileRow[]
  readonly byComponent: readonly ProfileRow[]
  /** Our own code by function, with inclusive time. */
  readonly ownFunctions: readonly ProfileRow[]
  readonly topSelf: readonly ProfileRow[]
}

/** Component of a call frame by its script URL. */
export function component(frame: CallFrame): string {
  const { url, functionName } = frame
  if (functionName === '(garbage collector)') return 'GC'
  if (functionName === '(idle)') return 'idle'
  if (functionName === '(program)') return 'V8/native (program)'
  if (functionName === '(root)') return 'root'
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (nm) {
    const pkg = nm[1]!
    if (pkg === 'sonic-boom' || pkg === 'thread-stream' || pkg.startsWith('pino')) return 'pino'
    if (pkg === 'tsx' || pkg === 'esbuild' || pkg === 'get-tsconfig') return 'tsx loader'
    return pkg
  }
  if (url.includes('/processors/runtime/')) return `runtime/${url.slice(url.lastIndexOf('/') + 1)}`
  if (url.includes('/processors/enrichment/')) return 'enrichment transform'
  if (url.includes('/schemas/')) return 'schemas (payload wrap/unwrap)'
  if (url.startsWith('node:')) return 'node internals'
  if (url === '') return 'native/builtins'
  return 'other'
}

/**
 * Pipeline stage a frame marks, if any: a sample belongs to the stage of the frame nearest its
 * leaf that marks one (an avsc frame under serde.decode is `decode`, a Buffer copy under the
 * kafkajs producer is `produce`).
 */
export function stageOf(frame: CallFrame): string | undefined {
  const { url, functionName: fn } = frame
  if (fn === '(garbage collector)') return 'GC'
  if (url.includes('/processors/runtime/kafka/serde.ts')) return fn === 'decode' ? 'decode (Avro + registry lookup)' : fn === 'encode' ? 'encode (Avro)' : undefined
  if (url.includes('/schemas/agent-event.ts')) return fn.startsWith('from') ? 'decode (Avro + registry lookup)' : 'encode (Avro)'
  if (url.includes('/processors/enrichment/')) return 'transform (enrichment)'
  if (url.includes('node_modules/prom-client/')) return 'metrics (prom-client)'
  if (url.includes('node_modules/pino') || url.includes('node_modules/sonic-boom')) return 'logging'
  if (url.includes('node_modules/kafkajs/')) {
    if (url.includes('/requests/offsetCommit/')) return 'commit (kafkajs)'
    if (url.includes('/producer/') || url.includes('/requests/produce/')) return 'produce (kafkajs)'
    if (url.includes('/consumer/') || url.includes('/requests/fetch/')) return 'fetch + consumer loop (kafkajs)'
  }
  return undefined
}

/** Summarizes every sample of a `.cpuprofile`; paths are shown relative to repoRoot. */
export function summarizeProfile(file: string, repoRoot: string): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const byId = new Map<number, ProfileNode>()
  const parent = new Map<number, number>()
  for (const n of p.nodes) {
    byId.set(n.id, n)
    for (const c of n.children ?? []) parent.set(c, n.id)
  }
  const self = new Map<string, number>()
  const comp = new Map<string, number>()
  const stages = new Map<string, number>()
  const compIncl = new Map<string, number>()
  const ownIncl = new Map<string, number>()
  const ownSelf = new Map<string, number>()
  let busy = 0
  let idle = 0
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v)
  const label = (f: CallFrame) => {
    const path = f.url.startsWith('file://') ? relative(repoRoot, decodeURIComponent(f.url.slice(7))) : f.url
    // Line numbers of tsx-compiled TypeScript are those of the generated code: file names only.
    const line = path.includes('node_modules/') || path.startsWith('node:') ? `:${f.lineNumber + 1}` : ''
    return `${f.functionName || '(anonymous)'} ${path}${line}`
  }
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? 0 // a sample's weight: the interval until the next one
    const leaf = byId.get(p.samples[i]!)
    if (!leaf) continue
    const c = component(leaf.callFrame)
    if (c === 'idle') {
      idle += dt
      continue
    }
    busy += dt
    add(comp, c, dt)
    add(self, label(leaf.callFrame), dt)
    if (leaf.callFrame.url.includes('/processors/') || leaf.callFrame.url.includes('/schemas/')) add(ownSelf, label(leaf.callFrame), dt)
    let stage: string | undefined
    for (let id: number | undefined = leaf.id; id !== undefined && stage === undefined; id = parent.get(id)) stage = stageOf(byId.get(id)!.callFrame)
    add(stages, stage ?? 'other (runner loop, network, event loop)', dt)
    const seenComp = new Set<string>()
    const seenFn = new Set<string>()
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id)!.callFrame
      const fc = component(f)
      if (!seenComp.has(fc)) {
        seenComp.add(fc)
        add(compIncl, fc, dt)
      }
      if (f.url.includes('/processors/') || f.url.includes('/schemas/')) {
        const l = label(f)
        if (!seenFn.has(l)) {
          seenFn.add(l)
          add(ownIncl, l, dt)
        }
      }
    }
  }
  const pct = (v: number) => (busy > 0 ? (v / busy) * 100 : 0)
  // Inclusive time of a catch-all component (node internals, builtins) says nothing: left out.
  const generic = new Set(['native/builtins', 'node internals', 'V8/native (program)', 'root', 'GC', 'other'])
  const rows = (m: Map<string, number>, incl?: Map<string, number>, n = 15) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, v]) => ({ name, selfPct: pct(v), ...(incl && !generic.has(name) ? { inclusivePct: pct(incl.get(name) ?? 0) } : {}) }))
  const own = [...ownIncl].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([name, v]) => ({ name, selfPct: pct(ownSelf.get(name) ?? 0), inclusivePct: pct(v) }))
  return {
    file,
    windowSeconds: (busy + idle) / 1e6,
    idlePct: busy + idle > 0 ? (idle / (busy + idle)) * 100 : 0,
    byStage: rows(stages),
    byComponent: rows(comp, compIncl, 20),
    ownFunctions: own,
    topSelf: rows(self, undefined, 20),
  }
}
