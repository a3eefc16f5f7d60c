/**
 * The stream rule engine: evaluates the compiled rules (rule-schema.ts) over enriched events and
 * metrics windows in event time, and keeps one alert state per rule and fingerprint:
 * inactive → pending → firing → resolved (inactive again), with `for` and `keep_firing_for`.
 * Each transition to firing or to resolved returns an `Alert` record (schemas/avro/alert.avsc).
 *
 * Shared aggregations: rules that aggregate the same events the same way and differ only in
 * what they compare (thresholds, statistic, minimum sample, `for`, …) share one aggregation
 * (rule-index.ts `aggregationId`). Per aggregation and group (grouping label values) the engine
 * keeps one window (buckets and running totals, window-buckets.ts) or, for absence rules, the
 * last event time; an event updates each aggregation it reaches once, then every rule of that
 * aggregation reads it. A rule's alert state is kept in its group only while it is pending or
 * firing; an inactive rule whose condition does not hold is checked from the running totals
 * without building anything (conditions.ts `slidingHolds`). Rule evaluations per event are as
 * before; what they cost, and the state saved per batch, no longer grow with the rules that share
 * a window.
 *
 * Time: the engine's clock is the highest event time it has seen (events and window ends), or a
 * later time given to {@link RuleEngine.advanceTo} (punctuation: absence and resolution when
 * traffic stops). Events are evaluated in the order given, and each event's rules in rule order,
 * so a replay of the same records fires the same alerts at the same event times, every time.
 * Time-driven changes (a pending alert reaching `for`, a window sliding past its events, an
 * absence, `keep_firing_for` running out) are kept in a timer queue, one due time per group (the
 * earliest of its rules'), and evaluated when the clock passes them, before the event that moved
 * the clock is applied; a group's timer evaluates every rule of its aggregation (a rule whose
 * figures did not change stays as it was).
 *
 * Memory: per aggregation at most `maxGroupsPerRule` groups (default 10,000; every rule of the
 * aggregation has at most that many fingerprints); when full, the least recently touched group
 * with no pending or firing alert is dropped (its window data is lost, counted in
 * `stats().evictedGroups`); when none can be dropped the new group is not created
 * (`stats().refusedGroups`). Each group holds at most retention / step + 1 buckets. A group with
 * no data left in its window and no pending or firing alert is deleted at once.
 *
 * Fingerprint: the first 16 hex digits of SHA-256 over the rule id and the sorted
 * `label=value` pairs of the grouping labels (CONTRACTS.md section 3b): the same rule and label
 * values always give the same fingerprint, on any instance.
 */
import { createHash } from 'node:crypto'
import type { Alert, AgentMetricsWindow } from '../../schemas/index.ts'
import { eventContribution, evaluateWindowed, keepFromMs, partialStepMs, slidingHolds, slidingLatency, stepMs, windowContribution, type Evaluation, type LatencyStatistic, type WindowFigures } from './conditions.ts'
import { formatDurationMs } from './duration.ts'
import { eventFacts, type EnrichedEventView, type EventFacts } from './event-facts.ts'
import type { OpenBucket } from './partial-buckets.ts'
import { aggregationMapsJson, RuleIndex } from './rule-index.ts'
import type { CompiledCondition, Rule } from './rule-schema.ts'
import { TimerQueue } from './timer-queue.ts'
import { addToBuckets, emptyTotals, mergeIntoBuckets, pruneBuckets, totalsOf, type Bucket, type Totals } from './window-buckets.ts'

/** Default cap of groups (fingerprints) per aggregation, so per rule. */
export const DEFAULT_MAX_GROUPS_PER_RULE = 10_000

/** The alert of one rule in one group while it is pending or firing (JSON-serialisable; an inactive alert has no state). */
export interface RuleAlertState {
  /** The alert's fingerprint (module doc). */
  fingerprint: string
  /** `inactive` only in passing: the state is deleted when it gets there. */
  phase: 'inactive' | 'pending' | 'firing'
  /** When the condition started to hold (pending since), ms. */
  activeSinceMs: number | null
  /** When the alert fired (starts_at), ms. */
  firingSinceMs: number | null
  /** When the condition stopped holding while firing, ms. */
  clearedAtMs: number | null
  /** Last evaluation's figures (the value is kept when an evaluation has too little data). */
  value: number | null
  threshold: number
  window: { start: number; end: number } | null
}

