/**
 * Alerting rule-engine benchmark (pure, one thread, no broker): `npx tsx --expose-gc
 * test/bench/alerting-engine.ts [--events N]`.
 *
 * 1. Throughput: the shipped rules plus 50 extra rules (count, ratio, latency p95 and budget
 *    rules over every agent, model and user, with different windows and thresholds) over a
 *    reproducible workload of every event type (test/helpers/aggregation-events.ts), events/s of
 *    the two stages the app runs (processors/alerting/README.md "Co-location and scaling"): per
 *    event the `event` rules (`RuleEngine.onFacts`) and the partial buckets
 *    (`PartialBuckets.add`), and the merge of every record they send (`PartialMerge.onRecord`,
 *    one enriched and one repartition partition, a tick every 1,000 events); plus the time
 *    to snapshot the states as the runtime saves them. The single-stage engine over the same
 *    events (`RuleEngine.onEvent` with every rule) is measured beside it.
 * 2. Memory: one count rule grouped by user fed 10,000 distinct users (10,000 fingerprints, each
 *    with its window buckets, in the merge's engine), then 50,000 more over a 10,000-group cap:
 *    heap growth after GC and the saved state's JSON size; and the first stage's open buckets of
 *    the same 10,000 users before they close.
 */
import { RuleEngine, type EngineState } from '../../processors/alerting/engine.ts'
import { eventFacts } from '../../processors/alerting/event-facts.ts'
import { needsColocation, PartialBuckets, type PartialBucketsState, type PartialRecord, type PartialSource } from '../../processors/alerting/partial-buckets.ts'
import { PartialMerge } from '../../processors/alerting/partial-merge.ts'
import { aggregationId, RuleIndex } from '../../processors/alerting/rule-index.ts'
import { validateRuleFile, type Rule } from '../../processors/alerting/rule-schema.ts'
import { benchRuleFile } from './alerting-rules.ts'
import { agentEvent, enriched, llmPayload, randomWorkload } from '../helpers/aggregation-events.ts'

const argN = process.argv.indexOf('--events')
const N = argN > 0 ? Number(process.argv[argN + 1]) : 200_000
const gc = (globalThis as { gc?: () => void }).gc
const heapMiB = () => {
  // Twice: what the first collection frees can hold more (closures, maps of dropped objects).
  gc?.()
  gc?.()
  return process.memoryUsage().heapUsed / 2 ** 20
}

function compile(specs: unknown[]): Rule[] {
  const r = validateRuleFile({ rules: specs })
  if (!r.ok) throw new Error(r.errors.join('\n'))
  return r.rules
}

const rules = compile(benchRuleFile().rules)
const events = randomWorkload(42, N, { startUs: Date.UTC(2026, 0, 1) * 1000, stepMs: 20, jitterMs: 200 })

const SOURCE: PartialSource = { id: 'enriched:0', sourcePartitions: 1, mergePartitions: 1 }
const LATENESS_MS = 5_000

/** The two stages over `evs`: alerts and records sent. */
function twoStages(evs: typeof events) {
  const local = new RuleEngine(rules.filter((r) => !needsColocation(r)))
  const stage1 = new PartialBuckets(rules.filter(needsColocation), LATENESS_MS)
  const merge = new PartialMerge(rules.filter(needsColocation), {}, 0)
  let alerts = 0
  let records = 0
  const feed = (rs: PartialRecord[]) => {
    records += rs.length
    for (const r of rs) alerts += merge.onRecord(r.value, 0).length
  }
  evs.forEach((e, i) => {
    const f = eventFacts(e)
    alerts += local.onFacts(f, e.event.event_type).length
    stage1.add(f, e.event.event_type, false)
    if (i % 1000 === 999) feed(stage1.flush(SOURCE, false)) // a tick every 1,000 events
  })
  return { local, stage1, merge, alerts, records }
}

twoStages(events.slice(0, 5000)) // warm up
const t0 = performance.now()
const stages = twoStages(events)
const seconds = (performance.now() - t0) / 1000
const alerts = stages.alerts
const s0 = performance.now()
const stateJson = `${stages.local.serialize()}${stages.stage1.serialize()}${stages.merge.serialize()}`
const snapshotMs = performance.now() - s0

const single = new RuleEngine(rules)
for (const e of events.slice(0, 5000)) single.onEvent(e) // warm up
const u0 = performance.now()
for (const e of events) single.onEvent(e)
const singleSeconds = (performance.now() - u0) / 1000

