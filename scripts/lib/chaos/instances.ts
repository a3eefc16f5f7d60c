/**
 * The processor instances of a chaos run: a fixed number of slots per app, each running one
 * process; `kill` SIGKILLs a slot's process and starts a new one in its place (same slot, same
 * transactional id); a process that exits without being killed is counted and restarted.
 * Scrapes each live instance's /metrics for the highest per-partition consumer lag.
 */
import { startApp, type AppProcess } from '../app-process.ts'

/** One slot: an app and the process currently running it. */
interface Slot {
  readonly app: string
  readonly index: number
  proc: AppProcess
  /** True while the run itself ended this process (SIGKILL or the final SIGTERM). */
  killing: boolean
  /** True once the current process answered /readyz with 200 (joined its group). */
  ready: boolean
}

/** How to start the instances of each app. */
export interface InstanceSpec {
  readonly app: string
  readonly count: number
  env(index: number): Record<string, string>
}

/** The running instances of a chaos run. */
export class InstancePool {
  private readonly slots: Slot[] = []
  private stopping = false
  readonly kills: Record<string, number> = {}
  readonly unexpectedExits: Record<string, number> = {}
  readonly maxLag: Record<string, number | null> = {}
  /** Last lines of every process that exited by itself (for the report). */
  readonly exitOutputs: string[] = []

  constructor(
    private readonly prefix: string,
    private readonly specs: readonly InstanceSpec[],
    private readonly log: (line: string) => void,
  ) {
    for (const s of specs) {
      this.kills[s.app] = 0
      this.unexpectedExits[s.app] = 0
      this.maxLag[s.app] = null
    }
  }

  /** Starts every slot and waits until each reports ready. */
  async start(): Promise<void> {
    for (const spec of this.specs) for (let i = 0; i < spec.count; i++) this.slots.push(await this.spawn(spec, i))
    await Promise.all(this.slots.map((s) => s.proc.waitReady(120_000)))
    for (const s of this.slots) void this.trackReady(s)
  }

  private async spawn(spec: InstanceSpec, index: number): Promise<Slot> {
    const slot: Slot = { app: spec.app, index, proc: await startApp(spec.app, this.prefix, spec.env(index)), killing: false, ready: false }
    this.watch(slot, spec)
    return slot
  }

  /** Marks the slot ready once its current process answers /readyz; resolves with the ms that took, null if it exited first. */
  private trackReady(slot: Slot): Promise<number | null> {
    const proc = slot.proc
    const t0 = Date.now()
    slot.ready = false
    return proc.waitReady(600_000).then(
      () => {
        if (slot.proc === proc) slot.ready = true
        return Date.now() - t0
      },
      () => null,
    )
  }

  private watch(slot: Slot, spec: InstanceSpec): void {
    const proc = slot.proc
    void proc.exited.then(async (code) => {
      if (slot.killing || this.stopping || slot.proc !== proc) return
      this.unexpectedExits[slot.app]!++
      this.exitOutputs.push(`${slot.app}#${slot.index} exited by itself (${code}):\n${proc.output().split('\n').slice(-8).join('\n')}`)
      this.log(`${slot.app}#${slot.index} exited by itself (${code}); starting it again`)
      slot.proc = await startApp(spec.app, this.prefix, spec.env(slot.index))
      void this.trackReady(slot)
      this.watch(slot, spec)
    })
  }

  /**
   * SIGKILLs a random instance among those that are ready (joined their group: the fault an
   * operator sees, a running member dying), waiting until one is, and starts a new process in its
   * slot (not waiting for it to be ready). Killing a process that has not joined yet would only
   * delay its start, not take partitions from a member.
   */
  async killRandom(random: () => number): Promise<string> {
    let ready = this.slots.filter((s) => s.ready && s.proc.alive())
    while (ready.length === 0) {
      await new Promise((r) => setTimeout(r, 250))
      ready = this.slots.filter((s) => s.ready && s.proc.alive())
    }
    const slot = ready[Math.floor(random() * ready.length)]!
    const spec = this.specs.find((s) => s.app === slot.app)!
    slot.killing = true
    slot.ready = false
    slot.proc.kill('SIGKILL')
    await slot.proc.exited
    this.kills[slot.app]!++
    const killedAt = Date.now()
    slot.proc = await startApp(spec.app, this.prefix, spec.env(slot.index))
    slot.killing = false
    this.watch(slot, spec)
    const name = `${slot.app}#${slot.index}`
    void this.trackReady(slot).then((ms) => {
      if (ms !== null) this.log(`${name} ready again ${((Date.now() - killedAt) / 1000).toFixed(1)} s after its SIGKILL`)
    })
    return name
  }

  /** Reads every live instance's /metrics once and keeps the highest lag of one partition per app. */
  async scrapeLag(): Promise<Map<string, number[]>> {
    const now = new Map<string, number[]>()
    for (const [instance, series] of await this.scrapeLagSeries()) now.set(instance, series.map((s) => s.lag))
    return now
  }

  /** Every live instance's lag series (one per assigned partition), updating maxLag per app. */
  private async scrapeLagSeries(): Promise<Map<string, Array<{ app: string; partition: number; lag: number }>>> {
    const now = new Map<string, Array<{ app: string; partition: number; lag: number }>>()
    await Promise.all(
      this.slots.map(async (s) => {
        const text = await s.proc.metrics().catch(() => null)
        if (text === null) return
        const series = [...text.matchAll(/^auren_consumer_lag_records\{([^}]*)\} (\d+)/gm)].map((m) => ({
          app: s.app,
          partition: Number(/(?:^|,)partition="(\d+)"/.exec(m[1]!)?.[1] ?? -1),
          lag: Number(m[2]),
        }))
        now.set(`${s.app}#${s.index}`, series)
        if (series.length > 0) this.maxLag[s.app] = Math.max(this.maxLag[s.app] ?? 0, ...series.map((x) => x.lag))
      }),
    )
    return now
  }

  /**
   * True when, for every app, each of the input topic's `partitions` has a lag series on some
   * live instance and every series is 0: lag 0 on every partition. An instance still starting
   * after its SIGKILL owns no partition yet (its group gave them to the live members), so it is
   * not waited for; the time it takes to be ready is logged on its own.
   */
  async allLagZero(partitions: number): Promise<boolean> {
    const covered = new Map<string, Set<number>>()
    for (const series of (await this.scrapeLagSeries()).values()) {
      for (const s of series) {
        if (s.lag !== 0) return false
        let set = covered.get(s.app)
        if (!set) covered.set(s.app, (set = new Set()))
        set.add(s.partition)
      }
    }
    return this.specs.every((spec) => Array.from({ length: partitions }, (_, p) => p).every((p) => covered.get(spec.app)?.has(p)))
  }

  /** SIGTERMs every instance; resolves with the exit code of each. */
  async stop(): Promise<Array<{ instance: string; code: number | string }>> {
    this.stopping = true
    for (const s of this.slots) s.proc.kill('SIGTERM')
    return Promise.all(this.slots.map(async (s) => ({ instance: `${s.app}#${s.index}`, code: await s.proc.exited })))
  }
}
