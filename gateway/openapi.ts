/**
 * JSON Schemas of the REST API: query parameters (validated by fastify's ajv, failures are 400s
 * with a sentence per problem) and responses (documentation in the OpenAPI document at
 * /docs/json; the integration test validates real answers against them). OpenAPI 3.0 dialect:
 * `nullable: true` marks figures that are null when there is nothing to compute them from.
 */
import { COST_GROUPS } from './analytics/costs.ts'
import { WINDOWS } from './analytics/range.ts'
import { DATASET_NAMES } from './queries/export.ts'
import { EDGE_KINDS } from './queries/intelligence.ts'
import { SIGNAL_RESPONSES } from './queries/signals.ts'
import { ALERT_RESPONSES } from './queries/alerts.ts'

type Schema = Record<string, unknown>

// ---- query parameters ----------------------------------------------------------------------
const dateTime = (what: string) => ({ type: 'string', format: 'date-time', description: `${what}, ISO-8601 with a time zone (e.g. 2025-01-24T10:30:00Z).` })
const id = (what: string) => ({ type: 'string', minLength: 1, maxLength: 256, description: what })

export const Q = {
  from: dateTime("Start of the range, inclusive (rollup windows starting at or after it). Default: `to` − AUREN_GATEWAY_DEFAULT_RANGE_MS (24 h)"),
  to: dateTime('End of the range, exclusive. Default: now. `from` must be before `to`; the range at most AUREN_GATEWAY_MAX_RANGE_MS (90 days)'),
  user_id: id("Only this user's data. A viewer may give only its own id (its data is the default); operators and admins may give any, or none for all users."),
  agent_id: id('Only this agent (404 when the agent has never been seen).'),
  window: { type: 'string', enum: [...WINDOWS], default: 'hour', description: 'Time grouping: rollup (the rollups\' own windows, of the size aggregation stored with them), or UTC minute, hour or day.' },
  limit: { type: 'integer', minimum: 1, maximum: 1000, default: 20, description: 'Most items returned (per kind, for recommendations).' },
  basis_minutes: { type: 'integer', minimum: 1, maximum: 10_080, description: 'History used by projections, minutes (default AUREN_GATEWAY_PROJECTION_BASIS_MIN = 60).' },
} as const

/** A querystring schema of the named parameters; unknown parameters are refused (400). */
export function query(props: Record<string, Schema>, required: string[] = []): Schema {
  return { type: 'object', additionalProperties: false, properties: props, ...(required.length > 0 ? { required } : {}) }
}

// ---- responses ------------------------------------------------------------------------------
const n = { type: 'number' }
const nn = { type: 'number', nullable: true }
const int = { type: 'integer' }
const s = { type: 'string' }
const ns = { type: 'string', nullable: true }
const obj = (properties: Record<string, unknown>, extra: Schema = {}): Schema => ({ type: 'object', properties, required: Object.keys(properties), ...extra })
const arr = (items: unknown, extra: Schema = {}): Schema => ({ type: 'array', items, ...extra })

export const errorBody = obj({
  error: { type: 'string', enum: ['BAD_REQUEST', 'UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND', 'INTERNAL', 'UNAVAILABLE'] },
  message: { type: 'string', description: 'What was wrong, for a person to read.' },
}, { description: 'Error answer.' })

const range = obj({ from: s, to: s }, { description: 'The range read, [from, to), ISO-8601 UTC.' })
const latency = obj({ count: int, mean_ms: nn, p50_ms: nn, p95_ms: nn, p99_ms: nn }, { description: 'Latency in ms: exact mean; percentiles from merged histogram buckets (within 9.05 %).' })
const nLatency = { ...latency, nullable: true }
const scope = { type: 'object', description: 'Filters applied (null = all).', additionalProperties: true }

const nint = { type: 'integer', nullable: true }
const byErrorType = { type: 'object', additionalProperties: { type: 'integer' }, description: 'Failed LLM attempts without an answer, by error_type.' }
const llmCalls = { ...nint, description: 'Answered LLM calls (a response came back); null when there is no LLM event at all.' }
const llmFailedAttempts = { ...nint, description: 'Failed LLM attempts without an answer (rate-limit retries, timeouts): not calls.' }
const model = obj({ model: s, calls: int, input_tokens: int, output_tokens: int, cost_usd: nn })
const agentPerformance = obj({
  agent_id: s, events: int, cost_usd: { ...nn, description: 'USD, every event type of the agent; null when no event carried a known cost.' },
  llm_calls: llmCalls, llm_failed_attempts: llmFailedAttempts, llm_failed_attempts_by_error_type: byErrorType,
  executions: { ...obj({ started: int, succeeded: int, failed: int, success_rate: nn }), nullable: true },
  llm: obj({
    succeeded: int, failed: int, failure_rate: nn, attempts: int, input_tokens: nint, output_tokens: nint, total_tokens: nint, cost_usd: nn,
    cost_per_call_usd: { ...nn, description: 'USD of LLM calls ÷ answered calls.' }, models: arr(model),
  }),
  tools: { ...obj({ calls: int, failures: int }), nullable: true },
  errors: { ...int, nullable: true },
  collaborations: { ...int, nullable: true },
  latency: obj({ execution: nLatency, llm: latency }),
})