/** One group of an aggregation (JSON-serialisable; part of the per-partition state). */
export interface AggregationGroup {
  /** Grouping label values (labels the event did not have are left out). */
  labels: Record<string, string>
  /** The window of the windowed kinds (empty for event and absence rules). */
  buckets: Bucket[]
  /** Running sum of `buckets` (window-buckets.ts): a sliding window read in O(1). */
  totals: Totals
  /** Last matching event time, ms (absence rules; null otherwise). */
  lastSeenMs: number | null
  /** Whether the events behind this group come from replayed history. */
  replay: boolean
  /** Next event time at which a rule of the group may change without new input, ms. */
  dueMs: number | null
  /** Engine tick of the last touch and of the (re)insertion into the aggregation's map (least recently used order kept lazily: see evictOne). */
  touchedAt: number
  insertedAt: number
  /** Rule id → its alert, for the rules of the aggregation that are pending or firing in this group (undefined when none). */
  alerts?: Record<string, RuleAlertState>
}

/** The engine's state, as saved with the partition's offsets. */
export interface EngineState {
  version: 2
  clockMs: number | null
  /** Aggregation id (rule-index.ts `aggregationId`) → group key (RuleIndex.groupKey) → group. */
  aggregations: Record<string, Record<string, AggregationGroup>>
}

/** One rule's group as engines before shared aggregations saved it: its window and its alert phase in one record. */
export interface LegacyGroupState extends Omit<RuleAlertState, 'fingerprint'> {
  labels: Record<string, string>
  buckets: Bucket[]
  totals?: Totals
  lastSeenMs: number | null
  replay: boolean
  dueMs: number | null
  touchedAt?: number
  insertedAt?: number
}

/** The state engines before shared aggregations saved (one window per rule and fingerprint); read on restore, converted. */
export interface LegacyEngineState {
  clockMs: number | null
  /** rule id → fingerprint → state. */
  groups: Record<string, Record<string, LegacyGroupState>>
}

/** Options of the engine. */
export interface EngineOptions {
  /** Cap of groups per aggregation, so of fingerprints per rule (default {@link DEFAULT_MAX_GROUPS_PER_RULE}). */
  maxGroupsPerRule?: number
  /**
   * The merging stage of repartitioned rules (partial-merge.ts): every time-driven change is
   * due at the end of a partial bucket (conditions.ts `partialStepMs`), the only times at which
   * the merged figures are complete (a source's bucket reaches the merge once it closed).
   */
  alignToPartialSteps?: boolean
}

/**
 * One source partition's aggregates of one aggregation and group in one bucket, as the merging
 * stage applies them (the `bucket` of an AlertPartial record, with its histogram as a record).
 */
export interface PartialInput extends OpenBucket {
  /** Aggregation id (rule-index.ts `aggregationId`). */
  aggregation: string
  /** Group key (RuleIndex.groupKey). */
  groupKey: string
  labels: Record<string, string>
  /** Bucket width, ms. */
  stepMs: number
}

/** Counters of what the engine did (for metrics). */
export interface EngineStats {
  /** Condition evaluations, by rule id. */
  evaluations: Map<string, number>
  evictedGroups: number
  refusedGroups: number
  /** Partial buckets merged after the clock had passed their end (applyPartial: a source late to the watermark). */
  lateBuckets: number
}

/** Fingerprint of a rule and its grouping label values (see the module doc). */
export function fingerprint(ruleId: string, labels: Readonly<Record<string, string>>): string {
  const h = createHash('sha256').update(ruleId)
  for (const k of Object.keys(labels).sort()) h.update(`\n${k}=${labels[k]}`)
  return h.digest('hex').slice(0, 16)
}

function formatNumber(v: number | null): string {
  if (v === null) return 'n/a'
  if (Number.isInteger(v)) return String(v)
  return String(Number(v.toPrecision(4)))
}

/** Fills `{{ labels.x }}`, `{{ value }}`, `{{ threshold }}`, `{{ window }}` in a template. */
export function renderTemplate(text: string, vars: { labels: Record<string, string>; value: number | null; threshold: number; windowMs: number | null }): string {
  return text.replace(/\{\{\s*([^}]*?)\s*\}\}/g, (_, expr: string) => {
    if (expr.startsWith('labels.')) return vars.labels[expr.slice(7)] ?? ''
    if (expr === 'value') return formatNumber(vars.value)
    if (expr === 'threshold') return formatNumber(vars.threshold)
    if (expr === 'window') return vars.windowMs === null ? '' : formatDurationMs(vars.windowMs)
    return ''
  })
}

/** The earlier of `next` and `t`, counting `t` only when it lies after `now`. */
function earliestAfter(now: number, next: number, t: number): number {
  return t > now && t < next ? t : next
}

function windowLength(rule: Rule): number | null {
  const c = rule.condition
  if (c.kind === 'absence') return c.afterMs
  return 'windowMs' in c ? c.windowMs : null
}

/** Whether a condition kind keeps a window (buckets). */
function isWindowed(c: CompiledCondition): boolean {
  return c.kind !== 'event' && c.kind !== 'absence'
}

