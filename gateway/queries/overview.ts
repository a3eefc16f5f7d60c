/**
 * GET /api/v2/overview: totals of the range and a timeline per `window`, from agg_agent_minute
 * (all users: every event, including those without an agent) or agg_user_minute (one user),
 * plus distinct agents, models and users, and active agents now (all users only).
 */
import { num, ratio } from '../analytics/figures.ts'
import { isoOfUs, rangeBody, WINDOW_US, type WindowName } from '../analytics/range.ts'
import { Params, rows, whereOf, type Db, type Filter } from './db.ts'

type Sums = Record<string, string | null>

/** The overview body (tokens, USD; rates are fractions). */
export async function loadOverview(db: Db, f: Filter, window: WindowName, activeWithinMs: number) {
  const all = f.userId === null
  const table = all ? 'agg_agent_minute' : 'agg_user_minute'
  const cols = all ? {} : { user: 'user_id' }
  const calls = all ? 'llm_calls_succeeded + llm_calls_failed' : 'llm_calls'
  const extra = all
    ? ', sum(executions_started)::text AS executions_started, sum(executions_succeeded)::text AS executions_succeeded, sum(executions_failed)::text AS executions_failed, ' +
      'sum(llm_calls_failed)::text AS llm_calls_failed, sum(tool_calls)::text AS tool_calls, sum(tool_failures)::text AS tool_failures, sum(errors)::text AS errors, ' +
      'sum(collaborations)::text AS collaborations, sum(late_events)::text AS late_events'
    : ''
  const common = `sum(events)::text AS events, sum(${calls})::text AS llm_calls, sum(input_tokens)::text AS input_tokens, sum(output_tokens)::text AS output_tokens, sum(cost_usd)::text AS cost_usd`

  const ts = new Params()
  const totalsQ = rows<Sums>(db,
    `SELECT ${common}${extra}, count(DISTINCT agent_id) FILTER (WHERE agent_id <> '')::text AS agents, min(window_start_us)::text AS first_w, max(window_start_us)::text AS last_w ` +
    `FROM ${table} WHERE ${whereOf(f, ts, cols)}`, ts.values)
  const ms = new Params()
  const modelsQ = rows<{ n: string }>(db, `SELECT count(DISTINCT model)::text AS n FROM agg_llm_minute WHERE ${whereOf(f, ms, { user: 'user_id' })}`, ms.values)
  const us = new Params()
  const usersQ = all ? rows<{ n: string }>(db, `SELECT count(DISTINCT user_id)::text AS n FROM agg_user_minute WHERE ${whereOf(f, us)}`, us.values) : Promise.resolve([])
  const ls = new Params()
  const where = whereOf(f, ls, cols)
  const step = ls.p(WINDOW_US[window])
  const timelineQ = rows<Sums & { start_us: string }>(db,
    `SELECT (window_start_us - window_start_us % ${step})::text AS start_us, ${common} FROM ${table} WHERE ${where} GROUP BY 1 ORDER BY 1`, ls.values)
  const activeQ = all
    ? rows<{ n: string }>(db, "SELECT count(*)::text AS n FROM agg_agent_activity WHERE last_processed_at >= now() - $1 * interval '1 millisecond'", [activeWithinMs])
    : Promise.resolve([])
  const [[t], [m], [u], timeline, [a]] = await Promise.all([totalsQ, modelsQ, usersQ, timelineQ, activeQ])
  const s = t ?? {}
  const maybe = (k: string) => (all ? num(s[k]) : null)
  const llmCalls = num(s.llm_calls)
  return {
    range: rangeBody(f.range),
    scope: { user_id: f.userId },
    window,
    totals: {
      events: num(s.events),
      llm_calls: llmCalls,
      input_tokens: num(s.input_tokens),
      output_tokens: num(s.output_tokens),
      total_tokens: num(s.input_tokens) + num(s.output_tokens),
      cost_usd: num(s.cost_usd),
      cost_per_llm_call_usd: ratio(num(s.cost_usd), llmCalls),
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
      collaborations: maybe('collaborations'),
      late_events: maybe('late_events'),
    },
    active_agents: all ? num(a?.n) : null,
    active_within_ms: all ? activeWithinMs : null,
    first_window: s.first_w ? isoOfUs(num(s.first_w)) : null,
    last_window: s.last_w ? isoOfUs(num(s.last_w)) : null,
    timeline: timeline.map((r) => ({
      start: isoOfUs(num(r.start_us)),
      events: num(r.events),
      llm_calls: num(r.llm_calls),
      input_tokens: num(r.input_tokens),
      output_tokens: num(r.output_tokens),
      cost_usd: num(r.cost_usd),
    })),
  }
}
