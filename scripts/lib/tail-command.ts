/**
 * `auren tail`: a command-line client of the gateway's WebSocket stream `auren.v1`
 * (CONTRACTS.md section 5). It authenticates with `Authorization: Bearer` on the upgrade,
 * subscribes once with the given channels and filters (and `since`), and prints each delivered
 * event: one JSON line with `--json`, else one compact human line. Alerts (channel `alerts`) get
 * a line of their own ({@link alertLine}: state, severity, rule, labels, summary, value and
 * threshold); metrics windows (`metrics`) print as `metrics <json>`. Protocol errors go to stderr.
 *
 * Exit status: 0 after Ctrl-C (SIGINT/SIGTERM: unsubscribe, close 1000) or a normal close;
 * 2 when the subscription is refused (BAD_REQUEST, UNKNOWN_CHANNEL, FORBIDDEN…); 1 when the
 * connection fails or the server closes it otherwise (4401 bad token, 4408, 4429, 1001, 1013…).
 */
import { randomUUID } from 'node:crypto'
import WebSocket from 'ws'

/** Options of `auren tail` (see `auren tail --help`). */
export interface TailOptions {
  readonly url: string
  readonly token: string
  readonly channels: readonly string[]
  readonly agents?: readonly string[]
  readonly eventTypes?: readonly string[]
  readonly tiers?: readonly string[]
  readonly minConfidence?: number
  /** ISO-8601 replay start. */
  readonly since?: string
  readonly json: boolean
}

/** Where output goes (process streams by default; tests may pass their own). */
export interface TailIo {
  out(line: string): void
  err(line: string): void
}

const PROCESS_IO: TailIo = {
  out: (line) => void process.stdout.write(`${line}\n`),
  err: (line) => void process.stderr.write(`${line}\n`),
}

/** Meaning of the close codes of `auren.v1`, for messages. */
export const CLOSE_MEANING: Readonly<Record<number, string>> = {
  1000: 'normal close',
  1001: 'server going away',
  1006: 'connection lost',
  1009: 'frame too large',
  1013: 'server at capacity or client too slow',
  4401: 'unauthorized: the token is missing, malformed, expired or wrongly signed',
  4408: 'authentication timed out',
  4429: 'rate limit exceeded repeatedly',
}

type Json = Record<string, unknown>

/** The subscribe message for `opts`. */
export function subscribeMessage(opts: TailOptions, id: string): Json {
  const filters: Json = {}
  if (opts.agents?.length) filters.agent_ids = opts.agents
  if (opts.eventTypes?.length) filters.event_types = opts.eventTypes
  if (opts.tiers?.length) filters.tiers = opts.tiers
  if (opts.minConfidence !== undefined) filters.min_confidence = opts.minConfidence
  return {
    type: 'subscribe',
    id,
    channels: opts.channels,
    ...(Object.keys(filters).length > 0 ? { filters } : {}),
    ...(opts.since ? { since: { timestamp: opts.since } } : {}),
  }
}

/** Tiers tried by a memory lookup, in order, with hit or miss. */
function tiersTried(p: Json): string {
  const tried = (p.tier_latencies as Array<{ tier?: string; hit?: boolean; latency_ms?: number }> | undefined) ?? []
  return tried.map((t) => `${String(t.tier)}${t.hit ? '' : ':miss'}${typeof t.latency_ms === 'number' ? `(${t.latency_ms}ms)` : ''}`).join('>')
}

/**
 * What matters for an event's type, as an SRE reads it (shared wording with gateway/live/live.js):
 * LLM calls with tokens and cost, and a failed attempt without an answer named as such (not a
 * call; processors/aggregation/transform.ts); system_health component and status; biometric
 * metric, value and anomaly; the memory tier that served a lookup (or none) and the tiers tried;
 * decision category and urgency; tools; handoffs and collaborations.
 */