/** Drops a rule's alert state from a group (the map goes when it empties, so a group without alerts carries none). */
function dropAlert(g: AggregationGroup, ruleId: string): void {
  const alerts = g.alerts!
  delete alerts[ruleId]
  for (const _ in alerts) return
  g.alerts = undefined
}

/** The stream rule engine of one partition (see the module doc). */
export class RuleEngine {
  private readonly rules: readonly Rule[]
  private readonly byId: Map<string, number>
  private readonly index: RuleIndex
  /** Per aggregation slot: group key → group. */
  private readonly groups: Map<string, AggregationGroup>[]
  /** Per aggregation slot: the condition of its first rule (every rule of the slot has the same window geometry and contribution). */
  private readonly slotCondition: readonly CompiledCondition[]
  /** Per aggregation slot: its group_by labels. */
  private readonly slotGroupBy: readonly (readonly string[])[]
  /** The window_sum rules, in rule order. */
  private readonly windowRules: readonly number[]
  /** Group keys of the input being applied, by key slot (built on first use per input). */
  private readonly eventKeys: (string | undefined)[]
  /** Per aggregation slot, for the input being applied: the input's stamp when the slot was updated, its group (null: nothing to evaluate) and key. */
  private readonly slotStamp: number[]
  private readonly slotGroup: (AggregationGroup | null)[]
  private readonly slotKey: string[]
  /** Slots the input being applied updated (to settle afterwards). */
  private readonly touched: number[] = []
  private stamp = 0
  /** Counter of window changes (the latency memo is valid for one group and one count). */
  private mutations = 0
  private readonly latencyMemo: { group: AggregationGroup | null; at: number; values: Record<LatencyStatistic, number | null | undefined> } = { group: null, at: -1, values: { p50: undefined, p95: undefined, p99: undefined, mean: undefined } }
  /** Latency statistic of the group in {@link latencyMemo} (memoised per group and window change). */
  private readonly latencyOf = (statistic: LatencyStatistic): number | null => {
    const values = this.latencyMemo.values
    let v = values[statistic]
    if (v === undefined) v = values[statistic] = slidingLatency(this.latencyMemo.group!.totals, statistic)
    return v
  }
  /** Condition evaluations per rule index (stats()). */
  private readonly evaluationCounts: number[]
  /** Per rule index: group key → fingerprint, sparing a SHA-256 each time an alert of a known group becomes pending (cleared when it outgrows twice the cap). */
  private readonly fingerprints: Map<string, string>[]
  private readonly timers = new TimerQueue()
  private readonly maxGroups: number
  private readonly alignToPartialSteps: boolean
  /** Aggregation id → slot. */
  private readonly slotOf: ReadonlyMap<string, number>
  private clockMs: number | null = null
  /** Counter behind touchedAt / insertedAt. */
  private tick = 0
  private readonly statsData: { evictedGroups: number; refusedGroups: number; lateBuckets: number } = { evictedGroups: 0, refusedGroups: 0, lateBuckets: 0 }

  /**
   * @param rules compiled rules (validateRuleFile)
   * @param state a saved state to resume from (aggregations and alerts of rules no longer
   *   present are dropped; so is an aggregation whose id changed — a rule's selector, grouping or
   *   window edited — and the Alertmanager lets its firing alerts expire at their `endsAt`, since
   *   nothing re-sends them); a state saved before shared aggregations ({@link LegacyEngineState})
   *   is converted
   */
  constructor(rules: readonly Rule[], options: EngineOptions = {}, state?: EngineState | LegacyEngineState) {
    this.rules = rules
    this.maxGroups = options.maxGroupsPerRule ?? DEFAULT_MAX_GROUPS_PER_RULE
    this.alignToPartialSteps = options.alignToPartialSteps ?? false
    this.byId = new Map(rules.map((r, i) => [r.id, i]))
    this.index = new RuleIndex(rules)
    const slots = this.index.aggregationIds.length
    this.slotOf = new Map(this.index.aggregationIds.map((id, slot) => [id, slot]))
    this.groups = Array.from({ length: slots }, () => new Map())
    this.slotCondition = this.index.aggregationRules.map((list) => rules[list[0]!]!.condition)
    this.slotGroupBy = this.index.aggregationRules.map((list) => rules[list[0]!]!.group_by)
    this.windowRules = rules.flatMap((r, i) => (r.condition.kind === 'window_sum' ? [i] : []))
    this.eventKeys = this.index.keyLabels.map(() => undefined)
    this.slotStamp = new Array<number>(slots).fill(0)
    this.slotGroup = new Array<AggregationGroup | null>(slots).fill(null)
    this.slotKey = new Array<string>(slots).fill('')
    this.evaluationCounts = rules.map(() => 0)
    this.fingerprints = rules.map(() => new Map())
    if (state && 'version' in state && state.version === 2) this.restore(state)
    else if (state) this.restoreLegacy(state as LegacyEngineState)
  }

