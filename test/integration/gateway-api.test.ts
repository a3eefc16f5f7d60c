/**
 * The REST read API against real PostgreSQL rollups: the recorded ChatDev runs (a user per run)
 * and a simulator stream (every event type) go through the real enrichment transform and the
 * real aggregation sink (no broker: test/helpers/aggregation-db.ts plays the runner), then every
 * endpoint is called through `app.inject` with real signed tokens, and its figures are checked
 * against direct computations over the same enriched events: per-agent tokens equal the
 * independent ChatDev log scan exactly, costs equal the enriched costs summed within 1e-9 USD,
 * and each endpoint has at least one figure cross-checked. Then every 4xx case, the viewer
 * scope, the OpenAPI document and the response schemas.
 */
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { Validator } from '@seriousme/openapi-schema-validator'
import { Ajv } from 'ajv'
import type { FastifyInstance } from 'fastify'
import { SignJWT } from 'jose'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AgentEvent, EnrichedAgentEvent } from '../../schemas/index.ts'
import { DEFAULT_ENRICHMENT_CONFIG } from '../../processors/enrichment/config.ts'
import { createEnrichmentTransform } from '../../processors/enrichment/transform.ts'
import { createSimulator } from '../../scripts/sources/simulator.ts'
import { loadTraceRuns } from '../../scripts/sources/trace-files.ts'
import { buildGateway } from '../../gateway/app.ts'
import { createAuthenticator } from '../../gateway/auth.ts'
import { DEFAULT_API_CONFIG } from '../../gateway/config.ts'
import { parseCsv } from '../../gateway/analytics/csv.ts'
import { RESPONSES } from '../../gateway/openapi.ts'
import { API_ROUTES } from '../../gateway/routes.ts'
import { scanChatDevFolder } from '../helpers/chatdev-reference.ts'
import { createTestDb, feed, splitByTrace, type TestDb } from '../helpers/aggregation-db.ts'
import { ensureAlertTables } from '../../processors/alerting/notifiers/alert-delivery.ts'
import { requireRecordedRuns } from '../helpers/required-data.ts'

const TRACES = join(import.meta.dirname, '..', '..', '..', 'shared', 'data', 'agent-traces')
const SIM_START = '2023-10-27T00:00:00Z'
const CHATDEV = { from: '2023-08-01T00:00:00Z', to: SIM_START }
const ALL = { from: '2023-08-01T00:00:00Z', to: '2023-10-28T00:00:00Z' }
const qs = (o: Record<string, string | number>) => new URLSearchParams(Object.entries(o).map(([k, v]): [string, string] => [k, String(v)])).toString()

/** ChatDev runs (users alternate per run) and 3000 simulator events, enriched by the real transform. */
function enrichedEvents(): EnrichedAgentEvent[] {
  const runs = loadTraceRuns(TRACES).runs.filter((r) => r.kind === 'chatdev')
  const raw: AgentEvent[] = runs.flatMap((run, i) => run.events.map((e) => ({ ...e, user_id: i % 2 === 0 ? 'user-chatdev-a' : 'user-chatdev-b' })))
  const sim = createSimulator({ seed: 7, startTimeUs: Date.parse(SIM_START) * 1000 })
  for (let i = 0; i < 3000; i++) raw.push(sim.next())
  const transform = createEnrichmentTransform(DEFAULT_ENRICHMENT_CONFIG)
  const registry = new Registry()
  return raw.flatMap((event, offset) => {
    const outcome = transform(event, { log: pino({ level: 'silent' }), now: () => Date.now(), registry, source: { topic: 'in', partition: 0, offset: String(offset) } })
    return outcome.kind === 'emit' ? outcome.records.map((r) => r.value) : []
  })
}

