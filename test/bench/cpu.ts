/**
 * CPU accounting from /proc (Linux): CPU seconds a process used, and busy CPU seconds of the
 * whole machine, so each phase can say how many cores the app, the broker and everything else
 * kept busy. Every reader returns undefined off Linux or when the process is gone.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { stackDir } from '../../scripts/lib/stack-env.ts'

let ticksPerSecond: number | undefined

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      ticksPerSecond = 100
    }
  }
  return ticksPerSecond
}

/** User + system CPU seconds of a process (its threads included, children excluded). */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the parenthesized command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / clockTicks()
  } catch {
    return undefined
  }
}

/** Busy (non-idle, non-iowait) CPU seconds of the machine since boot, all cores together. */
export function machineBusySeconds(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!
    const [user, nice, system, _idle, _iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number)
    return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / clockTicks()
  } catch {
    return undefined
  }
}

/** Pid of the stack's Kafka broker, from `$AUREN_STACK_DIR/pids/kafka.pid`. */
export function brokerPid(): number | undefined {
  try {
    const pid = Number(readFileSync(join(stackDir(), 'pids', 'kafka.pid'), 'utf8').trim())
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

/** Cores kept busy over a phase: CPU seconds used divided by wall seconds. */
export interface CoreUsage {
  /** The measured process (e.g. the enrichment app), cores. */
  readonly process?: number
  /** The Kafka broker, cores. */
  readonly broker?: number
  /** The whole machine (everything, other users' work included), cores. */
  readonly machine?: number
  /** CPU seconds of the measured process over the phase. */
  readonly processCpuSeconds?: number
}

/** Starts measuring; call the returned function at the end of the phase. */
export function startCpuMeter(pid?: number): () => CoreUsage {
  const broker = brokerPid()
  const t0 = performance.now()
  const p0 = processCpuSeconds(pid)
  const b0 = processCpuSeconds(broker)
  const m0 = machineBusySeconds()
  return () => {
    const seconds = (performance.now() - t0) / 1000
    const p1 = processCpuSeconds(pid)
    const b1 = processCpuSeconds(broker)
    const m1 = machineBusySeconds()
    const cores = (a?: number, b?: number) => (a !== undefined && b !== undefined && seconds > 0 ? (b - a) / seconds : undefined)
    return {
      process: cores(p0, p1),
      broker: cores(b0, b1),
      machine: cores(m0, m1),
      processCpuSeconds: p0 !== undefined && p1 !== undefined ? p1 - p0 : undefined,
    }
  }
}
