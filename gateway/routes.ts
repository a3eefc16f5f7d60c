/**
 * The `/api/v2` routes as a table (CONTRACTS.md section 6, plus analytics): for each, its query
 * schema, response schema, who may read it and how it loads. {@link runRoute} does the common
 * part for every route, in this order: access (role, user scope) → range → agent existence →
 * load.
 *
 * Access:
 * - `per-user` routes read rollups that have a user_id (agg_user_window, agg_llm_window): a
 *   viewer is forced to its own `sub` (asking for another user is 403); operators and admins
 *   read all users or filter with `user_id`;
 * - `all-users` routes read rollups without a user dimension (memory tiers, edges, knowledge,
 *   hypotheses, latency histograms, agent activity): operators and admins only (403 otherwise),
 *   so a viewer never sees figures that include other users' events.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { requireAllUsersRole, resolveUserScope } from './auth.ts'
import type { ApiConfig } from './config.ts'
import { COST_GROUPS, type CostGroup } from './analytics/costs.ts'
import { toCsv } from './analytics/csv.ts'
import { checkSeriesSize, isoOfUs, rangeBody, resolveRange, type WindowName } from './analytics/range.ts'
import { badRequest, forbidden, notFound } from '../processors/runtime/ops/errors.ts'
import { Q, query, RESPONSES } from './openapi.ts'
import { loadAlerts } from './queries/alerts.ts'
import { loadActiveAgents, loadPerformance } from './queries/agents.ts'
import { loadProjections, loadRecommendations } from './queries/analytics.ts'
import { loadCosts } from './queries/costs.ts'
import { agentExists, type Db, type Filter } from './queries/db.ts'
import { DATASET_NAMES, DATASETS, loadExport, type DatasetName } from './queries/export.ts'
import { EDGE_KINDS, loadCollaboration, loadLearning, type EdgeKind } from './queries/intelligence.ts'
import { loadHeatmap } from './queries/knowledge.ts'
import { loadTierStats } from './queries/memory.ts'
import { loadOverview } from './queries/overview.ts'
import { loadBiometrics, loadDecisions, loadMemoryOperations, loadPerformanceMetrics, loadSystemHealth, loadTraceCosts } from './queries/signals.ts'
import { RT } from '../schemas/rollup-tables.ts'
import { AT } from '../schemas/alert-tables.ts'

/** Parsed query parameters (validated and defaulted by the route's schema). */
type Query = Record<string, unknown> & { from?: string; to?: string; user_id?: string; agent_id?: string }

/** What a route's loader gets. */
export interface RouteContext {
  readonly db: Db
  readonly api: ApiConfig
  readonly q: Query
  readonly filter: Filter
  readonly reply: FastifyReply
}

export interface RouteDef {
  /** Path under /api/v2. */
  readonly path: string
  readonly tag: string
  readonly summary: string
  readonly description: string
  readonly query: Record<string, unknown>
  readonly response200: Record<string, unknown>
  /** `per-user`, `all-users`, or decided from the query (export: by dataset). */
  readonly access: 'per-user' | 'all-users' | ((q: Query) => 'per-user' | 'all-users')
  /** What the route shows, for the 403 of a viewer on an all-users route. */
  readonly what: string
  readonly load: (c: RouteContext) => Promise<unknown>
}

const RANGE = { from: Q.from, to: Q.to }
const json = (path: string) => RESPONSES[path]!
const csvOrJson = {
  description: 'The dataset: JSON `{ dataset, columns, rows }`, or CSV (RFC 4180, header row) with format=csv.',
  content: { 'application/json': { schema: RESPONSES['export/analytics'] }, 'text/csv': { schema: { type: 'string' } } },
}

