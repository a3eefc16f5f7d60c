/**
 * The rule engine's index of its rules, built once at start so that an event is evaluated only
 * against the rules that can match it (pure):
 * - by event type: for each event type, the indices of the event rules (every kind but
 *   `window_sum`) whose selector names that type or names no type, in rule-file order (the order
 *   the engine's alerts come out in is the rule order, as without the index);
 * - compiled selectors: the selector's fields other than `event_types` (already settled by the
 *   index) as Sets, checked only for the fields the rule gives;
 * - grouping keys: rules that group by the same labels share one key slot, so an event's group
 *   key (label values joined unambiguously) is built once per distinct `group_by` list, not once
 *   per rule;
 * - shared aggregations: rules that count the same events into the same windows and differ only
 *   in what they compare the result with (threshold, minimum sample, statistic, `for`,
 *   `keep_firing_for`, severity, labels, annotations) share one aggregation
 *   ({@link aggregationId}): the engine keeps one window per aggregation and group, updated once
 *   per event, and each rule reads it.
 */
import { AGENT_EVENT_TYPES } from '../../schemas/index.ts'
import type { EventFacts } from './event-facts.ts'
import type { GroupLabel, Rule, Selector } from './rule-schema.ts'

/** A selector minus `event_types`, compiled to a predicate over an event's facts. */
export type CompiledSelector = (f: EventFacts) => boolean

const LABEL_FIELDS = [
  ['agents', 'agent'],
  ['models', 'model'],
  ['users', 'user'],
  ['tiers', 'tier'],
  ['sources', 'source'],
  ['error_types', 'error_type'],
] as const satisfies readonly (readonly [keyof Selector, GroupLabel])[]

/**
 * Compiles a selector's fields other than `event_types` (which the index settles): true when
 * every given field matches, exactly as event-facts.ts `matches` decides for those fields.
 */
export function compileSelector(selector: Selector): CompiledSelector {
  const checks: CompiledSelector[] = []
  for (const [field, label] of LABEL_FIELDS) {
    const list = selector[field] as readonly string[] | undefined
    if (list === undefined) continue
    const set = new Set(list)
    checks.push((f) => {
      const v = f.labels[label]
      return v !== null && set.has(v)
    })
  }
  if (selector.health_status !== undefined) {
    const set = new Set<string>(selector.health_status)
    checks.push((f) => f.healthStatus !== null && set.has(f.healthStatus))
  }
  if (selector.success !== undefined) {
    const want = selector.success
    checks.push((f) => f.success === want)
  }
  if (selector.anomaly !== undefined) {
    const want = selector.anomaly
    checks.push((f) => f.anomaly === want)
  }
  if (checks.length === 0) return () => true
  if (checks.length === 1) return checks[0]!
  return (f) => {
    for (const check of checks) if (!check(f)) return false
    return true
  }
}

/**
 * What a rule aggregates, as a stable string: two rules with the same id aggregate the same events
 * (selector and `group_by`) into the same buckets (contribution, bucket width and retention), so
 * they can share one window per group. The saved engine state is keyed by it, so a rule whose
 * aggregation changes starts afresh while unchanged rules keep their windows.
 *
 * What goes in, per kind: `event` and `absence` keep no window (an absence reads the group's last
 * event time); `count` counts events; `ratio` also counts its numerator; `latency` keeps the
 * latency sum and histogram (every statistic reads it); `budget` sums USD or tokens;
 * `window_sum` sums one field of the metrics windows; `baseline` counts events in buckets of its
 * own width and retention. Windowed kinds add the window length and type.
 */
export function aggregationId(rule: Rule): string {
  const c = rule.condition
  let what: unknown[]
  if (c.kind === 'event' || c.kind === 'absence') what = [c.kind]
  else if (c.kind === 'baseline') what = [c.kind, c.windowMs, c.baselineWindowMs]
  else {
    // What else decides a windowed kind's contribution: a ratio's numerator, a budget's measure, a window_sum's field.
    const contribution = c.kind === 'ratio' ? c.numerator : c.kind === 'budget' ? c.measure : c.kind === 'window_sum' ? c.field : null
    what = [c.kind, c.windowMs, c.tumbling, contribution]
  }
  return JSON.stringify([what, rule.group_by, sortedKeys(rule.selector)])
}

/** A copy of a JSON value with every object's keys sorted (a stable string of a selector). */
function sortedKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortedKeys)
  if (v === null || typeof v !== 'object') return v
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortedKeys((v as Record<string, unknown>)[k])]))
}

/**
 * The JSON object `{ aggregation id: { group key: value } }` of per-aggregation-slot maps (slots
 * with no entry left out), written without an intermediate copy: the saved state of the engine
 * and of the partial buckets.
 * @param ids aggregation id per slot ({@link RuleIndex.aggregationIds})
 */