  private restore(state: EngineState): void {
    this.clockMs = state.clockMs
    for (const [id, groups] of Object.entries(state.aggregations)) {
      const slot = this.slotOf.get(id)
      if (slot === undefined) continue
      const ruleIds = new Set(this.index.aggregationRules[slot]!.map((i) => this.rules[i]!.id))
      for (const [key, saved] of Object.entries(groups)) {
        const g = structuredClone(saved)
        for (const rid of Object.keys(g.alerts ?? {})) if (!ruleIds.has(rid)) dropAlert(g, rid)
        this.tick = Math.max(this.tick, g.touchedAt, g.insertedAt)
        this.groups[slot]!.set(key, g)
        if (g.dueMs !== null) this.timers.push(g.dueMs, slot, key)
      }
    }
  }

  /** Converts a state saved with one window per rule: rules that now share an aggregation keep the first rule's window (the same data). */
  private restoreLegacy(state: LegacyEngineState): void {
    this.clockMs = state.clockMs
    for (const [ruleId, groups] of Object.entries(state.groups)) {
      const i = this.byId.get(ruleId)
      if (i === undefined) continue
      const rule = this.rules[i]!
      const slot = this.index.aggregationSlot[i]!
      const m = this.groups[slot]!
      for (const [fp, old] of Object.entries(groups)) {
        const key = RuleIndex.labelsKey(rule.group_by, old.labels)
        let g = m.get(key)
        if (!g) {
          const buckets = structuredClone(old.buckets)
          g = { labels: { ...old.labels }, buckets, totals: old.totals ? structuredClone(old.totals) : totalsOf(buckets), lastSeenMs: rule.condition.kind === 'absence' ? old.lastSeenMs : null, replay: old.replay, dueMs: null, touchedAt: old.touchedAt ?? 0, insertedAt: old.insertedAt ?? 0 }
          m.set(key, g)
        } else if (rule.condition.kind === 'absence' && old.lastSeenMs !== null) {
          g.lastSeenMs = Math.max(g.lastSeenMs ?? old.lastSeenMs, old.lastSeenMs)
        }
        this.tick = Math.max(this.tick, g.touchedAt, g.insertedAt)
        if (old.phase !== 'inactive') {
          ;(g.alerts ??= {})[ruleId] = { fingerprint: fp, phase: old.phase, activeSinceMs: old.activeSinceMs, firingSinceMs: old.firingSinceMs, clearedAtMs: old.clearedAtMs, value: old.value, threshold: old.threshold, window: old.window }
        }
      }
    }
    this.groups.forEach((m, slot) => {
      for (const [key, g] of m) this.settle(slot, key, g)
    })
  }

  /** The state to save (a deep copy). */
  snapshot(): EngineState {
    const aggregations: EngineState['aggregations'] = {}
    this.groups.forEach((m, slot) => {
      if (m.size > 0) aggregations[this.index.aggregationIds[slot]!] = Object.fromEntries([...m].map(([key, g]) => [key, structuredClone(g)]))
    })
    return { version: 2, clockMs: this.clockMs, aggregations }
  }

  /** The state to save as JSON: `JSON.stringify(snapshot())` without the intermediate copy. */
  serialize(): string {
    return `{"version":2,"clockMs":${JSON.stringify(this.clockMs)},"aggregations":${aggregationMapsJson(this.index.aggregationIds, this.groups)}}`
  }

  /** The event-time clock, ms (null before any input). */
  get clock(): number | null {
    return this.clockMs
  }

  /** How much stats() counts in all since construction (evaluations, evicted and refused groups, late buckets): a reader skips stats() while it is unchanged. */
  get work(): number {
    let n = this.statsData.evictedGroups + this.statsData.refusedGroups + this.statsData.lateBuckets
    for (const c of this.evaluationCounts) n += c
    return n
  }

  /** Counters since construction. */
  stats(): EngineStats {
    const evaluations = new Map<string, number>()
    this.rules.forEach((r, i) => {
      if (this.evaluationCounts[i]! > 0) evaluations.set(r.id, this.evaluationCounts[i]!)
    })
    return { evaluations, ...this.statsData }
  }

  /** Number of groups held, over all aggregations (each holds the window of every rule sharing it). */
  groupCount(): number {
    return this.groups.reduce((n, m) => n + m.size, 0)
  }

  /** Firing alerts per rule id (for `auren_alerts_firing{rule,severity}`). */
  firingByRule(): Map<string, { severity: string; firing: number }> {
    const out = new Map<string, { severity: string; firing: number }>()
    for (const r of this.rules) out.set(r.id, { severity: r.severity, firing: 0 })
    for (const m of this.groups) {
      for (const g of m.values()) {
        if (g.alerts) for (const rid in g.alerts) if (g.alerts[rid]!.phase === 'firing') out.get(rid)!.firing += 1
      }
    }
    return out
  }