const nInt = { type: 'integer', nullable: true }
const horizon = obj({ minutes: int, tokens: nInt, input_tokens: nInt, output_tokens: nInt, cost_usd: nn, llm_calls: nInt, trend_tokens: nInt, trend_cost_usd: nn })
const trend = obj({ slope_per_window: n, intercept: n, r2: nn })
const basis = obj({
  from: ns, to: ns, minutes: n,
  window_ms: { type: 'integer', nullable: true, description: 'Size of the rollup windows (the basis series\' step), ms, as stored with them; null before any rollup.' },
  windows: int, windows_with_data: int, windows_with_tokens: int, windows_with_cost: int, min_windows: int, trend_min_r2: n,
  input_tokens: int, output_tokens: int, tokens: int, cost_usd: n, llm_calls: int,
})
const projectionProps = {
  method: s, as_of: ns, basis, rate_per_minute: obj({ tokens: nn, cost_usd: nn, llm_calls: nn }),
  next_hour: horizon, next_day: horizon, next_30_days: horizon, trend: obj({ tokens: trend, cost_usd: trend }),
  reasons: obj({ tokens: ns, cost: ns, trend_tokens: ns, trend_cost: ns }, { description: 'Why a projection is null (too little data, r² too low); null when it is given.' }),
}

const statusCounts = { formed: int, validated: int, invalidated: int, pending: int, other: int }

