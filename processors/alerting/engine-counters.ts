/**
 * The rule engines' work as committed counts: condition evaluations by rule, groups evicted
 * or refused at the cap, and partial buckets merged late (engine.ts `stats()`), for
 * `auren_alert_rule_evaluations_total`, `auren_alert_groups_dropped_total` and
 * `auren_alert_late_buckets_total` (metrics.ts).
 *
 * An engine counts from its construction; a partition's engines are replaced when its state is
 * restored (a failed batch rolled back, a partition assigned again). So the counts are read
 * after each commit as the difference from what was last reported for the same engine object:
 * the work of a batch that failed and was rolled back is never reported, its retry's once.
 * Pure bookkeeping, no I/O; one instance per definition.
 */
import type { PartitionRef } from '../runtime/context.ts'
import type { RuleEngine } from './engine.ts'

/** Committed work of one batch or tick: evaluations by rule id, groups evicted and refused, late buckets merged (counts). */
export interface EngineWork {
  readonly evaluations: ReadonlyMap<string, number>
  readonly evictedGroups: number
  readonly refusedGroups: number
  readonly lateBuckets: number
}

/** What was last reported of one engine. */
interface Reported {
  /** The engine's `work` at the report. */
  work: number
  evaluations: Map<string, number>
  evictedGroups: number
  refusedGroups: number
  lateBuckets: number
}

/** The engines each partition held at its last batch end or tick, and what was reported of them (module doc). */
export class EngineCounters {
  private readonly engines = new Map<string, readonly RuleEngine[]>()
  private readonly reported = new WeakMap<RuleEngine, Reported>()

  /** Notes the engines of a partition's state as of a batch's end or a tick (before its commit). */
  seen(ref: PartitionRef, engines: readonly (RuleEngine | null | undefined)[]): void {
    this.engines.set(`${ref.topic}\u0000${ref.partition}`, engines.filter((e): e is RuleEngine => e != null))
  }

  /** The work of a partition's engines since the last report, after a commit; marks it reported. */
  committed(ref: PartitionRef): EngineWork {
    const evaluations = new Map<string, number>()
    let evictedGroups = 0
    let refusedGroups = 0
    let lateBuckets = 0
    for (const engine of this.engines.get(`${ref.topic}\u0000${ref.partition}`) ?? []) {
      const before = this.reported.get(engine)
      if (before?.work === engine.work) continue // nothing counted since (most ticks)
      const now = engine.stats()
      for (const [rule, n] of now.evaluations) {
        const d = n - (before?.evaluations.get(rule) ?? 0)
        if (d > 0) evaluations.set(rule, (evaluations.get(rule) ?? 0) + d)
      }
      evictedGroups += now.evictedGroups - (before?.evictedGroups ?? 0)
      refusedGroups += now.refusedGroups - (before?.refusedGroups ?? 0)
      lateBuckets += now.lateBuckets - (before?.lateBuckets ?? 0)
      this.reported.set(engine, { work: engine.work, ...now })
    }
    return { evaluations, evictedGroups, refusedGroups, lateBuckets }
  }
}