const perUser = compile([{ id: 'per-user', severity: 'warning', group_by: ['user'], selector: { event_types: ['llm_call_completed'] }, condition: { kind: 'count', window: '1h', threshold: 1000 }, annotations: { summary: 'x' } }])
const T = Date.UTC(2026, 0, 1)
const userEvent = (i: number) => enriched(agentEvent('llm_call_completed', llmPayload(), { id: `m-${i}`, timestampUs: (T + i * 10) * 1000, user: `user-${i}` }))
// The first stage holds each user's open bucket (6 minutes wide for a 1h window) until it closes.
const open = new PartialBuckets(perUser, LATENESS_MS)
for (let i = 0; i < 10_000; i += 1) open.add(eventFacts(userEvent(i)), 'llm_call_completed', false)
const openBuckets10k = open.openBuckets()
const openJson10k = open.serialize()
const heapWithoutOpen = heapMiB()
let openCopy: PartialBuckets | null = new PartialBuckets(perUser, LATENESS_MS, JSON.parse(openJson10k) as PartialBucketsState)
const openHeap10k = heapMiB() - heapWithoutOpen
if (openCopy.openBuckets() !== openBuckets10k) throw new Error('restored stage 1 lost buckets')
openCopy = null
// The merge's engine (a RuleEngine aligned to bucket ends) with 10,000 groups, fed their buckets.
let mem: RuleEngine | null = new RuleEngine(perUser, { alignToPartialSteps: true })
const feedUser = (i: number) => {
  const start = Math.floor((T + i * 10) / 360_000) * 360_000
  mem!.applyPartial({ aggregation: aggregationId(perUser[0]!), groupKey: RuleIndex.labelsKey(['user'], { user: `user-${i}` }), labels: { user: `user-${i}` }, start, stepMs: 360_000, n: 1, k: 0, sum: 0, lastSeenMs: null, replay: false })
}
for (let i = 0; i < 10_000; i += 1) feedUser(i)
const groups10k = mem.groupCount()
if (groups10k !== 10_000) throw new Error(`the merge's engine holds ${groups10k} groups, not 10,000 (aggregation id changed?)`)
const json10k = mem.serialize().length
// The engine's own heap at 10,000 fingerprints: with a copy of it (restored from its state) minus without.
const heapWithout10k = heapMiB()
let copy10k: RuleEngine | null = new RuleEngine(perUser, { alignToPartialSteps: true }, JSON.parse(mem.serialize()) as EngineState)
const heap10k = heapMiB() - heapWithout10k
if (copy10k.groupCount() !== groups10k) throw new Error('restored engine lost groups')
copy10k = null
for (let i = 10_000; i < 60_000; i += 1) feedUser(i)
const groups60k = mem.groupCount()
const evicted = mem.stats().evictedGroups
// The engine's own heap after 60,000 users: a copy restored from its state, measured with the
// copy and then without it (in that order: a baseline taken first came out above the heap with
// the copy, by 4 MiB in a 50,000-event run, as garbage the first collections missed was freed
// between the two readings).
const json60k = mem.serialize()
mem = null
let copy60k: RuleEngine | null = new RuleEngine(perUser, { alignToPartialSteps: true }, JSON.parse(json60k) as EngineState)
if (copy60k.groupCount() !== groups60k) throw new Error('restored engine lost groups')
const heapWith60k = heapMiB()
copy60k = null
const heapEngine60k = heapWith60k - heapMiB()

const report = {
  rules: rules.length,
  events: N,
  events_per_s: Math.round(N / seconds),
  single_stage_events_per_s: Math.round(N / singleSeconds),
  repartition_records: stages.records,
  alerts,
  groups: stages.local.groupCount() + stages.merge.engine.groupCount(),
  snapshot_ms: Math.round(snapshotMs),
  snapshot_bytes: stateJson.length,
  memory: { fingerprints: groups10k, heap_mib_10k: Number(heap10k.toFixed(1)), state_json_bytes_10k: json10k, open_buckets_10k: openBuckets10k, open_heap_mib_10k: Number(openHeap10k.toFixed(1)), open_json_bytes_10k: openJson10k.length, after_60k_users_groups: groups60k, engine_heap_mib_after_60k: Number(heapEngine60k.toFixed(1)), evicted, gc: gc !== undefined },
}
console.log(JSON.stringify(report, null, 2))