/** 200 bodies by route (path under /api/v2). */
export const RESPONSES: Record<string, Schema> = {
  overview: obj({
    range, scope, window: s,
    rollup_window_ms: { type: 'integer', nullable: true, description: 'Size of the rollup windows, ms, as aggregation stored it with them (null before any rollup); the step of window=rollup.' },
    totals: obj({
      events: int, llm_calls: { ...int, description: 'Answered LLM calls.' }, llm_failed_attempts: llmFailedAttempts, llm_failed_attempts_by_error_type: byErrorType,
      input_tokens: nint, output_tokens: nint, total_tokens: nint, cost_usd: nn, cost_per_llm_call_usd: nn, agents: int, models: int,
      users: { ...int, nullable: true }, executions_started: nn, executions_succeeded: nn, executions_failed: nn, llm_calls_failed: nn, tool_calls: nn,
      tool_failures: nn, errors: nn, error_rate: nn,
      collaborations: { ...nn, description: 'Collaboration and handoff events, each once.' },
      collaboration_involvements_per_agent_sum: { ...nn, description: 'Per-agent sum: an event between two agents counts for each.' },
      late_events: { ...nn, description: 'Events applied after their window had closed, each once.' },
    }),
    active_agents: { ...int, nullable: true }, active_within_ms: nn, first_window: ns, last_window: ns,
    timeline: arr(obj({ start: s, events: int, llm_calls: int, llm_failed_attempts: int, input_tokens: nint, output_tokens: nint, cost_usd: nn }), { description: 'One point per window of the range; zeros where no event fell.' }),
  }),
  'agents/active': obj({
    active_within_ms: int, active_count: int, capabilities_range: range,
    agents: arr(obj({
      id: s, status: { type: 'string', enum: ['active', 'busy'] }, last_activity: s, first_seen: s, last_processed_at: s, idle_ms: n, last_event_type: s, events: int,
      current_load: int, llm_calls_in_flight: int, capabilities: obj({ tools: arr(s), models: arr(s) }),
    })),
  }),
  'agents/performance': obj({
    range, scope,
    totals: obj({ agents: int, events: int, llm_calls: nint, llm_failed_attempts: nint, llm_failed_attempts_by_error_type: byErrorType, input_tokens: nint, output_tokens: nint, cost_usd: nn }),
    agents: arr(agentPerformance),
  }),
  costs: obj({
    range, scope, group_by: { type: 'string', enum: [...COST_GROUPS] }, total_usd: nn, unattributed_usd: nn,
    totals: obj({ cost_usd: nn, llm_calls: int, llm_failed_attempts: int, input_tokens: nint, output_tokens: nint }),
    groups: arr(obj({ key: s, cost_usd: nn, share: nn, llm_calls: int, llm_failed_attempts: int, input_tokens: nint, output_tokens: nint, cost_per_call_usd: nn })),
    projection: obj({ hourly_usd: nn, daily_usd: nn, monthly_usd: nn, reason: ns, trend_daily_usd: nn, trend_reason: ns, trend_r2: nn, as_of: ns, basis, method: s }),
  }),
  'memory/tier-stats': obj({
    range, totals: obj({ accesses: int, hits: int, lookups_served: int }),
    tiers: arr(obj({ tier: s, accesses: int, hits: int, misses: int, hit_rate: nn, served: int, served_share: nn, latency })),
  }),
  'intelligence/collaboration': obj({
    range, scope, kind: { type: 'string', enum: [...EDGE_KINDS] },
    totals: obj({ edges: int, interactions: int, collaborations: int, handoffs: int, consensus_known: int, consensus_reached: int, consensus_rate: nn }),
    nodes: arr(obj({ agent_id: s, outgoing: int, incoming: int, total: int })),
    edges: arr(obj({ from: s, to: s, kind: s, count: int, consensus_known: int, consensus_reached: int, consensus_rate: nn, mean_resolution_ms: nn, knowledge_items_shared: int })),
    truncated: { type: 'boolean' }, resolution: nLatency,
  }),
  'intelligence/learning': obj({
    range, scope, events_by_status: obj(statusCounts), hypotheses_formed: int, formed_per_hour: { ...nn, description: 'Hypotheses formed ÷ rate_basis.hours.' },
    rate_basis: obj({ denominator: s, from: ns, to: ns, hours: nn }, { description: 'The span holding hypothesis events: the denominator of formed_per_hour.' }),
    current_status: obj({ ...statusCounts, validation_rate: nn, total: int }),
    by_agent: arr(obj({ agent_id: s, ...statusCounts, validation_rate: nn })),
    by_domain: arr(obj({ domain: s, ...statusCounts, validation_rate: nn })),
  }),
  'knowledge/heatmap': obj({
    range, scope, totals: obj({ items: int, accesses: int, found: int, found_rate: nn }),
    items: arr(obj({ item_id: s, domains: arr(s), accesses: int, found: int, found_rate: nn, items_retrieved: int, agents: int })),
    agents: arr(s),
    cells: arr(obj({ item_id: s, agent_id: s, accesses: int, found: int, found_rate: nn })),
    hour_of_day: arr(obj({ item_id: s, accesses: { type: 'array', items: int, minItems: 24, maxItems: 24 } })),
    truncated: { type: 'boolean' },
  }),
  'analytics/projections': obj({ range, scope, basis_minutes: int, ...projectionProps }),
  'analytics/recommendations': obj({
    range, options: obj({ limit_per_kind: int, cost_share_factor: n, min_support: int }), count: int,
    recommendations: arr(obj({
      kind: { type: 'string', enum: ['cache_candidate', 'knowledge_gap', 'collaboration_pair', 'model_cost_outlier'] },
      summary: s, evidence: { type: 'object', additionalProperties: true }, method: s,
    })),
    unqualified: arr(obj({ kind: { type: 'string', enum: ['cache_candidate', 'knowledge_gap', 'collaboration_pair', 'model_cost_outlier'] }, reason: s }),
      { description: 'Kinds that gave no recommendation, and why (no data, or below the minimum support).' }),
  }),
  'export/analytics': obj({
    dataset: { type: 'string', enum: DATASET_NAMES }, description: s, range, scope, window: s, columns: arr(s),
    rows: arr({ type: 'object', additionalProperties: true }),
  }),
  ...SIGNAL_RESPONSES,
  ...ALERT_RESPONSES,
}

/** The OpenAPI document's top (@fastify/swagger `openapi` option). */
export const OPENAPI_INFO = {
  openapi: '3.0.3',
  info: {
    title: 'AUREN Realtime REST read API',
    version: '2.0.0',
    description:
      'Figures of what the pipeline processed, read from the aggregation rollups (PostgreSQL). Every /api/v2 route needs a JWT ' +
      '(`Authorization: Bearer`, claims sub, roles, exp). A viewer sees only its own user_id; routes whose rollups have no user ' +
      'dimension need role operator or admin. Units: USD, tokens, ms; times ISO-8601 UTC.',
  },
  components: { securitySchemes: { bearerAuth: { type: 'http' as const, scheme: 'bearer', bearerFormat: 'JWT' } } },
  tags: [
    { name: 'ops', description: 'Health and metrics (no auth)' },
    { name: 'agents' }, { name: 'costs' }, { name: 'memory' }, { name: 'intelligence' }, { name: 'knowledge' }, { name: 'analytics' }, { name: 'export' }, { name: 'body' }, { name: 'system' },
    { name: 'alerts', description: 'Alerts of the stream rule engine (the alerting processor), firing and resolved' },
  ],
}
