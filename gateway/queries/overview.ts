/**
 * GET /api/v2/overview: totals of the range and a timeline per `window`, from agg_agent_window
 * (all users: every event, including those without an agent) or agg_user_window (one user),
 * plus distinct agents, models and users, and active agents now (all users only).
 *
 * Counting (processors/aggregation/transform.ts): `llm_calls` are answered calls; failed
 * attempts without an answer are `llm_failed_attempts` and `llm_failed_attempts_by_error_type`
 * (agg_llm_failure_window); per-call cost divides by answered calls. Unknown is null, never 0:
 * tokens without an answered call, cost without a priced event. Each event counts once:
 * `late_events` and `collaborations` (collaboration and handoff events) come from
 * agg_event_window; `collaboration_involvements_per_agent_sum` is the per-agent sum (an event
 * between two agents counts for each). The timeline has one point per window of the range,
 * zeros for windows without events, so a chart does not draw across gaps.
 */
import { num, ratio } from '../analytics/figures.ts'
import { fillWindows, isoOfUs, rangeBody, type WindowName } from '../analytics/range.ts'
import { Params, rows, whereOf, type Db, type Filter } from './db.ts'
import { seriesStep } from './rollup-window.ts'
import { RT } from '../../schemas/rollup-tables.ts'

type Sums = Record<string, string | null>

/** Event types counted as collaborations (interactions between agents), once per event. */
export const INTERACTION_EVENT_TYPES = ['agent_collaboration', 'agent_handoff'] as const

/** A sum that is null when its basis count is 0 (nothing known). */
const known = (value: number, basis: number): number | null => (basis > 0 ? value : null)

/**
 * The overview body (tokens, USD; rates are fractions). `rollup_window_ms` is the window size
 * stored with the rollups (null before any); `window=rollup` groups the timeline by it.
 * @throws ApiError BAD_REQUEST when the timeline would have too many points
 */