  /**
   * Applies an enriched event: first the time-driven changes up to its event time, then the
   * event to every rule whose selector it matches, in rule order.
   * @param replay whether the event is replayed history (its alerts get `replay="true"`)
   * @returns the Alert records of the state changes, in order
   */
  onEvent(enriched: EnrichedEventView, replay = false): Alert[] {
    return this.onFacts(eventFacts(enriched), enriched.event.event_type, replay)
  }

  /** {@link onEvent} on an event's facts (event-facts.ts) already read, with its event type. */
  onFacts(f: EventFacts, eventType: string, replay = false): Alert[] {
    const out = this.advanceTo(f.timeMs)
    // Only the rules whose event types include this one (rule-index.ts), in rule order.
    const candidates = this.index.rulesFor(eventType)
    const keys = this.eventKeys
    keys.fill(undefined)
    const stamp = ++this.stamp
    this.touched.length = 0
    for (const i of candidates) {
      const slot = this.index.aggregationSlot[i]!
      let g: AggregationGroup | null
      if (this.slotStamp[slot] === stamp) {
        g = this.slotGroup[slot]! // the rules of one aggregation share its selector: checked once per event
      } else {
        this.slotStamp[slot] = stamp
        g = null
        if (this.index.selectors[i]!(f)) {
          const ks = this.index.keySlot[i]!
          const key = (keys[ks] ??= RuleIndex.groupKey(this.index.keyLabels[ks]!, f))
          g = this.addEvent(slot, key, f, replay)
        }
        this.slotGroup[slot] = g
      }
      if (!g) continue
      if (this.rules[i]!.condition.kind === 'event') this.applyEventRule(i, g, this.slotKey[slot]!, f.timeMs, out)
      else this.evaluateRule(i, g, this.slotKey[slot]!, out)
    }
    for (const slot of this.touched) this.settle(slot, this.slotKey[slot]!, this.slotGroup[slot]!)
    return out
  }

  /** Applies an AgentMetricsWindow (auren.agent-metrics.v1) at its window end to the window_sum rules. */
  onMetricsWindow(w: AgentMetricsWindow, replay = false): Alert[] {
    const endMs = Math.floor(w.window_end / 1000)
    const out = this.advanceTo(endMs)
    const figures: WindowFigures = {
      errors: w.errors,
      llm_calls_failed: w.llm_calls.failed,
      executions_failed: w.executions.failed,
      cost_usd: w.cost_usd,
      input_tokens: w.input_tokens,
      output_tokens: w.output_tokens,
      tool_calls: w.tool_calls,
    }
    const stamp = ++this.stamp
    this.touched.length = 0
    const key = `agent\u0001${w.agent_id}\u0002`
    for (const i of this.windowRules) {
      const rule = this.rules[i]!
      if (rule.selector.agents && !rule.selector.agents.includes(w.agent_id)) continue
      const slot = this.index.aggregationSlot[i]!
      let g: AggregationGroup | null
      if (this.slotStamp[slot] === stamp) {
        g = this.slotGroup[slot]!
      } else {
        this.slotStamp[slot] = stamp
        g = this.touch(slot, key, { agent: w.agent_id }, replay)
        if (g) {
          const c = this.slotCondition[slot]!
          const add = windowContribution(c, figures)
          // A window is counted at its last millisecond: it lies wholly inside any window ending after it.
          if (add) addToBuckets(g.buckets, stepMs(c), endMs - 1, add, g.totals)
          pruneBuckets(g.buckets, stepMs(c), keepFromMs(c, this.clockMs ?? 0), g.totals)
          this.mutations += 1
        }
        this.slotGroup[slot] = g
      }
      if (g) this.evaluateRule(i, g, key, out)
    }
    for (const slot of this.touched) this.settle(slot, this.slotKey[slot]!, this.slotGroup[slot]!)
    return out
  }

  /**
   * Applies one source partition's partial bucket (merging stage, partial-merge.ts): first the
   * time-driven changes up to the bucket's end, then its aggregates added to the group's window
   * (or its last event time to an absence group), then every rule of the aggregation evaluated
   * at the clock (the bucket's end; the clock when it is already later: a late bucket). A bucket
   * of an aggregation this engine does not have (a rule removed or changed since it was sent) or
   * of another width is ignored.
   * @returns the Alert records of the state changes, in order
   */
  applyPartial(p: PartialInput): Alert[] {
    const slot = this.slotOf.get(p.aggregation)
    if (slot === undefined) return []
    const c = this.slotCondition[slot]!
    if (c.kind === 'event' || partialStepMs(c) !== p.stepMs) return []
    if (this.clockMs !== null && p.start + p.stepMs < this.clockMs) this.statsData.lateBuckets += 1
    const out = this.advanceTo(p.start + p.stepMs)
    this.touched.length = 0
    const g = this.touch(slot, p.groupKey, () => ({ ...p.labels }), p.replay)
    if (!g) return out
    if (c.kind === 'absence') {
      if (p.lastSeenMs !== null) g.lastSeenMs = Math.max(g.lastSeenMs ?? p.lastSeenMs, p.lastSeenMs)
    } else {
      mergeIntoBuckets(g.buckets, p.start, p, g.totals)
      pruneBuckets(g.buckets, stepMs(c), keepFromMs(c, this.clockMs ?? 0), g.totals)
      this.mutations += 1
    }
    for (const i of this.index.aggregationRules[slot]!) this.evaluateRule(i, g, p.groupKey, out)
    this.settle(slot, p.groupKey, g)
    return out
  }

