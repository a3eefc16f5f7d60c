/**
 * The outcome of an `auren chaos` run, computed from what the pipeline wrote (pure: the command
 * reads the topics and tables, this module counts): events in, lost, double-counted, dead letters
 * by reason, lag and drain time, and the table the command prints.
 *
 * Definitions (issue 10):
 * - events in: distinct `event_id`s of the decodable records on the input topic (the sources may
 *   write an event twice when a send is retried after a broker outage; it is one event).
 * - lost: an input event that reached neither the aggregation's applied set (`agg_seen_events`)
 *   nor the DLQ; for enrichment, an input event absent from the enriched topic and the DLQ.
 * - double-counted: rollup events (`sum(agg_agent_window.events)`, one per applied event) beyond
 *   the distinct input events applied; with exactly-once delivery also any event_id the enriched
 *   topic holds more than once (read_committed). At-least-once enrichment may repeat an event on
 *   its topic after a crash (consumers dedup by event_id): reported, not a double count.
 */

/** What the command observed and read back after draining. */
export interface ChaosObservations {
  readonly delivery: 'exactly-once' | 'at-least-once'
  readonly durationMs: number
  readonly faults: {
    readonly processorKills: Readonly<Record<string, number>>
    readonly brokerKills: number
    /** Each broker outage as clients saw it, ms (kill until the broker worked again). */
    readonly brokerOutagesMs: readonly number[]
    readonly databaseStops: number
    readonly databaseOutagesMs: readonly number[]
    /** Instances that exited without being killed by the run, by app. */
    readonly unexpectedExits: Readonly<Record<string, number>>
  }
  /** Records written to the input topic that do not decode (the poison the run produced). */
  readonly poisonSent: number
  /** Distinct event ids of the decodable input records. */
  readonly inputIds: ReadonlySet<string>
  /** Decodable input records (duplicates from retried sends included). */
  readonly inputRecords: number
  /** event_id → copies on the enriched topic (read_committed). */
  readonly enrichedCounts: ReadonlyMap<string, number>
  /** Dead letters: reason and, when the original bytes decode, the event id; source coordinates. */
  readonly deadLetters: ReadonlyArray<{ reason: string; eventId: string | null; source: string }>
  /** event_ids in the aggregation's applied set. */
  readonly appliedIds: ReadonlySet<string>
  /** sum(events) over agg_agent_window. */
  readonly rollupEvents: number
  /** Highest auren_consumer_lag_records seen for one partition, per app (null: never scraped). */
  readonly maxLag: Readonly<Record<string, number | null>>
  /** ms from the end of the last fault until both groups drained; null when they did not. */
  readonly drainMs: number | null
}

/** The figures of the table. */
export interface ChaosResult {
  readonly eventsIn: number
  readonly lostEnrichment: number
  readonly lostAggregation: number
  readonly lost: number
  readonly doubleCountedRollups: number
  readonly enrichedDuplicates: number
  readonly doubleCounted: number
  readonly deadLettersByReason: Readonly<Record<string, number>>
  /** Dead letters that are not the run's poison (a decodable record, or another reason). */
  readonly unexpectedDeadLetters: number
  readonly ok: boolean
}

