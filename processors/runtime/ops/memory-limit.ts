/**
 * `auren_process_memory_limit_bytes`: the memory this process may use before it is killed, the
 * denominator of the AurenProcessMemoryHigh alert (resident memory / limit > 0.85, seed 000).
 *
 * Source, first that applies: the cgroup v2 limit (`/sys/fs/cgroup/memory.max`, a container's
 * memory limit), the cgroup v1 limit (`/sys/fs/cgroup/memory/memory.limit_in_bytes`, when below
 * the machine's memory), else the machine's total memory (`os.totalmem()`).
 */
import { readFileSync } from 'node:fs'
import { totalmem } from 'node:os'
import { Gauge, type Registry } from 'prom-client'

/**
 * The limit in bytes from the texts of the cgroup files (null when a file is absent), and the
 * machine's memory. `max` (no cgroup v2 limit) and v1's huge "unlimited" values fall through.
 */
export function memoryLimitBytes(cgroupV2Max: string | null, cgroupV1Limit: string | null, machineBytes: number): number {
  const v2 = cgroupV2Max?.trim()
  if (v2 && /^\d+$/.test(v2)) return Math.min(Number(v2), machineBytes)
  const v1 = cgroupV1Limit?.trim()
  if (v1 && /^\d+$/.test(v1) && Number(v1) < machineBytes) return Number(v1)
  return machineBytes
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return null
  }
}

/** Registers the gauge on `registry`; it is read from the cgroup files at each scrape. */
export function registerMemoryLimitMetric(registry: Registry): void {
  if (registry.getSingleMetric('auren_process_memory_limit_bytes')) return
  new Gauge({
    name: 'auren_process_memory_limit_bytes',
    help: 'Memory this process may use: the cgroup limit, else the machine memory, bytes',
    registers: [registry],
    collect() {
      this.set(memoryLimitBytes(readOrNull('/sys/fs/cgroup/memory.max'), readOrNull('/sys/fs/cgroup/memory/memory.limit_in_bytes'), totalmem()))
    },
  })
}