const sumBy = <T>(xs: readonly T[], key: (x: T) => string | null, value: (x: T) => number) => {
  const out = new Map<string, number>()
  for (const x of xs) {
    const k = key(x)
    if (k !== null) out.set(k, (out.get(k) ?? 0) + value(x))
  }
  return out
}
const agentOf = (e: EnrichedAgentEvent) => e.event.source_agent?.id ?? ''
const inRange = (r: { from: string; to: string }) => (e: EnrichedAgentEvent) => e.event.timestamp >= Date.parse(r.from) * 1000 && e.event.timestamp < Date.parse(r.to) * 1000
type LlmDone = { input_tokens: number; output_tokens: number; model: string; success: boolean; error_type: string | null; reported_cost_usd: number | null }
/** An answered call: a response came back (success, or usage reported); a retry without usage is no call. */
const llmDone = (e: EnrichedAgentEvent) => {
  if (e.event.event_type !== 'llm_call_completed') return null
  const p = e.event.payload as LlmDone
  return p.success || p.input_tokens > 0 || p.output_tokens > 0 || p.reported_cost_usd !== null ? p : null
}
const llmFailedAttempt = (e: EnrichedAgentEvent) => e.event.event_type === 'llm_call_completed' && llmDone(e) === null
const expectMapClose = (got: Map<string, number>, want: Map<string, number>) => {
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort())
  for (const [k, v] of want) expect(Math.abs(got.get(k)! - v), k).toBeLessThan(1e-9)
}

requireRecordedRuns(TRACES)