  /**
   * Moves the clock forward to `timeMs` (never back) and applies every time-driven change due
   * up to it, in time order. Called with each input's time and by punctuation.
   */
  advanceTo(timeMs: number): Alert[] {
    const out: Alert[] = []
    if (this.clockMs !== null && timeMs <= this.clockMs) return out
    for (;;) {
      const next = this.timers.peek()
      if (!next || next.dueMs > timeMs) break
      this.timers.pop()
      const g = this.groups[next.slot]!.get(next.key)
      if (!g || g.dueMs !== next.dueMs) continue // stale entry
      this.clockMs = Math.max(this.clockMs ?? next.dueMs, next.dueMs)
      const c = this.slotCondition[next.slot]!
      if (isWindowed(c)) {
        pruneBuckets(g.buckets, stepMs(c), keepFromMs(c, this.clockMs), g.totals)
        this.mutations += 1
      }
      for (const i of this.index.aggregationRules[next.slot]!) this.evaluateRule(i, g, next.key, out)
      this.settle(next.slot, next.key, g)
    }
    this.clockMs = timeMs
    return out
  }

  /**
   * The group of an aggregation for an input, created when missing (null when the cap refuses
   * it); touching it makes it the most recent and records it for {@link settle}.
   * @param key the group key (RuleIndex.groupKey)
   * @param labels the group's label values, or a function giving them (called only to create the group)
   */
  private touch(slot: number, key: string, labels: Record<string, string> | (() => Record<string, string>), replay: boolean): AggregationGroup | null {
    const m = this.groups[slot]!
    let g = m.get(key)
    if (!g) {
      if (m.size >= this.maxGroups && !this.evictOne(m)) {
        this.statsData.refusedGroups += 1
        return null
      }
      g = { labels: typeof labels === 'function' ? labels() : labels, buckets: [], totals: emptyTotals(), lastSeenMs: null, replay, dueMs: null, touchedAt: 0, insertedAt: 0 }
      g.insertedAt = g.touchedAt = ++this.tick
      m.set(key, g)
    } else {
      g.touchedAt = ++this.tick // the map's order is brought up to date when evicting
    }
    g.replay = replay
    this.slotKey[slot] = key
    this.touched.push(slot)
    return g
  }

  /**
   * Adds an event to an aggregation's group (once per event, whatever number of its rules the
   * event reaches). Null when there is nothing to evaluate: the event adds nothing to the window
   * (a latency rule and an event without latency; a budget rule and an unpriced event), or the
   * cap refused the group.
   */
  private addEvent(slot: number, key: string, f: EventFacts, replay: boolean): AggregationGroup | null {
    const c = this.slotCondition[slot]!
    if (c.kind === 'event' || c.kind === 'absence') {
      const g = this.touch(slot, key, () => this.labelsOf(slot, f), replay)
      if (g && c.kind === 'absence') g.lastSeenMs = Math.max(g.lastSeenMs ?? f.timeMs, f.timeMs)
      return g
    }
    const add = eventContribution(c, f)
    if (!add) {
      const g = this.groups[slot]!.get(key)
      if (g) {
        g.touchedAt = ++this.tick
        g.replay = replay
      }
      return null
    }
    const g = this.touch(slot, key, () => this.labelsOf(slot, f), replay)
    if (!g) return null
    const step = stepMs(c)
    addToBuckets(g.buckets, step, f.timeMs, add, g.totals)
    pruneBuckets(g.buckets, step, keepFromMs(c, this.clockMs ?? 0), g.totals)
    this.mutations += 1
    return g
  }

  /** Grouping label values of an event for an aggregation's group_by (absent ones left out). */
  private labelsOf(slot: number, f: EventFacts): Record<string, string> {
    const labels: Record<string, string> = {}
    for (const l of this.slotGroupBy[slot]!) {
      const v = f.labels[l as keyof EventFacts['labels']]
      if (v !== null) labels[l] = v
    }
    return labels
  }