export function aggregationMapsJson(ids: readonly string[], maps: readonly ReadonlyMap<string, unknown>[]): string {
  const parts: string[] = []
  maps.forEach((m, slot) => {
    if (m.size === 0) return
    const entries: string[] = []
    for (const [key, v] of m) entries.push(`${JSON.stringify(key)}:${JSON.stringify(v)}`)
    parts.push(`${JSON.stringify(ids[slot])}:{${entries.join(',')}}`)
  })
  return `{${parts.join(',')}}`
}

/** The rule index (module doc). */
export class RuleIndex {
  /** Compiled selector (without event_types) per rule index. */
  readonly selectors: readonly CompiledSelector[]
  /** Key slot per rule index (rules with the same group_by list share one). */
  readonly keySlot: readonly number[]
  /** The distinct group_by lists, by key slot. */
  readonly keyLabels: readonly (readonly GroupLabel[])[]
  /** Aggregation slot per rule index (rules with the same {@link aggregationId} share one). */
  readonly aggregationSlot: readonly number[]
  /** {@link aggregationId} per aggregation slot. */
  readonly aggregationIds: readonly string[]
  /** Rule indices per aggregation slot, in rule order. */
  readonly aggregationRules: readonly (readonly number[])[]
  private readonly byType: ReadonlyMap<string, readonly number[]>
  private readonly anyType: readonly number[]
  private readonly slotsByType: ReadonlyMap<string, readonly number[]>
  private readonly slotsAnyType: readonly number[]

  /** @param rules compiled rules, in rule-file order */
  constructor(rules: readonly Rule[]) {
    this.selectors = rules.map((r) => compileSelector(r.selector))
    const slots = new Map<string, number>()
    const keyLabels: GroupLabel[][] = []
    this.keySlot = rules.map((r) => {
      const name = r.group_by.join('\u0000')
      let slot = slots.get(name)
      if (slot === undefined) {
        slot = keyLabels.length
        slots.set(name, slot)
        keyLabels.push([...r.group_by])
      }
      return slot
    })
    this.keyLabels = keyLabels
    const aggregations = new Map<string, number>()
    const aggregationRules: number[][] = []
    this.aggregationSlot = rules.map((r, i) => {
      const id = aggregationId(r)
      let slot = aggregations.get(id)
      if (slot === undefined) {
        slot = aggregationRules.length
        aggregations.set(id, slot)
        aggregationRules.push([])
      }
      aggregationRules[slot]!.push(i)
      return slot
    })
    this.aggregationIds = [...aggregations.keys()]
    this.aggregationRules = aggregationRules
    const eventRules = rules.flatMap((r, i) => (r.condition.kind === 'window_sum' ? [] : [i]))
    this.anyType = eventRules.filter((i) => rules[i]!.selector.event_types === undefined)
    const byType = new Map<string, number[]>()
    for (const type of AGENT_EVENT_TYPES) {
      byType.set(type, eventRules.filter((i) => {
        const types = rules[i]!.selector.event_types
        return types === undefined || types.includes(type)
      }))
    }
    this.byType = byType
    const slotsOf = (ruleIndices: readonly number[]) => [...new Set(ruleIndices.map((i) => this.aggregationSlot[i]!))]
    this.slotsByType = new Map([...byType].map(([type, list]) => [type, slotsOf(list)]))
    this.slotsAnyType = slotsOf(this.anyType)
  }

  /** The aggregation slots whose rules can match an event of this type, each once, in first-rule order (the rules of one aggregation share its selector). */
  aggregationSlotsFor(eventType: string): readonly number[] {
    return this.slotsByType.get(eventType) ?? this.slotsAnyType
  }

  /** Indices of the event rules that can match an event of this type, in rule order. */
  rulesFor(eventType: string): readonly number[] {
    return this.byType.get(eventType) ?? this.anyType
  }

  /**
   * The group key of an event for a key slot: `label\u0001value\u0002` for each grouping label
   * the event has a value for, in the rule's group_by order (labels without a value left out).
   */
  static groupKey(labels: readonly GroupLabel[], f: EventFacts): string {
    let key = ''
    for (const l of labels) {
      const v = f.labels[l]
      if (v !== null) key += `${l}\u0001${v}\u0002`
    }
    return key
  }

  /** {@link groupKey} of a group's label values (labels absent from `values` left out, as groupKey leaves out an event's null ones). */
  static labelsKey(labels: readonly GroupLabel[], values: Readonly<Record<string, string>>): string {
    let key = ''
    for (const l of labels) {
      const v = values[l]
      if (v !== undefined) key += `${l}\u0001${v}\u0002`
    }
    return key
  }
}