export const API_ROUTES: readonly RouteDef[] = [
  {
    path: 'overview', tag: 'agents', access: 'per-user', what: 'overview figures',
    summary: 'Totals of the range (events, LLM calls, tokens, USD, errors) and a timeline per window',
    description: `From ${RT.agent} (all users) or ${RT.user} (one user). For one user, execution, tool, error and collaboration totals are null (not kept per user).`,
    query: query({ ...RANGE, user_id: Q.user_id, window: Q.window }), response200: json('overview'),
    load: async ({ db, api, q, filter }) => {
      return loadOverview(db, filter, q.window as WindowName, api.activeWindowMs)
    },
  },
  {
    path: 'agents/active', tag: 'agents', access: 'all-users', what: 'agent activity figures',
    summary: 'Agents with an event processed recently, with load and capabilities',
    description: 'Active = an event processed within active_within_ms (processing time; default AUREN_GATEWAY_ACTIVE_WINDOW_MS). Load = executions started minus completed. Capabilities = tools called and models used in the range.',
    query: query({ ...RANGE, active_within_ms: { type: 'integer', minimum: 1000, maximum: 604_800_000, description: 'Activity window, ms.' } }),
    response200: json('agents/active'),
    load: ({ db, api, q, filter }) => loadActiveAgents(db, (q.active_within_ms as number | undefined) ?? api.activeWindowMs, filter.range),
  },
  {
    path: 'agents/performance', tag: 'agents', access: 'per-user', what: 'agent performance figures',
    summary: 'Per agent: executions, LLM calls, tokens, USD, tools, errors, latency p50/p95/p99',
    description: 'Tokens are those of completed LLM calls; cost_usd is the enriched cost of every event of the agent. Percentiles from merged histogram buckets (all users only); for one user only LLM figures and cost are kept.',
    query: query({ ...RANGE, user_id: Q.user_id, agent_id: Q.agent_id }), response200: json('agents/performance'),
    load: ({ db, filter }) => loadPerformance(db, filter),
  },
  {
    path: 'costs', tag: 'costs', access: 'per-user', what: 'cost figures',
    summary: 'USD by agent, model, user, hour or day, with projected hourly, daily and monthly spend',
    description: 'Costs are the enriched events’ cost_usd summed exactly. Projection: rate over the basis before the latest data (see analytics/projections for the method).',
    query: query({ ...RANGE, user_id: Q.user_id, agent_id: Q.agent_id, group_by: { type: 'string', enum: [...COST_GROUPS], default: 'agent' }, basis_minutes: Q.basis_minutes }),
    response200: json('costs'),
    load: ({ db, api, q, filter }) => {
      if (q.group_by === 'hour' || q.group_by === 'day') checkSeriesSize(filter.range, q.group_by)
      return loadCosts(db, filter, q.group_by as CostGroup, (q.basis_minutes as number | undefined) ?? api.projectionBasisMin,
        { minWindows: api.projectionMinWindows, trendMinR2: api.trendMinR2 })
    },
  },
  {
    path: 'memory/tier-stats', tag: 'memory', access: 'all-users', what: 'memory tier statistics',
    summary: 'Per memory tier: hit rate, share served, mean and p50/p95/p99 latency',
    description: `From ${RT.memory} and the memory_tier latency histograms.`,
    query: query(RANGE), response200: json('memory/tier-stats'),
    load: ({ db, filter }) => loadTierStats(db, filter),
  },
  {
    path: 'intelligence/collaboration', tag: 'intelligence', access: 'all-users', what: 'collaboration edges',
    summary: 'Collaboration network: edges with counts, consensus rate, resolution time',
    description: 'Edges primary → partner (collaboration) and from → to (handoff); consensus rate = reached ÷ known.',
    query: query({ ...RANGE, agent_id: Q.agent_id, kind: { type: 'string', enum: [...EDGE_KINDS], default: 'all' }, limit: { ...Q.limit, default: 100 } }),
    response200: json('intelligence/collaboration'),
    load: ({ db, q, filter }) => loadCollaboration(db, filter, q.kind as EdgeKind, q.limit as number),
  },
  {
    path: 'intelligence/learning', tag: 'intelligence', access: 'all-users', what: 'hypothesis figures',
    summary: 'Hypotheses formed, validated, invalidated, pending; validation rate',
    description: `Events by the status they set (${RT.hypothesis}) and latest status of hypotheses changed in the range (${RT.hypothesis_state}).`,
    query: query({ ...RANGE, agent_id: Q.agent_id }), response200: json('intelligence/learning'),
    load: ({ db, filter }) => loadLearning(db, filter),
  },
  {
    path: 'knowledge/heatmap', tag: 'knowledge', access: 'all-users', what: 'knowledge access figures',
    summary: 'Knowledge items × agents access counts, found rate, accesses by hour of day',
    description: `From ${RT.knowledge}; items ranked by accesses, top \`limit\` kept.`,
    query: query({ ...RANGE, agent_id: Q.agent_id, limit: { ...Q.limit, default: 50 } }), response200: json('knowledge/heatmap'),
    load: ({ db, q, filter }) => loadHeatmap(db, filter, q.limit as number),
  },
  {
    path: 'analytics/projections', tag: 'analytics', access: 'per-user', what: 'projections',
    summary: 'Projected tokens and USD for the next hour, day and 30 days, with the method and numbers used',
    description: 'Rate projection (basis total ÷ basis minutes × horizon) and least-squares trend projection over the basis_minutes before the latest window with data at or before `to`.',
    query: query({ ...RANGE, user_id: Q.user_id, agent_id: Q.agent_id, basis_minutes: Q.basis_minutes }), response200: json('analytics/projections'),
    load: ({ db, api, q, filter }) => loadProjections(db, filter, (q.basis_minutes as number | undefined) ?? api.projectionBasisMin,
      { minWindows: api.projectionMinWindows, trendMinR2: api.trendMinR2 }),
  },
  {
    path: 'analytics/recommendations', tag: 'analytics', access: 'all-users', what: 'recommendations',
    summary: 'Recommendations computed from the range: cache candidates, knowledge gaps, top collaborating pairs, model cost outliers',
    description: 'Each carries its evidence (the numbers behind it) and method.',
    query: query({
      ...RANGE, limit: { ...Q.limit, default: 5 }, cost_share_factor: { type: 'number', minimum: 1, maximum: 1000, description: 'Model cost outlier threshold (default AUREN_GATEWAY_COST_SHARE_FACTOR = 2).' },
      min_support: { type: 'integer', minimum: 1, maximum: 1_000_000, description: 'Least observations behind a recommendation (default AUREN_GATEWAY_RECOMMENDATION_MIN_SUPPORT = 10).' },
    }),
    response200: json('analytics/recommendations'),
    load: ({ db, api, q, filter }) => loadRecommendations(db, filter, q.limit as number, (q.cost_share_factor as number | undefined) ?? api.costShareFactor,
      (q.min_support as number | undefined) ?? api.recommendationMinSupport),
  },
  {
    path: 'export/analytics', tag: 'export', what: 'figures of this dataset',
    access: (q) => (DATASETS[q.dataset as DatasetName].perUser ? 'per-user' : 'all-users'),
    summary: 'Export a dataset per window as CSV or JSON',
    description: `Datasets: ${DATASET_NAMES.map((d) => `${d} (${DATASETS[d].description}${DATASETS[d].perUser ? '' : ' Operators and admins only.'})`).join('; ')}`,
    query: query({
      ...RANGE, user_id: Q.user_id, window: { ...Q.window, default: 'day' },
      format: { type: 'string', enum: ['csv', 'json'], default: 'csv', description: 'csv (text/csv, attachment) or json.' },
      dataset: { type: 'string', enum: DATASET_NAMES, description: 'Which dataset.' },
    }, ['dataset']),
    response200: csvOrJson,
    load: async ({ db, api, q, filter, reply }) => {
      const name = q.dataset as DatasetName
      const window = q.window as WindowName
      const { columns, rows } = await loadExport(db, filter, name, window, api.exportMaxRows)
      if (q.format === 'json') return { dataset: name, description: DATASETS[name].description, range: rangeBody(filter.range), scope: { user_id: filter.userId }, window, columns, rows }
      const stamp = (us: number) => isoOfUs(us).replace(/[:.]/g, '').slice(0, 15)
      reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="auren-${name}-${stamp(filter.range.fromUs)}-${stamp(filter.range.toUs)}.csv"`)
      return toCsv(columns, rows)
    },
  },
  {
    path: 'intelligence/decisions', tag: 'intelligence', access: 'all-users', what: 'decision figures',
    summary: 'Decisions per agent, category and urgency, with mean confidence and reasoning steps',
    description: `From ${RT.decision}. Mean confidence is over the decisions that gave one (null when none did).`,
    query: query({ ...RANGE, agent_id: Q.agent_id }), response200: json('intelligence/decisions'),
    load: ({ db, filter }) => loadDecisions(db, filter),
  },
  {
    path: 'memory/operations', tag: 'memory', access: 'all-users', what: 'memory operation figures',
    summary: 'Memory operations per agent, operation and memory type, with mean confidence',
    description: `From ${RT.memory_operation}.`,
    query: query({ ...RANGE, agent_id: Q.agent_id }), response200: json('memory/operations'),
    load: ({ db, filter }) => loadMemoryOperations(db, filter),
  },
  {
    path: 'body/biometrics', tag: 'body', access: 'per-user', what: 'biometric figures',
    summary: 'Biometric samples, mean value and anomalies per metric',
    description: `From ${RT.biometric}: mean = value sum / samples; anomaly rate = anomalies / samples. A viewer sees only its own readings.`,
    query: query({ ...RANGE, user_id: Q.user_id }), response200: json('body/biometrics'),
    load: ({ db, filter }) => loadBiometrics(db, filter),
  },
  {
    path: 'system/health', tag: 'system', access: 'all-users', what: 'system health figures',
    summary: 'system_health reports per component and status, and the worst status of the range',
    description: `From ${RT.system_health}.`,
    query: query(RANGE), response200: json('system/health'),
    load: ({ db, filter }) => loadSystemHealth(db, filter),
  },
  {
    path: 'system/performance-metrics', tag: 'system', access: 'all-users', what: 'performance metric figures',
    summary: 'performance_metric samples and mean value per agent, name and unit',
    description: `From ${RT.performance_metric}.`,
    query: query({ ...RANGE, agent_id: Q.agent_id }), response200: json('system/performance-metrics'),
    load: ({ db, filter }) => loadPerformanceMetrics(db, filter),
  },
  {
    path: 'costs/traces', tag: 'costs', access: 'per-user', what: 'cost per trace',
    summary: 'Cost per trace (user query): the most expensive traces, the number of traces and the mean cost per trace',
    description: `From ${RT.trace}: enriched cost_usd of the trace events that carry a cost, with completed LLM calls and their tokens. Mean = total ÷ traces with a cost or an LLM call in the range (null when none).`,
    query: query({ ...RANGE, user_id: Q.user_id, limit: Q.limit }), response200: json('costs/traces'),
    load: ({ db, q, filter }) => loadTraceCosts(db, filter, q.limit as number),
  },
  {
    path: 'alerts', tag: 'alerts', access: 'all-users', what: 'alerts',
    summary: 'Alerts firing now and alerts resolved in the range, from the stream rule engine',
    description: `From the alerting processor's tables (schemas/alert-tables.ts): ${AT.active} (firing now, whatever the range) and ${AT.changes} (resolutions whose ends_at, event time, lies in [from, to)). ` +
      'Each alert as the WebSocket alerts channel sends it (CONTRACTS.md 3b). Every user\'s activity feeds the rules, so, like the alerts channel, the route needs role operator or admin. ' +
      'Pending alerts (the rule\'s `for` not yet elapsed) are not state changes and are not listed. 503 when the alert tables are not in the gateway\'s schema.',
    query: query({
      from: { ...Q.from, description: 'Start of the range of resolved alerts (their ends_at, event time), inclusive, ISO-8601 with a time zone. Default: `to` − AUREN_GATEWAY_DEFAULT_RANGE_MS (24 h).' },
      to: { ...Q.to, description: 'End of that range, exclusive. Default: now. `from` must be before `to`; the range at most AUREN_GATEWAY_MAX_RANGE_MS (90 days).' },
      limit: { ...Q.limit, default: 100, description: 'Most alerts per list (firing, resolved).' },
      rule: { type: 'string', minLength: 1, maxLength: 256, description: 'Only this rule id.' },
      severity: { type: 'string', enum: ['critical', 'warning', 'info'], description: 'Only this severity.' },
      agent: { type: 'string', minLength: 1, maxLength: 256, description: "Only alerts whose `agent` label is this agent id (no existence check: an alert may name an agent no rollup has)." },
    }),
    response200: json('alerts'),
    load: ({ db, q, filter }) => loadAlerts(db, {
      range: filter.range, limit: q.limit as number,
      rule: (q.rule as string | undefined) ?? null, severity: (q.severity as string | undefined) ?? null, agent: (q.agent as string | undefined) ?? null,
    }),
  },
]

/** Access → range → agent → load, for one request. */
export async function runRoute(route: RouteDef, request: FastifyRequest, reply: FastifyReply, deps: { db: Db; api: ApiConfig; now: () => number }): Promise<unknown> {
  const q = request.query as Query
  // ajv's type coercion turns '1e400' and 'Infinity' into Infinity and then lets it pass
  // minimum/maximum; such a value would reach SQL (LIMIT) or an answer (as null).
  for (const [name, value] of Object.entries(q)) {
    if (typeof value === 'number' && !Number.isFinite(value)) throw badRequest(`query parameter '${name}' must be a finite number (got ${JSON.stringify(String(value))})`)
  }
  const principal = request.principal
  if (principal === null) throw forbidden('not authenticated') // unreachable: the auth hook runs first
  const access = typeof route.access === 'function' ? route.access(q) : route.access
  let userId: string | null = null
  if (access === 'all-users') {
    requireAllUsersRole(principal, route.what[0]!.toUpperCase() + route.what.slice(1))
    // Only export reaches here with a user_id (other all-users routes refuse it by schema).
    if (q.user_id !== undefined) throw badRequest(`query parameter 'user_id' does not apply: ${route.what} have no per-user breakdown`)
  } else userId = resolveUserScope(principal, q.user_id)
  const range = resolveRange(q, deps.now(), deps.api)
  const agentId = q.agent_id ?? null
  if (agentId !== null && !(await agentExists(deps.db, agentId))) {
    throw notFound(`agent '${agentId}' is unknown: no event of it has been processed`)
  }
  return route.load({ db: deps.db, api: deps.api, q, filter: { range, userId, agentId }, reply })
}