  /**
   * Drops the least recently touched group with no pending or firing alert. The map is in
   * (re)insertion order; a group touched since its insertion is moved to the end when met at the
   * front, so the first untouched one is the least recently used (at most 256 entries looked at
   * per eviction).
   */
  private evictOne(m: Map<string, AggregationGroup>): boolean {
    let scanned = 0
    for (const [key, g] of m) {
      if (++scanned > 256) break
      if (g.touchedAt > g.insertedAt) {
        m.delete(key)
        g.insertedAt = g.touchedAt
        m.set(key, g)
        continue
      }
      if (g.alerts === undefined) {
        m.delete(key)
        this.statsData.evictedGroups += 1
        return true
      }
    }
    return false
  }

  /** An event rule's match: the condition holds at the event's time and clears right after it (keep_firing_for runs from there). */
  private applyEventRule(i: number, g: AggregationGroup, key: string, timeMs: number, out: Alert[]): void {
    const rule = this.rules[i]!
    this.evaluationCounts[i] = this.evaluationCounts[i]! + 1
    const rs = ((g.alerts ??= {})[rule.id] ??= this.newAlert(i, g, key))
    this.transition(rule, g, rs, { active: true, value: 1, threshold: 1, window: null }, timeMs, out)
    this.transition(rule, g, rs, { active: false, value: 1, threshold: 1, window: null }, timeMs, out)
    if (rs.phase === 'inactive') dropAlert(g, rule.id)
  }

  /**
   * Evaluates one rule on its aggregation's group at the clock (the group's window pruned at the
   * clock) and applies the transition. An inactive rule whose condition does not hold is settled
   * from the running totals alone (conditions.ts `slidingHolds`); only a rule that is pending,
   * firing or about to be builds its evaluation.
   */
  private evaluateRule(i: number, g: AggregationGroup, key: string, out: Alert[]): void {
    const rule = this.rules[i]!
    const c = rule.condition
    const now = this.clockMs ?? 0
    this.evaluationCounts[i] = this.evaluationCounts[i]! + 1
    let rs = g.alerts?.[rule.id]
    if (rs === undefined) {
      let holds: boolean | undefined
      if (c.kind === 'event') holds = false
      else if (c.kind === 'absence') holds = g.lastSeenMs !== null && now - g.lastSeenMs >= c.afterMs
      else holds = this.holds(c, g, now)
      if (holds === false) return
    } else if (rs.phase === 'firing' && rs.clearedAtMs === null && (c.kind === 'count' || c.kind === 'budget' || c.kind === 'window_sum' || c.kind === 'ratio' || c.kind === 'latency')) {
      // Firing and still holding: nothing changes but the value a later resolution falls back to
      // when it has too little data (ratio, latency). The other figures of a record (value,
      // window) are those of the evaluation that creates it, which is a full one.
      if (this.holds(c, g, now) === true) {
        if (c.kind === 'ratio') rs.value = g.totals.k / g.totals.n
        else if (c.kind === 'latency') rs.value = this.latencyOf(c.statistic)
        return
      }
    }
    let ev: Evaluation
    if (c.kind === 'event') {
      ev = { active: false, value: rs?.value ?? null, threshold: 1, window: null }
    } else if (c.kind === 'absence') {
      const silent = g.lastSeenMs === null ? 0 : now - g.lastSeenMs
      ev = { active: g.lastSeenMs !== null && silent >= c.afterMs, value: silent / 1000, threshold: c.afterMs / 1000, window: g.lastSeenMs === null ? null : { start: g.lastSeenMs, end: now } }
    } else {
      ev = evaluateWindowed(c, g.buckets, g.totals, now)
    }
    if (rs === undefined) {
      if (!ev.active) return
      rs = (g.alerts ??= {})[rule.id] = this.newAlert(i, g, key)
    }
    this.transition(rule, g, rs, ev, now, out)
    if (rs.phase === 'inactive') dropAlert(g, rule.id)
  }

  /** {@link slidingHolds} on a group at the clock, with the group's latency statistics memoised until its window changes. */
  private holds(c: CompiledCondition, g: AggregationGroup, now: number): boolean | undefined {
    const memo = this.latencyMemo
    if (memo.group !== g || memo.at !== this.mutations) {
      memo.group = g
      memo.at = this.mutations
      const v = memo.values
      v.p50 = v.p95 = v.p99 = v.mean = undefined
    }
    return slidingHolds(c, g.buckets, g.totals, now, this.latencyOf)
  }

  private newAlert(i: number, g: AggregationGroup, key: string): RuleAlertState {
    const cache = this.fingerprints[i]!
    let fp = cache.get(key)
    if (fp === undefined) {
      fp = fingerprint(this.rules[i]!.id, g.labels)
      if (cache.size >= 2 * this.maxGroups) cache.clear()
      cache.set(key, fp)
    }
    return { fingerprint: fp, phase: 'inactive', activeSinceMs: null, firingSinceMs: null, clearedAtMs: null, value: null, threshold: 0, window: null }
  }