describe('gateway REST API over the rollups of the recorded runs', () => {
  let events: EnrichedAgentEvent[]
  let db: TestDb
  let app: FastifyInstance
  const secret = randomBytes(48).toString('base64url')
  const key = new TextEncoder().encode(secret)
  const tokens: Record<string, string> = {}
  /** Late events as the sinks applied them (auren_aggregation_late_events_total's source), each once. */
  let lateApplied = 0
  const sign = (claims: Record<string, unknown>, exp: string | number = '10m', k = key) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject(String(claims.sub ?? 'x')).setIssuedAt().setExpirationTime(exp).sign(k)
  const get = async (path: string, token: string | null = tokens.operator!) => {
    const res = await app.inject({ method: 'GET', url: path, headers: token === null ? {} : { authorization: `Bearer ${token}` } })
    return { status: res.statusCode, body: res.headers['content-type']?.toString().startsWith('application/json') ? res.json() : res.body, headers: res.headers }
  }
  const ok = async (path: string, token?: string) => {
    const r = await get(path, token)
    expect(r.status, `${path}: ${JSON.stringify(r.body)}`).toBe(200)
    return r.body
  }

  beforeAll(async () => {
    events = enrichedEvents()
    db = await createTestDb()
    await ensureAlertTables(db.pool(1)) // the alerting app's tables, in the same schema as a deployment has them (GET /api/v2/alerts)
    const counting = { onCommitted: (b: { merged: { late_events: number } }) => void (lateApplied += b.merged.late_events) }
    await feed([db.sink(counting), db.sink(counting)], splitByTrace(events, 4), { seed: 11, concurrent: true, maxBatch: 200 })
    app = buildGateway({ db: db.pool(4), auth: createAuthenticator({ mode: 'hs256', secret, clockToleranceS: 0 }), registry: new Registry(), api: DEFAULT_API_CONFIG })
    await app.ready()
    tokens.operator = await sign({ sub: 'ops-1', roles: ['operator'] })
    tokens.admin = await sign({ sub: 'admin-1', roles: 'admin' })
    tokens.viewerA = await sign({ sub: 'user-chatdev-a', roles: ['viewer'] })
    tokens.viewer1 = await sign({ sub: 'user-001', roles: ['viewer'] })
  })
  afterAll(async () => {
    await app?.close()
    await db?.drop()
  })

  it('per-agent answered calls and tokens equal the ChatDev log scan exactly; costs equal the enriched costs summed', async () => {
    const reference = new Map<string, { calls: number; input: number; output: number }>()
    for (const perAgent of scanChatDevFolder(TRACES).values()) {
      for (const [agent, s] of perAgent) {
        const r = reference.get(agent) ?? { calls: 0, input: 0, output: 0 }
        reference.set(agent, { calls: r.calls + s.calls, input: r.input + s.input, output: r.output + s.output })
      }
    }
    const body = await ok(`/api/v2/agents/performance?${qs(CHATDEV)}`)
    type Perf = { agent_id: string; llm_calls: number | null; llm_failed_attempts: number | null; llm_failed_attempts_by_error_type: Record<string, number>; cost_usd: number | null; llm: { input_tokens: number | null; output_tokens: number | null; total_tokens: number | null } }
    const got = new Map<string, { calls: number; input: number; output: number }>((body.agents as Perf[])
      .filter((a) => (a.llm_calls ?? 0) > 0)
      .map((a) => [a.agent_id, { calls: a.llm_calls!, input: a.llm.input_tokens!, output: a.llm.output_tokens! }]))
    expect(got).toEqual(reference)
    // rate-limit retries are failed attempts by error_type, never calls
    const retries = sumBy(events.filter(inRange(CHATDEV)).filter(llmFailedAttempt), agentOf, () => 1)
    expect(retries.size).toBeGreaterThan(0)
    expect(new Map((body.agents as Perf[]).filter((a) => (a.llm_failed_attempts ?? 0) > 0).map((a) => [a.agent_id, a.llm_failed_attempts]))).toEqual(retries)
    for (const a of body.agents as Perf[]) {
      if ((a.llm_failed_attempts ?? 0) > 0) expect(a.llm_failed_attempts_by_error_type).toEqual({ rate_limit_exceeded: a.llm_failed_attempts })
      if (a.llm_calls === 0) expect([a.llm.input_tokens, a.llm.output_tokens, a.llm.total_tokens]).toEqual([null, null, null])
    }

    const chatdev = events.filter(inRange(CHATDEV))
    const costs = sumBy(chatdev.filter((e) => e.cost_usd !== null && e.cost_usd !== 0), agentOf, (e) => e.cost_usd!)
    expect(costs.size).toBeGreaterThan(0)
    expectMapClose(new Map(body.agents.filter((a: { cost_usd: number | null }) => a.cost_usd !== null && a.cost_usd !== 0).map((a: { agent_id: string; cost_usd: number }) => [a.agent_id, a.cost_usd])), costs)

    const all = await ok(`/api/v2/costs?${qs({ ...ALL, group_by: 'agent' })}`)
    const total = events.reduce((s, e) => s + (e.cost_usd ?? 0), 0)
    expect(Math.abs(all.total_usd - total)).toBeLessThan(1e-9)
    expectMapClose(new Map(all.groups.filter((g: { cost_usd: number | null }) => g.cost_usd !== null && g.cost_usd !== 0).map((g: { key: string; cost_usd: number }) => [g.key, g.cost_usd])), sumBy(events.filter((e) => agentOf(e) !== '' && (e.cost_usd ?? 0) !== 0), agentOf, (e) => e.cost_usd!))
    const byModel = await ok(`/api/v2/costs?${qs({ ...ALL, group_by: 'model' })}`)
    expectMapClose(new Map(byModel.groups.map((g: { key: string; cost_usd: number | null }) => [g.key, g.cost_usd ?? 0])), sumBy(events.filter((e) => e.event.event_type === 'llm_call_completed'), (e) => (e.event.payload as LlmDone).model, (e) => e.cost_usd ?? 0))
    // per-call cost divides by answered calls
    for (const g of byModel.groups as { key: string; cost_usd: number | null; llm_calls: number; cost_per_call_usd: number | null }[]) {
      if (g.cost_usd !== null && g.llm_calls > 0) expect(g.cost_per_call_usd).toBeCloseTo(g.cost_usd / events.filter((e) => llmDone(e)?.model === g.key).length, 12)
    }
    const byUser = await ok(`/api/v2/costs?${qs({ ...ALL, group_by: 'user' })}`)
    expectMapClose(new Map(byUser.groups.map((g: { key: string; cost_usd: number }) => [g.key, g.cost_usd])), sumBy(events, (e) => e.event.user_id, (e) => e.cost_usd ?? 0))
    const byDay = await ok(`/api/v2/costs?${qs({ ...ALL, group_by: 'day' })}`)
    expect(Math.abs(byDay.groups.reduce((s: number, g: { cost_usd: number }) => s + g.cost_usd, 0) - total)).toBeLessThan(1e-9)
  })

  it('projections: the basis is the last 60 minutes of data and the rate and trend follow the stated method', async () => {
    const body = await ok(`/api/v2/analytics/projections?${qs(ALL)}`)
    const lastUs = Math.max(...events.map((e) => e.event.timestamp))
    const asOfUs = (Math.floor(lastUs / 60e6) + 1) * 60e6
    expect(body.as_of).toBe(new Date(asOfUs / 1000).toISOString())
    const basis = events.filter((e) => e.event.timestamp >= Math.floor(asOfUs - 60 * 60e6) && e.event.timestamp < asOfUs)
    const tokens = basis.reduce((s, e) => s + (llmDone(e) ? llmDone(e)!.input_tokens + llmDone(e)!.output_tokens : 0), 0)
    const cost = basis.reduce((s, e) => s + (e.cost_usd ?? 0), 0)
    expect(body.basis.tokens).toBe(tokens)
    expect(Math.abs(body.basis.cost_usd - cost)).toBeLessThan(1e-9)
    expect(body.next_hour.tokens).toBe(Math.round(tokens))
    expect(body.basis.windows_with_cost).toBeGreaterThanOrEqual(body.basis.min_windows)
    expect(body.reasons.cost).toBeNull()
    // the ChatDev part alone, from where its data ends: its last hour holds too few priced windows for a trend of its own
    const chatdev = await ok(`/api/v2/analytics/projections?${qs(CHATDEV)}`)
    expect(chatdev.as_of).not.toBeNull()
    expect(chatdev.basis.windows_with_cost).toBeGreaterThan(0)
    if (chatdev.basis.windows_with_cost < chatdev.basis.min_windows) expect([chatdev.next_day.cost_usd, chatdev.reasons.cost]).toEqual([null, expect.stringMatching(/minimum 10/)])
    else expect(chatdev.next_day.cost_usd).toBeGreaterThan(0)
    const costsChatdev = await ok(`/api/v2/costs?${qs(CHATDEV)}`)
    expect(costsChatdev.projection).toMatchObject({ basis: { windows_with_cost: chatdev.basis.windows_with_cost, min_windows: 10, trend_min_r2: 0.5 }, trend_r2: chatdev.trend.cost_usd.r2 })
    expect(body.next_day.cost_usd).toBeCloseTo((cost / 60) * 1440, 9)
    expect(body.method).toMatch(/least squares/)
    const costs = await ok(`/api/v2/costs?${qs(ALL)}`)
    expect(costs.projection.daily_usd).toBeCloseTo((cost / 60) * 1440, 9)
    expect(costs.projection.monthly_usd).toBeCloseTo((cost / 60) * 43_200, 9)
  })

  it('overview, active agents, memory tiers, collaboration, learning and heatmap answer figures of the data', async () => {
    const o = await ok(`/api/v2/overview?${qs({ ...ALL, window: 'day' })}`)
    expect(o.totals.events).toBe(events.length)
    expect(o.totals.llm_calls).toBe(events.filter(llmDone).length)
    expect(o.totals.llm_failed_attempts).toBe(events.filter(llmFailedAttempt).length)
    expect(o.totals.llm_failed_attempts_by_error_type).toEqual(Object.fromEntries(sumBy(events.filter(llmFailedAttempt), (e) => (e.event.payload as LlmDone).error_type, () => 1)))
    expect(o.timeline.reduce((s: number, p: { input_tokens: number | null }) => s + (p.input_tokens ?? 0), 0)).toBe(o.totals.input_tokens)
    // each event once: collaborations are collaboration and handoff events, not agent involvements
    expect(o.totals.collaborations).toBe(events.filter((e) => e.event.event_type === 'agent_collaboration' || e.event.event_type === 'agent_handoff').length)
    expect(o.totals.collaboration_involvements_per_agent_sum).toBeGreaterThan(o.totals.collaborations)
    expect(lateApplied).toBeGreaterThan(0) // concurrent partitions make some events late
    expect(o.totals.late_events).toBe(lateApplied)

    // a minute timeline has a point for every minute of the range, zeros where nothing happened
    const firstUs = Math.min(...events.map((e) => e.event.timestamp))
    const hour = { from: new Date(Math.floor(firstUs / 3_600e6) * 3_600e3).toISOString(), to: new Date((Math.floor(firstUs / 3_600e6) + 3) * 3_600e3).toISOString() }
    const m = await ok(`/api/v2/overview?${qs({ ...hour, window: 'minute' })}`)
    expect(m.timeline).toHaveLength(180)
    const starts = m.timeline.map((p: { start: string }) => Date.parse(p.start))
    expect(starts.every((t: number, i: number) => i === 0 || t - starts[i - 1] === 60_000)).toBe(true)
    expect(starts[0]).toBe(Date.parse(hour.from))
    expect(m.timeline.reduce((n: number, p: { events: number }) => n + p.events, 0)).toBe(events.filter(inRange(hour)).length)
    const empty = m.timeline.filter((p: { events: number }) => p.events === 0)
    expect(empty.length).toBeGreaterThan(0)
    expect(empty[0]).toMatchObject({ events: 0, llm_calls: 0, llm_failed_attempts: 0, input_tokens: null, cost_usd: null })
    expect(o.totals.users).toBe(new Set(events.map((e) => e.event.user_id).filter(Boolean)).size)

    const active = await ok(`/api/v2/agents/active?${qs(ALL)}`)
    const agents = new Set(events.map(agentOf).filter(Boolean))
    expect(active.active_count).toBe(agents.size)
    const neuro = active.agents.find((a: { id: string }) => a.id === 'neuroscientist')
    const neuroTools = new Set(events.filter((e) => agentOf(e) === 'neuroscientist' && e.event.event_type === 'tool_usage_completed').map((e) => (e.event.payload as { tool_name: string }).tool_name))
    expect(neuro.capabilities.tools).toEqual([...neuroTools].sort())

    const tiers = await ok(`/api/v2/memory/tier-stats?${qs(ALL)}`)
    const tried = events.flatMap((e) => (e.event.event_type === 'memory_tier_access' ? (e.event.payload as { tier_latencies: { tier: string; latency_ms: number; hit: boolean }[] }).tier_latencies : []))
    for (const t of tiers.tiers) {
      const mine = tried.filter((x) => x.tier === t.tier)
      expect(t.accesses).toBe(mine.length)
      expect(t.hits).toBe(mine.filter((x) => x.hit).length)
      expect(t.latency.mean_ms).toBeCloseTo(mine.reduce((s, x) => s + x.latency_ms, 0) / mine.length, 9)
      const sorted = mine.map((x) => x.latency_ms).sort((a, b) => a - b)
      const exactP95 = sorted[Math.ceil(0.95 * sorted.length) - 1]!
      expect(Math.abs(t.latency.p95_ms - exactP95) / exactP95).toBeLessThan(0.1)
    }
    expect(tiers.tiers.map((t: { tier: string }) => t.tier)).toEqual(['redis_immediate', 'postgresql_structured', 'chromadb_semantic'])

    const collab = await ok(`/api/v2/intelligence/collaboration?${qs({ ...ALL, limit: 1000 })}`)
    const handoffs = events.filter((e) => e.event.event_type === 'agent_handoff').length
    const collabEdges = events.reduce((s, e) => {
      if (e.event.event_type !== 'agent_collaboration') return s
      const p = e.event.payload as { primary_agent: string; collaborating_agents: string[] }
      return s + new Set(p.collaborating_agents.filter((a) => a !== p.primary_agent)).size
    }, 0)
    expect(collab.totals.handoffs).toBe(handoffs)
    expect(collab.totals.collaborations).toBe(collabEdges)

    const learning = await ok(`/api/v2/intelligence/learning?${qs(ALL)}`)
    const hyp = events.filter((e) => e.event.event_type.startsWith('hypothesis_')).map((e) => (e.event.payload as { status: string }).status)
    for (const status of ['formed', 'validated', 'invalidated', 'pending']) expect(learning.events_by_status[status], status).toBe(hyp.filter((s) => s === status).length)
    // the rate divides by the span holding hypothesis events, not by the 88-day range asked for
    const hypUs = events.filter((e) => e.event.event_type.startsWith('hypothesis_')).map((e) => e.event.timestamp)
    const spanHours = ((Math.floor(Math.max(...hypUs) / 60e6) + 1) * 60e6 - Math.floor(Math.min(...hypUs) / 60e6) * 60e6) / 3_600e6
    expect(spanHours).toBeLessThan(24)
    expect(learning.rate_basis.hours).toBeCloseTo(spanHours, 9)
    expect(learning.formed_per_hour).toBeCloseTo(learning.hypotheses_formed / spanHours, 9)
    expect(learning.rate_basis.denominator).toMatch(/span holding hypothesis events/)

    const heat = await ok(`/api/v2/knowledge/heatmap?${qs({ ...ALL, limit: 10 })}`)
    const access = events.filter((e) => e.event.event_type === 'knowledge_access')
    expect(heat.totals.accesses).toBe(access.length)
    const top = heat.items[0]
    expect(top.accesses).toBe(access.filter((e) => (e.event.payload as { knowledge_item_id: string }).knowledge_item_id === top.item_id).length)
    expect(heat.hour_of_day[0].accesses.reduce((a: number, b: number) => a + b, 0)).toBe(top.accesses)
  })

  it('recommendations carry the numbers behind them', async () => {
    const body = await ok(`/api/v2/analytics/recommendations?${qs(ALL)}`, tokens.admin)
    const kinds = new Set(body.recommendations.map((r: { kind: string }) => r.kind))
    for (const k of ['collaboration_pair', 'model_cost_outlier']) expect(kinds.has(k), k).toBe(true)
    // knowledge items of the simulator are accessed once or twice each: below the default minimum support of 10
    expect(body.options.min_support).toBe(10)
    expect(kinds.has('cache_candidate')).toBe(false)
    expect(body.unqualified).toContainEqual({ kind: 'cache_candidate', reason: expect.stringMatching(/below the minimum support of 10/) })
    for (const r of body.recommendations) expect(r.method).toContain('minimum support 10')
    const loose = await ok(`/api/v2/analytics/recommendations?${qs({ ...ALL, min_support: 1 })}`, tokens.admin)
    const cache = loose.recommendations.find((r: { kind: string }) => r.kind === 'cache_candidate')
    expect(cache.method).toContain('minimum support 1 ')
    const outlier = body.recommendations.find((r: { kind: string }) => r.kind === 'model_cost_outlier')
    const modelCalls = events.filter((e) => llmDone(e)?.model === outlier.evidence.model).length
    expect(outlier.evidence.calls).toBe(modelCalls)
    expect(outlier.evidence.cost_share / outlier.evidence.call_share).toBeGreaterThanOrEqual(2)
    const pair = body.recommendations.find((r: { kind: string }) => r.kind === 'collaboration_pair')
    expect(pair.evidence.interactions).toBeGreaterThan(0)
    expect(pair.summary).toContain(String(pair.evidence.interactions))
  })

  it('exports CSV and JSON whose sums equal the API figures', async () => {
    const csv = await get(`/api/v2/export/analytics?${qs({ ...CHATDEV, format: 'csv', dataset: 'token_usage' })}`)
    expect(csv.status).toBe(200)
    expect(csv.headers['content-type']).toMatch(/^text\/csv/)
    expect(csv.headers['content-disposition']).toMatch(/attachment; filename="auren-token_usage-/)
    const [header, ...lines] = parseCsv(csv.body as string)
    expect(header).toEqual(['window_start', 'agent_id', 'llm_calls', 'llm_failed_attempts', 'input_tokens', 'output_tokens', 'cost_usd', 'priced_events'])
    expect(lines.every((l) => l[1] !== '')).toBe(true) // no row without its key
    const perf = await ok(`/api/v2/agents/performance?${qs(CHATDEV)}`)
    const csvTokens = sumBy(lines.filter((l) => l[4] !== ''), (l) => l[1]!, (l) => Number(l[4]))
    const csvCalls = sumBy(lines, (l) => l[1]!, (l) => Number(l[2]))
    const csvFailed = sumBy(lines, (l) => l[1]!, (l) => Number(l[3]))
    for (const a of perf.agents) {
      expect(csvTokens.get(a.agent_id) ?? null, a.agent_id).toBe(a.llm.input_tokens)
      expect(csvCalls.get(a.agent_id) ?? 0, a.agent_id).toBe(a.llm_calls ?? 0)
      expect(csvFailed.get(a.agent_id) ?? 0, a.agent_id).toBe(a.llm_failed_attempts ?? 0)
    }
    // a row without an answered call has empty (unknown) tokens, not 0
    expect(lines.filter((l) => l[2] === '0').every((l) => l[4] === '' && l[5] === '')).toBe(true)
    const failures = await ok(`/api/v2/export/analytics?${qs({ ...CHATDEV, format: 'json', dataset: 'llm_failures', window: 'day' })}`)
    expect(failures.rows.reduce((n: number, r: { llm_failed_attempts: number }) => n + r.llm_failed_attempts, 0)).toBe(events.filter(inRange(CHATDEV)).filter(llmFailedAttempt).length)

    const json = await ok(`/api/v2/export/analytics?${qs({ ...ALL, format: 'json', dataset: 'cost_breakdown', window: 'hour' })}`)
    const llmCost = events.filter(llmDone).reduce((s, e) => s + (e.cost_usd ?? 0), 0)
    expect(Math.abs(json.rows.reduce((s: number, r: { cost_usd: number | null }) => s + (r.cost_usd ?? 0), 0) - llmCost)).toBeLessThan(1e-9)
    for (const dataset of ['agent_performance', 'memory_tiers', 'knowledge_access', 'collaboration']) {
      const r = await ok(`/api/v2/export/analytics?${qs({ ...ALL, format: 'json', dataset })}`)
      expect(r.rows.length, dataset).toBeGreaterThan(0)
    }
  })

  it('a viewer reads only its own user figures', async () => {
    const mine = events.filter((e) => e.event.user_id === 'user-chatdev-a')
    const perf = await ok(`/api/v2/agents/performance?${qs(ALL)}`, tokens.viewerA)
    expect(perf.scope.user_id).toBe('user-chatdev-a')
    const tokensByAgent = sumBy(mine.filter((e) => (llmDone(e)?.input_tokens ?? 0) > 0), agentOf, (e) => llmDone(e)!.input_tokens)
    expect(tokensByAgent.size).toBeGreaterThan(0)
    const apiTokens = perf.agents.filter((a: { llm: { input_tokens: number | null } }) => (a.llm.input_tokens ?? 0) > 0)
    expect(new Map(apiTokens.map((a: { agent_id: string; llm: { input_tokens: number } }) => [a.agent_id, a.llm.input_tokens]))).toEqual(tokensByAgent)
    expect(perf.agents.every((a: { latency: { execution: unknown } }) => a.latency.execution === null)).toBe(true)
    const costs = await ok(`/api/v2/costs?${qs({ ...ALL, group_by: 'user' })}`, tokens.viewerA)
    expect(costs.groups.map((g: { key: string }) => g.key)).toEqual(['user-chatdev-a'])
    expect(Math.abs(costs.total_usd - mine.reduce((s, e) => s + (e.cost_usd ?? 0), 0))).toBeLessThan(1e-9)
    const own = await ok(`/api/v2/overview?${qs({ ...ALL, user_id: 'user-001' })}`, tokens.viewer1)
    expect(own.totals.events).toBe(events.filter((e) => e.event.user_id === 'user-001').length)
    const csv = await get(`/api/v2/export/analytics?${qs({ ...ALL, dataset: 'token_usage' })}`, tokens.viewerA)
    const rows = parseCsv(csv.body as string).slice(1)
    expect(rows.reduce((s, l) => s + Number(l[4]), 0)).toBe(mine.reduce((s, e) => s + (llmDone(e)?.input_tokens ?? 0), 0))
  })

  it('bad input gets the right 4xx with a clear message', async () => {
    const cases: Array<[string, string, string | null, number, string, RegExp]> = [
      ['unknown agent', `/api/v2/agents/performance?${qs({ ...ALL, agent_id: 'no-such-agent' })}`, tokens.operator!, 404, 'NOT_FOUND', /agent 'no-such-agent' is unknown/],
      ['bad window', `/api/v2/overview?${qs({ ...ALL, window: 'fortnight' })}`, tokens.operator!, 400, 'BAD_REQUEST', /'window' must be one of rollup, minute, hour, day/],
      ['window too fine', `/api/v2/overview?${qs({ ...ALL, window: 'minute' })}`, tokens.operator!, 400, 'BAD_REQUEST', /more than 10000; use a larger window/],
      ['from after to', `/api/v2/costs?${qs({ from: ALL.to, to: ALL.from })}`, tokens.operator!, 400, 'BAD_REQUEST', /'from' .* must be before 'to'/],
      ['range too long', `/api/v2/costs?${qs({ from: '2023-01-01T00:00:00Z', to: ALL.to })}`, tokens.operator!, 400, 'BAD_REQUEST', /longer than the maximum 90d/],
      ['not a date', `/api/v2/costs?${qs({ from: 'yesterday' })}`, tokens.operator!, 400, 'BAD_REQUEST', /'from' must be an ISO-8601 date-time/],
      ['bad group_by', `/api/v2/costs?${qs({ group_by: 'planet' })}`, tokens.operator!, 400, 'BAD_REQUEST', /'group_by' must be one of agent, model, user, hour, day/],
      ['unknown parameter', `/api/v2/costs?${qs({ colour: 'red' })}`, tokens.operator!, 400, 'BAD_REQUEST', /unknown query parameter 'colour'/],
      ['unknown format', `/api/v2/export/analytics?${qs({ format: 'xml', dataset: 'token_usage' })}`, tokens.operator!, 400, 'BAD_REQUEST', /'format' must be one of csv, json \(got "xml"\)/],
      ['unknown dataset', `/api/v2/export/analytics?${qs({ dataset: 'secrets' })}`, tokens.operator!, 400, 'BAD_REQUEST', /'dataset' must be one of token_usage/],
      ['user_id on an all-users dataset', `/api/v2/export/analytics?${qs({ dataset: 'memory_tiers', user_id: 'user-001' })}`, tokens.operator!, 400, 'BAD_REQUEST', /'user_id' does not apply: figures of this dataset have no per-user breakdown/],
      ['missing dataset', '/api/v2/export/analytics?format=csv', tokens.operator!, 400, 'BAD_REQUEST', /'dataset' is required/],
      ['missing token', '/api/v2/overview', null, 401, 'UNAUTHORIZED', /missing bearer token/],
      ['viewer, other user', `/api/v2/costs?${qs({ user_id: 'user-chatdev-b' })}`, tokens.viewerA!, 403, 'FORBIDDEN', /only its own data: user_id 'user-chatdev-b'/],
      ['viewer, all-users figures', '/api/v2/memory/tier-stats', tokens.viewerA!, 403, 'FORBIDDEN', /operator or admin/],
      ['viewer, all-users dataset', `/api/v2/export/analytics?${qs({ dataset: 'memory_tiers' })}`, tokens.viewerA!, 403, 'FORBIDDEN', /operator or admin/],
      ['no route', '/api/v2/nothing', tokens.operator!, 404, 'NOT_FOUND', /no route GET \/api\/v2\/nothing/],
    ]
    tokens.expired = await sign({ sub: 'ops-1', roles: ['operator'] }, Math.floor(Date.now() / 1000) - 60)
    tokens.forged = await sign({ sub: 'ops-1', roles: ['operator'] }, '10m', new TextEncoder().encode('x'.repeat(48)))
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
    tokens.none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'ops-1', roles: ['admin'], exp: Math.floor(Date.now() / 1000) + 600 })}.`
    tokens.noRole = await sign({ sub: 'u', roles: ['superuser'] })
    cases.push(
      ['expired token', '/api/v2/overview', tokens.expired, 401, 'UNAUTHORIZED', /token expired/],
      ['forged signature', '/api/v2/overview', tokens.forged, 401, 'UNAUTHORIZED', /signature is invalid/],
      ['alg none', '/api/v2/overview', tokens.none, 401, 'UNAUTHORIZED', /algorithm is not allowed/],
      ['garbage token', '/api/v2/overview', 'not.a.jwt', 401, 'UNAUTHORIZED', /malformed/],
      ['no known role', '/api/v2/overview', tokens.noRole, 403, 'FORBIDDEN', /no known role/],
    )
    for (const [name, path, token, status, code, message] of cases) {
      const r = await get(path, token)
      expect({ name, status: r.status, error: r.body.error }).toEqual({ name, status, error: code })
      expect(r.body.message, name).toMatch(message)
      if (process.env.AUREN_SHOW_MESSAGES) console.log(`${name}: ${r.status} ${r.body.message}`)
      if (status === 401) expect(r.headers['www-authenticate'], name).toMatch(/^Bearer error="invalid_token"/)
    }
    const metrics = await app.inject({ method: 'GET', url: '/metrics' })
    expect(metrics.body).toMatch(/auren_gateway_auth_failures_total\{reason="expired"\} 1/)
    expect(metrics.body).toMatch(/auren_gateway_http_requests_total\{route="\/api\/v2\/costs",method="GET",status="400"\}/)
  })

  it('serves health, readiness, metrics and a valid OpenAPI 3 document listing every route; answers match their schemas', async () => {
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200)
    const ready = await app.inject({ url: '/readyz' })
    expect([ready.statusCode, ready.json().rollup_tables]).toEqual([200, 'present'])
    const doc = (await app.inject({ url: '/docs/json' })).json()
    const validator = new Validator()
    const result = await validator.validate(doc)
    expect(result.errors ?? []).toEqual([])
    expect(result.valid).toBe(true)
    expect(doc.openapi).toMatch(/^3\./)
    for (const r of API_ROUTES) expect(Object.keys(doc.paths), r.path).toContain(`/api/v2/${r.path}`)
    for (const p of ['/healthz', '/readyz', '/metrics']) expect(Object.keys(doc.paths)).toContain(p)

    const ajv = new Ajv({ strict: false, allErrors: true })
    for (const r of API_ROUTES) {
      const q = r.path === 'export/analytics' ? { ...ALL, format: 'json', dataset: 'token_usage' } : ALL
      const body = await ok(`/api/v2/${r.path}?${qs(q)}`)
      const validate = ajv.compile(RESPONSES[r.path]!)
      expect(validate(body) ? [] : validate.errors, r.path).toEqual([])
    }
  })
})