export async function loadOverview(db: Db, f: Filter, window: WindowName, activeWithinMs: number) {
  const { rollupWindowMs, stepUs } = await seriesStep(db, f.range, window)
  const all = f.userId === null
  const table = all ? RT.agent : RT.user
  const cols = all ? {} : { user: 'user_id' }
  const calls = all ? 'llm_calls_succeeded + llm_calls_failed' : 'llm_calls'
  const extra = all
    ? ', sum(executions_started)::text AS executions_started, sum(executions_succeeded)::text AS executions_succeeded, sum(executions_failed)::text AS executions_failed, ' +
      'sum(llm_calls_failed)::text AS llm_calls_failed, sum(tool_calls)::text AS tool_calls, sum(tool_failures)::text AS tool_failures, sum(errors)::text AS errors, ' +
      'sum(collaborations)::text AS collaboration_involvements'
    : ''
  const common = `sum(events)::text AS events, sum(${calls})::text AS llm_calls, sum(input_tokens)::text AS input_tokens, sum(output_tokens)::text AS output_tokens, ` +
    'sum(cost_usd)::text AS cost_usd, sum(priced_events)::text AS priced_events, sum(llm_failed_attempts)::text AS llm_failed_attempts'

  const ts = new Params()
  const totalsQ = rows<Sums>(db,
    `SELECT ${common}${extra}, count(DISTINCT agent_id) FILTER (WHERE agent_id <> '')::text AS agents, min(window_start_us)::text AS first_w, max(window_start_us)::text AS last_w ` +
    `FROM ${table} WHERE ${whereOf(f, ts, cols)}`, ts.values)
  const ms = new Params()
  const modelsQ = rows<{ n: string }>(db, `SELECT count(DISTINCT model)::text AS n FROM ${RT.llm} WHERE ${whereOf(f, ms, { user: 'user_id' })}`, ms.values)
  const us = new Params()
  const usersQ = all ? rows<{ n: string }>(db, `SELECT count(DISTINCT user_id)::text AS n FROM ${RT.user} WHERE ${whereOf(f, us)}`, us.values) : Promise.resolve([])
  const fs = new Params()
  const failuresQ = rows<{ error_type: string; n: string }>(db,
    `SELECT error_type, sum(attempts)::text AS n FROM ${RT.llm_failure} WHERE ${whereOf(f, fs, { user: 'user_id' })} GROUP BY error_type ORDER BY error_type`, fs.values)
  const es = new Params()
  const eventsQ = all
    ? rows<Sums>(db,
      `SELECT sum(late_events)::text AS late_events, sum(events) FILTER (WHERE event_type = ANY(${es.p(INTERACTION_EVENT_TYPES)}))::text AS interactions ` +
      `FROM ${RT.event} WHERE ${whereOf(f, es)}`, es.values)
    : Promise.resolve([])
  const ls = new Params()
  const where = whereOf(f, ls, cols)
  const timelineQ = stepUs === null
    ? Promise.resolve([])
    : rows<Sums & { start_us: string }>(db,
      `SELECT (window_start_us - window_start_us % ${ls.p(stepUs)})::text AS start_us, ${common} FROM ${table} WHERE ${where} GROUP BY 1 ORDER BY 1`, ls.values)
  const activeQ = all
    ? rows<{ n: string }>(db, `SELECT count(*)::text AS n FROM ${RT.activity} WHERE last_processed_at >= now() - $1 * interval '1 millisecond'`, [activeWithinMs])
    : Promise.resolve([])
  const [[t], [m], [u], failures, [ev], timeline, [a]] = await Promise.all([totalsQ, modelsQ, usersQ, failuresQ, eventsQ, timelineQ, activeQ])
  const s = t ?? {}
  const maybe = (k: string) => (all ? num(s[k]) : null)
  const llmCalls = num(s.llm_calls)
  const cost = known(num(s.cost_usd), num(s.priced_events))
  const byType = Object.fromEntries(failures.map((r) => [r.error_type, num(r.n)]))
  const point = (r: Sums | undefined) => {
    const c = num(r?.llm_calls)
    return {
      events: num(r?.events),
      llm_calls: c,
      llm_failed_attempts: num(r?.llm_failed_attempts),
      input_tokens: known(num(r?.input_tokens), c),
      output_tokens: known(num(r?.output_tokens), c),
      cost_usd: known(num(r?.cost_usd), num(r?.priced_events)),
    }
  }
  const byStart = new Map(timeline.map((r) => [num(r.start_us), r]))
  return {
    range: rangeBody(f.range),
    scope: { user_id: f.userId },
    window,
    rollup_window_ms: rollupWindowMs,
    totals: {
      events: num(s.events),
      llm_calls: llmCalls,
      llm_failed_attempts: num(s.llm_failed_attempts),
      llm_failed_attempts_by_error_type: byType,
      input_tokens: known(num(s.input_tokens), llmCalls),
      output_tokens: known(num(s.output_tokens), llmCalls),
      total_tokens: known(num(s.input_tokens) + num(s.output_tokens), llmCalls),
      cost_usd: cost,
      cost_per_llm_call_usd: cost === null ? null : ratio(cost, llmCalls),
      agents: num(s.agents),
      models: num(m?.n),
      users: all ? num(u?.n) : null,
      executions_started: maybe('executions_started'),
      executions_succeeded: maybe('executions_succeeded'),
      executions_failed: maybe('executions_failed'),
      llm_calls_failed: maybe('llm_calls_failed'),
      tool_calls: maybe('tool_calls'),
      tool_failures: maybe('tool_failures'),
      errors: maybe('errors'),
      error_rate: all ? ratio(num(s.errors), num(s.events)) : null,
      collaborations: all ? num(ev?.interactions) : null,
      collaboration_involvements_per_agent_sum: maybe('collaboration_involvements'),
      late_events: all ? num(ev?.late_events) : null,
    },
    active_agents: all ? num(a?.n) : null,
    active_within_ms: all ? activeWithinMs : null,
    first_window: s.first_w ? isoOfUs(num(s.first_w)) : null,
    last_window: s.last_w ? isoOfUs(num(s.last_w)) : null,
    timeline: (stepUs === null ? [] : fillWindows(f.range, stepUs)).map((startUs) => ({ start: isoOfUs(startUs), ...point(byStart.get(startUs)) })),
  }
}
