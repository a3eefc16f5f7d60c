/**
 * Runs the pure rule-engine benchmark (test/bench/alerting-engine.ts) in a child process with
 * `--expose-gc` (so its heap figures are measured after a full GC) and returns its report.
 */
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The report of alerting-engine.ts. */
export interface AlertingEngineResult {
  rules: number
  events: number
  events_per_s: number
  /** The single-stage engine (every rule in one RuleEngine) over the same events. */
  single_stage_events_per_s: number
  /** Records the first stage sent to the merge (closed buckets and watermarks). */
  repartition_records: number
  alerts: number
  groups: number
  snapshot_ms: number
  snapshot_bytes: number
  memory: { fingerprints: number; heap_mib_10k: number; state_json_bytes_10k: number; open_buckets_10k: number; open_heap_mib_10k: number; open_json_bytes_10k: number; after_60k_users_groups: number; engine_heap_mib_after_60k: number; evicted: number; gc: boolean }
}

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'alerting-engine.ts')

/**
 * @param events events of the throughput part
 * @throws when the child fails or prints no report
 */
export async function measureAlertingEngine(events: number): Promise<AlertingEngineResult> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', SCRIPT, '--events', String(events)], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr.on('data', (d: Buffer) => (err += d.toString()))
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  if (code !== 0) throw new Error(`alerting-engine.ts exited ${code}: ${err.slice(-2000)}`)
  return JSON.parse(out) as AlertingEngineResult
}