export function eventDetail(e: Json): string {
  const p = (e.payload ?? {}) as Json
  const target = (e.target_agent as { id?: string } | null)?.id
  const cost = typeof e.cost_usd === 'number' ? ` $${e.cost_usd.toFixed(6)}` : ''
  switch (e.event_type) {
    case 'llm_call_started':
      return `${String(p.model ?? '')} in~${Number(p.input_tokens ?? 0)}`
    case 'llm_call_completed': {
      const usage = Number(p.input_tokens ?? 0) > 0 || Number(p.output_tokens ?? 0) > 0 || typeof p.reported_cost_usd === 'number'
      if (p.success === false && !usage) return `${String(p.model ?? '')} failed attempt ${String(p.error_type ?? 'unknown')} (no answer: not a call)`
      return `${String(p.model ?? '')} in=${Number(p.input_tokens ?? 0)} out=${Number(p.output_tokens ?? 0)}${cost}${p.success === false ? ` error ${String(p.error_type ?? '')}` : ''}`
    }
    case 'tool_usage_started':
    case 'tool_usage_completed':
      return `${String(p.tool_name ?? '')}${cost}`
    case 'agent_handoff':
      return `${String(p.from_agent)} -> ${String(p.to_agent)}${p.topic ? ` (${String(p.topic)})` : ''}`
    case 'agent_collaboration':
      return `${(p.collaborating_agents as string[] | undefined ?? []).join(',')} <-> ${String(p.primary_agent)}`
    case 'system_health':
      return `${String(p.component ?? '?')} ${String(p.status ?? '?')}`
    case 'biometric_analysis':
      return `${String(p.metric ?? '?')}=${String(p.value ?? '?')}${p.unit ? ` ${String(p.unit)}` : ''}${p.anomaly === true ? ' ANOMALY' : ''}`
    case 'memory_tier_access':
      return `${p.tier_served ? `served by ${String(p.tier_served)}` : 'not found in any tier'} (tried ${tiersTried(p)})`
    case 'agent_decision':
      return `category=${String(p.category ?? '-')} urgency=${String(p.urgency ?? '-')}`
    default:
      return target ? `-> ${target}` : ''
  }
}

/** One compact line for an event: time, tier, type, agent, and what matters for its type ({@link eventDetail}). */
export function humanLine(e: Json): string {
  const p = (e.payload ?? {}) as Json
  const agent = (e.source_agent as { id?: string } | null)?.id ?? '-'
  const detail = eventDetail(e)
  const failed = e.event_type !== 'llm_call_completed' && (p.success === false || (e.performance as { success?: boolean } | null)?.success === false) ? ' FAILED' : ''
  return `${String(e.timestamp ?? '')} ${String(e.tier ?? '').padEnd(11)} ${String(e.event_type).padEnd(24)} ${agent}${detail ? ` ${detail}` : ''}${failed}`.trimEnd()
}

/** A number as a person reads it: up to 4 significant decimals, no exponent for everyday sizes. */
function figure(v: unknown): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return String(v)
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)))
}

/**
 * One line for an alert frame (CONTRACTS.md 3b): time of the change (ends_at when resolved, else
 * starts_at), state, severity, rule, labels as `{k=v,…}` (sorted: the rule's grouping labels,
 * its own labels and `replay`; `alertname` and `severity` left out when they repeat the rule and
 * severity), the summary, the value against the threshold, and for a resolved alert how long it
 * fired. Example: `2026-03-02T10:00:00.000000Z FIRING   warning  agent-rate-limits {agent=Programmer}
 * Programmer hit 5 rate limits in 5m (value 5, threshold 5)`.
 */