/** Counts losses and double counts (see the module comment). */
export function chaosResult(o: ChaosObservations): ChaosResult {
  const deadLetteredIds = new Set(o.deadLetters.flatMap((d) => (d.eventId ? [d.eventId] : [])))
  let lostEnrichment = 0
  let lostAggregation = 0
  let appliedInputs = 0
  for (const id of o.inputIds) {
    if (deadLetteredIds.has(id)) continue
    if (!o.enrichedCounts.has(id)) lostEnrichment++
    if (o.appliedIds.has(id)) appliedInputs++
    else lostAggregation++
  }
  const enrichedDuplicates = [...o.enrichedCounts.values()].reduce((n, c) => n + (c - 1), 0)
  const doubleCountedRollups = Math.max(0, o.rollupEvents - appliedInputs)
  const byReason: Record<string, number> = {}
  const distinct = new Map<string, { reason: string; eventId: string | null }>()
  for (const d of o.deadLetters) distinct.set(d.source, d)
  for (const d of distinct.values()) byReason[d.reason] = (byReason[d.reason] ?? 0) + 1
  const unexpectedDeadLetters = [...distinct.values()].filter((d) => d.reason !== 'DESERIALIZATION_FAILED' || d.eventId !== null).length
  const lost = Math.max(lostEnrichment, lostAggregation)
  const doubleCounted = doubleCountedRollups + (o.delivery === 'exactly-once' ? enrichedDuplicates : 0)
  return {
    eventsIn: o.inputIds.size,
    lostEnrichment,
    lostAggregation,
    lost,
    doubleCountedRollups,
    enrichedDuplicates,
    doubleCounted,
    deadLettersByReason: byReason,
    unexpectedDeadLetters,
    ok: lost === 0 && doubleCounted === 0 && o.drainMs !== null,
  }
}

const n = (v: number) => v.toLocaleString('en-US')
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`

/** The table `auren chaos` prints: one row per figure, `name | value`. */
export function renderChaosTable(o: ChaosObservations, r: ChaosResult): string {
  const kills = Object.entries(o.faults.processorKills)
  const exits = Object.entries(o.faults.unexpectedExits).filter(([, v]) => v > 0)
  const rows: Array<[string, string]> = [
    ['delivery', o.delivery],
    ['duration', s(o.durationMs)],
    ['faults: processor SIGKILL', `${n(kills.reduce((t, [, v]) => t + v, 0))} (${kills.map(([app, v]) => `${app} ${v}`).join(', ')})`],
    ['faults: broker SIGKILL', `${o.faults.brokerKills}${o.faults.brokerOutagesMs.length ? ` (outage ${o.faults.brokerOutagesMs.map(s).join(', ')})` : ''}`],
    ['faults: PostgreSQL stop', `${o.faults.databaseStops}${o.faults.databaseOutagesMs.length ? ` (outage ${o.faults.databaseOutagesMs.map(s).join(', ')})` : ''}`],
    ['instances that exited by themselves', exits.length ? exits.map(([app, v]) => `${app} ${v}`).join(', ') : '0'],
    ['events in (distinct event_id)', `${n(r.eventsIn)} (${n(o.inputRecords)} records, ${n(o.poisonSent)} poison)`],
    ['lost', `${n(r.lost)} (enrichment ${n(r.lostEnrichment)}, aggregation ${n(r.lostAggregation)})`],
    ['double-counted', `${n(r.doubleCounted)} (rollups ${n(r.doubleCountedRollups)}${o.delivery === 'exactly-once' ? `, enriched topic ${n(r.enrichedDuplicates)}` : ''})`],
    ...(o.delivery === 'at-least-once' ? [['enriched copies beyond the first (deduped downstream)', n(r.enrichedDuplicates)] as [string, string]] : []),
    ['DLQ by reason', Object.entries(r.deadLettersByReason).map(([k, v]) => `${k} ${n(v)}`).join(', ') || '0'],
    ['DLQ other than the poison', n(r.unexpectedDeadLetters)],
    ['max lag (records, one partition)', Object.entries(o.maxLag).map(([app, v]) => `${app} ${v === null ? 'not scraped' : n(v)}`).join(', ')],
    ['time to drain after the last fault', o.drainMs === null ? 'did not drain' : s(o.drainMs)],
    ['result', r.ok ? 'PASS: nothing lost, nothing counted twice' : 'FAIL'],
  ]
  const width = Math.max(...rows.map(([k]) => k.length))
  const line = `+-${'-'.repeat(width)}-+-${'-'.repeat(Math.max(...rows.map(([, v]) => v.length)))}-+`
  return [line, ...rows.map(([k, v]) => `| ${k.padEnd(width)} | ${v.padEnd(line.length - width - 7)} |`), line].join('\n')
}
