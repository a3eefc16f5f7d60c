/**
 * Alerting rule-engine benchmark (pure, one thread, no broker): `npx tsx --expose-gc
 * test/bench/alerting-engine.ts [--events N]`.
 *
 * 1. Throughput: the shipped rules plus 50 extra rules (count, ratio, latency p95 and budget
 *    rules over every agent, model and user, with different windows and thresholds) over a
 *    reproducible workload of every event type (test/helpers/aggregation-events.ts), events/s of
 *    `RuleEngine.onEvent`, plus the time to snapshot the state as the runtime saves it.
 * 2. Memory: one count rule grouped by user fed 10,000 distinct users (10,000 fingerprints, each
 *    with its window buckets), then 50,000 more over a 10,000-group cap: heap growth after GC and
 *    the saved state's JSON size.
 */
import { RuleEngine, type EngineState } from '../../processors/alerting/engine.ts'
import { validateRuleFile, type Rule } from '../../processors/alerting/rule-schema.ts'
import { benchRuleFile } from './alerting-rules.ts'
import { agentEvent, enriched, llmPayload, randomWorkload } from '../helpers/aggregation-events.ts'

const argN = process.argv.indexOf('--events')
const N = argN > 0 ? Number(process.argv[argN + 1]) : 200_000
const gc = (globalThis as { gc?: () => void }).gc
const heapMiB = () => {
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

const engine = new RuleEngine(rules)
for (const e of events.slice(0, 5000)) engine.onEvent(e) // warm up
const t0 = performance.now()
let alerts = 0
for (const e of events) alerts += engine.onEvent(e).length
const seconds = (performance.now() - t0) / 1000
const s0 = performance.now()
const stateJson = JSON.stringify(engine.snapshot())
const snapshotMs = performance.now() - s0

const perUser = compile([{ id: 'per-user', severity: 'warning', group_by: ['user'], selector: { event_types: ['llm_call_completed'] }, condition: { kind: 'count', window: '1h', threshold: 1000 }, annotations: { summary: 'x' } }])
let mem: RuleEngine | null = new RuleEngine(perUser)
const T = Date.UTC(2026, 0, 1)
for (let i = 0; i < 10_000; i += 1) mem!.onEvent(enriched(agentEvent('llm_call_completed', llmPayload(), { id: `m-${i}`, timestampUs: (T + i * 10) * 1000, user: `user-${i}` })))
const groups10k = mem.groupCount()
const json10k = mem.serialize().length
// The engine's own heap at 10,000 fingerprints: with a copy of it (restored from its state) minus without.
const heapWithout10k = heapMiB()
let copy10k: RuleEngine | null = new RuleEngine(perUser, {}, JSON.parse(mem.serialize()) as EngineState)
const heap10k = heapMiB() - heapWithout10k
if (copy10k.groupCount() !== groups10k) throw new Error('restored engine lost groups')
copy10k = null
for (let i = 10_000; i < 60_000; i += 1) mem!.onEvent(enriched(agentEvent('llm_call_completed', llmPayload(), { id: `m-${i}`, timestampUs: (T + i * 10) * 1000, user: `user-${i}` })))
const heapWith = heapMiB()
const groups60k = mem.groupCount()
const evicted = mem.stats().evictedGroups
mem = null
const heapEngine60k = heapWith - heapMiB() // the engine's own heap: with it minus after dropping it

const report = {
  rules: rules.length,
  events: N,
  events_per_s: Math.round(N / seconds),
  alerts,
  groups: engine.groupCount(),
  snapshot_ms: Math.round(snapshotMs),
  snapshot_bytes: stateJson.length,
  memory: { fingerprints: groups10k, heap_mib_10k: Number(heap10k.toFixed(1)), state_json_bytes_10k: json10k, after_60k_users_groups: groups60k, engine_heap_mib_after_60k: Number(heapEngine60k.toFixed(1)), evicted, gc: gc !== undefined },
}
console.log(JSON.stringify(report, null, 2))