  private transition(rule: Rule, g: AggregationGroup, s: RuleAlertState, ev: Evaluation, now: number, out: Alert[]): void {
    if (ev.value !== null) s.value = ev.value
    s.threshold = ev.threshold
    if (ev.window) s.window = ev.window
    if (ev.active) {
      s.clearedAtMs = null
      if (s.phase === 'inactive') {
        s.phase = 'pending'
        s.activeSinceMs = now
      }
      if (s.phase === 'pending' && now - s.activeSinceMs! >= rule.forMs) {
        s.phase = 'firing'
        s.firingSinceMs = now
        out.push(this.record(rule, g, s, 'firing', now))
      }
      return
    }
    if (s.phase === 'pending') {
      s.phase = 'inactive'
      s.activeSinceMs = null
    } else if (s.phase === 'firing') {
      s.clearedAtMs ??= now
      if (now - s.clearedAtMs >= rule.keepFiringForMs) {
        out.push(this.record(rule, g, s, 'resolved', now))
        s.phase = 'inactive'
        s.activeSinceMs = null
        s.firingSinceMs = null
        s.clearedAtMs = null
      }
    }
  }

  /**
   * After a group was updated or evaluated: deletes it when it holds nothing (no window data, no
   * pending or firing alert, not an absence group), else sets its next due time (the earliest at
   * which any of its rules may change without new input) and queues a timer when that changed.
   */
  private settle(slot: number, key: string, g: AggregationGroup): void {
    const c = this.slotCondition[slot]!
    const alerts = g.alerts
    if (c.kind !== 'absence' && g.buckets.length === 0 && alerts === undefined) {
      this.groups[slot]!.delete(key)
      return
    }
    const now = this.clockMs ?? 0
    let next = Infinity
    if (alerts) {
      for (const rid in alerts) {
        const s = alerts[rid]!
        const rule = this.rules[this.byId.get(rid)!]!
        if (s.phase === 'pending') next = earliestAfter(now, next, s.activeSinceMs! + rule.forMs)
        if (s.phase === 'firing' && s.clearedAtMs !== null) next = earliestAfter(now, next, s.clearedAtMs + rule.keepFiringForMs)
      }
    }
    if (c.kind === 'absence') {
      if (g.lastSeenMs !== null) {
        for (const i of this.index.aggregationRules[slot]!) {
          const rule = this.rules[i]!
          if (rule.condition.kind === 'absence' && alerts?.[rule.id] === undefined) next = earliestAfter(now, next, g.lastSeenMs + rule.condition.afterMs)
        }
      }
    } else if (c.kind !== 'event' && g.buckets.length > 0) {
      const step = stepMs(c)
      if (c.kind === 'baseline') next = earliestAfter(now, next, Math.floor(now / step) * step + step)
      else if (c.tumbling) next = earliestAfter(now, next, (Math.floor(now / c.windowMs) + 1) * c.windowMs)
      else next = earliestAfter(now, next, g.buckets[0]!.start + step + c.windowMs - 1)
    }
    if (this.alignToPartialSteps && next !== Infinity) {
      const step = partialStepMs(c)
      if (step > 0) next = Math.ceil(next / step) * step
    }
    const previous = g.dueMs
    const due = next === Infinity ? null : next
    // A timer already queued for an earlier time stays, and the group is evaluated then (early:
    // its rules' figures change only at the times computed here, so that evaluation changes
    // nothing) and queued again for its due time. Without this, a group whose due time moves on
    // with every event (an absence group: last event + `after`) would queue an entry per event.
    if (previous !== null && previous > now && (due === null || due >= previous)) return
    g.dueMs = due
    if (due !== null && due !== previous) this.timers.push(due, slot, key)
  }

  private record(rule: Rule, g: AggregationGroup, s: RuleAlertState, status: 'firing' | 'resolved', now: number): Alert {
    const labels: Record<string, string> = { ...rule.labels, ...g.labels, alertname: rule.id, severity: rule.severity }
    if (g.replay) labels.replay = 'true'
    const vars = { labels, value: s.value, threshold: s.threshold, windowMs: windowLength(rule) }
    return {
      fingerprint: s.fingerprint,
      rule: rule.id,
      severity: rule.severity,
      status,
      labels,
      annotations: {
        summary: renderTemplate(rule.annotations.summary, vars),
        description: renderTemplate(rule.annotations.description, vars),
        runbook: rule.annotations.runbook_url ?? null,
      },
      value: s.value ?? 0,
      threshold: s.threshold,
      starts_at: (s.firingSinceMs ?? now) * 1000,
      ends_at: status === 'resolved' ? now * 1000 : null,
      source_window: s.window ? { start: s.window.start * 1000, end: s.window.end * 1000 } : null,
    }
  }
}