export function alertLine(a: Json): string {
  const status = String(a.status ?? '?')
  // `alertname` and `severity` repeat the rule and severity already on the line
  const shown: Record<string, unknown> = { alertname: a.rule, severity: a.severity }
  const labels = Object.entries((a.labels ?? {}) as Record<string, unknown>).filter(([k, v]) => shown[k] !== v)
    .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([k, v]) => `${k}=${String(v)}`)
  const summary = String(((a.annotations ?? {}) as Json).summary ?? '')
  const startMs = typeof a.starts_at === 'string' ? Date.parse(a.starts_at) : NaN
  const endMs = typeof a.ends_at === 'string' ? Date.parse(a.ends_at) : NaN
  const lasted = status === 'resolved' && Number.isFinite(startMs) && Number.isFinite(endMs) ? `, fired ${formatSpan(endMs - startMs)} from ${String(a.starts_at)}` : ''
  const time = status === 'resolved' && a.ends_at ? a.ends_at : a.starts_at
  return `${String(time ?? '')} ${status.toUpperCase().padEnd(8)} ${String(a.severity ?? '?').padEnd(8)} ${String(a.rule ?? '?')} {${labels.join(',')}}` +
    `${summary ? ` ${summary}` : ''} (value ${figure(a.value)}, threshold ${figure(a.threshold)}${lasted})`
}

/** "45s", "12m 5s", "3h 2m" (ms → the two largest units). */
function formatSpan(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 ? ` ${s % 60}s` : ''}`
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)}m` : ''}`
}

/**
 * Connects, subscribes and prints until the connection ends or `signal` aborts.
 * @returns the exit status (see the module comment)
 */
export function runTail(opts: TailOptions, io: TailIo = PROCESS_IO, signal?: AbortSignal): Promise<number> {
  return new Promise((resolve) => {
    const subscribeId = randomUUID()
    let subscriptionId: string | null = null
    let status: number | null = null
    let stopping = false
    const ws = new WebSocket(opts.url, { headers: { Authorization: `Bearer ${opts.token}` } })
    const print = (kind: string, body: Json) => io.out(opts.json ? JSON.stringify(body) : kind === 'event' ? humanLine(body) : kind === 'alert' ? alertLine(body) : `${kind} ${JSON.stringify(body)}`)
    const stop = () => {
      if (stopping) return
      stopping = true
      if (ws.readyState === WebSocket.OPEN) {
        if (subscriptionId) ws.send(JSON.stringify({ type: 'unsubscribe', subscription_id: subscriptionId }))
        ws.close(1000)
        setTimeout(() => ws.terminate(), 2_000).unref()
      } else {
        ws.terminate()
      }
    }
    if (signal?.aborted) stop()
    signal?.addEventListener('abort', stop, { once: true })

    ws.on('message', (data) => {
      let m: Json & { type?: string }
      try {
        m = JSON.parse(data.toString()) as Json & { type?: string }
      } catch {
        io.err('auren tail: the server sent a frame that is not JSON')
        return
      }
      switch (m.type) {
        case 'welcome':
          ws.send(JSON.stringify(subscribeMessage(opts, subscribeId)))
          break
        case 'subscribed':
          subscriptionId = String(m.subscription_id)
          io.err(`auren tail: subscribed to ${(m.channels as string[]).join(', ')} (${subscriptionId}); Ctrl-C to stop`)
          break
        case 'event':
          print('event', m.event as Json)
          break
        case 'batch':
          for (const e of m.events as Json[]) print('event', e)
          break
        case 'metrics':
          print('metrics', m.window as Json)
          break
        case 'alert':
          print('alert', m.alert as Json)
          break
        case 'recovered':
          io.err(m.complete ? 'auren tail: caught up from --since' : 'auren tail: caught up, but --since is older than what the gateway keeps: some events were not replayed')
          break
        case 'error':
          io.err(`auren tail: error ${String(m.code)}: ${String(m.message)}`)
          if (m.id === subscribeId) {
            status = 2
            stop()
          }
          break
        default:
          break
      }
    })
    ws.on('error', (err) => {
      // 'close' follows; keep the first reason.
      if (!stopping && status === null) {
        io.err(`auren tail: ${err.message} (${opts.url})`)
        status = 1
      }
    })
    ws.on('close', (code, reason) => {
      signal?.removeEventListener('abort', stop)
      if (status !== null) return resolve(status)
      if (stopping || code === 1000) return resolve(0)
      io.err(`auren tail: connection closed ${code}: ${reason.toString() || CLOSE_MEANING[code] || 'closed'}${reason.length > 0 && CLOSE_MEANING[code] ? ` (${CLOSE_MEANING[code]})` : ''}`)
      resolve(1)
    })
  })
}
