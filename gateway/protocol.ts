/**
 * The WebSocket protocol `auren.v1` (CONTRACTS.md section 5): client and server message types,
 * the channel list, the event_type → channel mapping and validators of client messages.
 *
 * Validators never throw: they return the parsed message or a {@link ProtocolError} whose
 * `message` is a sentence naming the offending field (sent as `error` BAD_REQUEST).
 */
import { AGENT_EVENT_TYPES, TIER_SYMBOLS, type AgentEventType, type Tier } from '../schemas/index.ts'
import type { ErrorCode } from '../processors/runtime/ops/errors.ts'

/** Protocol name, sent in `welcome`. */
export const PROTOCOL = 'auren.v1'

/** Channels a client may subscribe to. `events` carries every enriched event. */
export const CHANNELS = ['events', 'agent_activity', 'llm_usage', 'tool_usage', 'collaboration', 'memory', 'intelligence', 'system', 'metrics', 'alerts'] as const
export type Channel = (typeof CHANNELS)[number]

/** Channels that carry enriched events (all but `metrics` and `alerts`). */
export type EventChannel = Exclude<Channel, 'metrics' | 'alerts'>

/** Error codes of `error` messages. */
export const ERROR_CODES = ['BAD_REQUEST', 'UNAUTHORIZED', 'FORBIDDEN', 'UNKNOWN_CHANNEL', 'RATE_LIMITED', 'TOO_MANY_SUBSCRIPTIONS'] as const satisfies readonly ErrorCode[]
export type ProtocolErrorCode = (typeof ERROR_CODES)[number]

/** WebSocket close codes of the protocol. */
export const CLOSE = Object.freeze({
  NORMAL: 1000,
  GOING_AWAY: 1001,
  /** Frame larger than the maximum payload (ws sets it itself). */
  TOO_LARGE: 1009,
  /** Server at capacity, or client too slow to read its frames. */
  TRY_AGAIN_LATER: 1013,
  UNAUTHORIZED: 4401,
  AUTH_TIMEOUT: 4408,
  RATE_LIMITED: 4429,
})

/** Update interval bounds of `set_update_interval`, ms. */
export const UPDATE_INTERVAL_MS = Object.freeze({ min: 100, max: 60_000 })

/** The event channel of each event type (every event is also on `events`). */
export function channelOf(type: AgentEventType): EventChannel {
  if (type.startsWith('agent_execution_')) return 'agent_activity'
  if (type.startsWith('llm_call_')) return 'llm_usage'
  if (type.startsWith('tool_usage_')) return 'tool_usage'
  if (type === 'agent_collaboration' || type === 'agent_handoff') return 'collaboration'
  if (type.startsWith('memory_') || type === 'knowledge_access') return 'memory'
  if (type === 'agent_decision' || type.startsWith('hypothesis_')) return 'intelligence'
  return 'system' // system_health, performance_metric, biometric_analysis, conversation_turn
}

/** Filters of a subscription; every given filter must match (AND), values within one filter OR. */
export interface SubscriptionFilters {
  readonly agent_ids?: readonly string[]
  readonly event_types?: readonly AgentEventType[]
  readonly tiers?: readonly Tier[]
  /** 0..1; events without a confidence are excluded when set. */
  readonly min_confidence?: number
}

export type ClientMessage =
  | { readonly type: 'auth'; readonly token: string }
  | {
      readonly type: 'subscribe'
      readonly id?: string
      readonly channels: readonly Channel[]
      readonly filters?: SubscriptionFilters
      /** Replay start, epoch ms (from the ISO-8601 `since.timestamp`). */
      readonly sinceMs?: number
    }
  | { readonly type: 'unsubscribe'; readonly subscription_id: string }
  | { readonly type: 'set_update_interval'; readonly interval_ms: number }
  | { readonly type: 'ping'; readonly id?: string }

export type ServerMessage =
  | { type: 'welcome'; connection_id: string; server_time: string; protocol: typeof PROTOCOL; channels: readonly Channel[] }
  | { type: 'subscribed'; id?: string; subscription_id: string; channels: readonly Channel[] }
  | { type: 'event'; subscription_id: string; event: Record<string, unknown> }
  | { type: 'batch'; subscription_id: string; tier: Tier; events: Record<string, unknown>[] }
  | { type: 'metrics'; subscription_id: string; window: Record<string, unknown> }
  | { type: 'alert'; subscription_id: string; alert: Record<string, unknown> }
  | { type: 'recovered'; subscription_id: string; complete: boolean }
  | { type: 'pong'; id?: string }
  | { type: 'error'; id?: string; code: ProtocolErrorCode; message: string }

/** A refused client message. */
export interface ProtocolError {
  readonly error: { readonly code: ProtocolErrorCode; readonly message: string; readonly id?: string }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const bad = (message: string, id?: string): ProtocolError => ({ error: { code: 'BAD_REQUEST', message, ...(id !== undefined ? { id } : {}) } })
const KEYS: Record<ClientMessage['type'], readonly string[]> = {
  // `id` is accepted on every message (echoed on its errors), though only subscribe and ping answer with it.
  auth: ['type', 'id', 'token'],
  subscribe: ['type', 'id', 'channels', 'filters', 'since'],
  unsubscribe: ['type', 'id', 'subscription_id'],
  set_update_interval: ['type', 'id', 'interval_ms'],
  ping: ['type', 'id'],
}
const FILTER_KEYS = ['agent_ids', 'event_types', 'tiers', 'min_confidence']
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/

function stringList(v: unknown, field: string, allowed?: readonly string[]): string[] | string {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x === '')) return `'${field}' must be an array of non-empty strings`
  if (v.length > 1000) return `'${field}' may hold at most 1000 values`
  if (allowed) {
    const unknown = (v as string[]).filter((x) => !allowed.includes(x))
    if (unknown.length > 0) return `'${field}' has unknown values ${unknown.map((x) => JSON.stringify(x)).join(', ')} (known: ${allowed.join(', ')})`
  }
  return v as string[]
}

/**
 * Parses one text frame.
 * Unknown channels give UNKNOWN_CHANNEL; everything else malformed gives BAD_REQUEST.
 */
export function parseClientMessage(text: string): ClientMessage | ProtocolError {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    return bad('message is not valid JSON')
  }
  if (!isObject(raw)) return bad('message must be a JSON object')
  const id = typeof raw.id === 'string' ? raw.id : undefined
  const type = raw.type
  if (typeof type !== 'string' || !(type in KEYS)) return bad(`'type' must be one of ${Object.keys(KEYS).join(', ')} (got ${JSON.stringify(type)})`, id)
  const t = type as ClientMessage['type']
  const extra = Object.keys(raw).filter((k) => !KEYS[t].includes(k))
  if (extra.length > 0) return bad(`${t}: unknown field${extra.length > 1 ? 's' : ''} ${extra.map((k) => `'${k}'`).join(', ')} (known: ${KEYS[t].join(', ')})`, id)
  if (raw.id !== undefined && (typeof raw.id !== 'string' || raw.id.length > 200)) return bad(`${t}: 'id' must be a string of at most 200 characters`)
  switch (t) {
    case 'auth':
      return typeof raw.token === 'string' && raw.token !== '' ? { type: 'auth', token: raw.token } : bad("auth: 'token' must be a non-empty string", id)
    case 'ping':
      return id !== undefined ? { type: 'ping', id } : { type: 'ping' }
    case 'unsubscribe':
      return typeof raw.subscription_id === 'string' && raw.subscription_id !== ''
        ? { type: 'unsubscribe', subscription_id: raw.subscription_id }
        : bad("unsubscribe: 'subscription_id' must be a non-empty string", id)
    case 'set_update_interval': {
      const v = raw.interval_ms
      if (typeof v !== 'number' || !Number.isInteger(v) || v < UPDATE_INTERVAL_MS.min || v > UPDATE_INTERVAL_MS.max) {
        return bad(`set_update_interval: 'interval_ms' must be an integer from ${UPDATE_INTERVAL_MS.min} to ${UPDATE_INTERVAL_MS.max} (got ${JSON.stringify(v)})`, id)
      }
      return { type: 'set_update_interval', interval_ms: v }
    }
    case 'subscribe':
      return parseSubscribe(raw, id)
  }
}

function parseSubscribe(raw: Record<string, unknown>, id: string | undefined): ClientMessage | ProtocolError {
  const channels = stringList(raw.channels, 'channels')
  if (typeof channels === 'string') return bad(`subscribe: ${channels}`, id)
  if (channels.length === 0) return bad("subscribe: 'channels' must name at least one channel", id)
  const unknown = channels.filter((c) => !(CHANNELS as readonly string[]).includes(c))
  if (unknown.length > 0) {
    return { error: { code: 'UNKNOWN_CHANNEL', message: `subscribe: unknown channel${unknown.length > 1 ? 's' : ''} ${unknown.map((c) => JSON.stringify(c)).join(', ')} (known: ${CHANNELS.join(', ')})`, ...(id !== undefined ? { id } : {}) } }
  }
  let filters: SubscriptionFilters | undefined
  if (raw.filters !== undefined) {
    if (!isObject(raw.filters)) return bad("subscribe: 'filters' must be an object", id)
    const f = raw.filters
    const extra = Object.keys(f).filter((k) => !FILTER_KEYS.includes(k))
    if (extra.length > 0) return bad(`subscribe: unknown filter ${extra.map((k) => `'${k}'`).join(', ')} (known: ${FILTER_KEYS.join(', ')})`, id)
    const out: { agent_ids?: string[]; event_types?: AgentEventType[]; tiers?: Tier[]; min_confidence?: number } = {}
    if (f.agent_ids !== undefined) {
      const v = stringList(f.agent_ids, 'filters.agent_ids')
      if (typeof v === 'string') return bad(`subscribe: ${v}`, id)
      out.agent_ids = v
    }
    if (f.event_types !== undefined) {
      const v = stringList(f.event_types, 'filters.event_types', AGENT_EVENT_TYPES)
      if (typeof v === 'string') return bad(`subscribe: ${v}`, id)
      out.event_types = v as AgentEventType[]
    }
    if (f.tiers !== undefined) {
      const v = stringList(f.tiers, 'filters.tiers', TIER_SYMBOLS)
      if (typeof v === 'string') return bad(`subscribe: ${v}`, id)
      out.tiers = v as Tier[]
    }
    if (f.min_confidence !== undefined) {
      const v = f.min_confidence
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) return bad(`subscribe: 'filters.min_confidence' must be a number from 0 to 1 (got ${JSON.stringify(v)})`, id)
      out.min_confidence = v
    }
    filters = out
  }
  let sinceMs: number | undefined
  if (raw.since !== undefined) {
    const s = raw.since
    if (!isObject(s) || Object.keys(s).some((k) => k !== 'timestamp') || typeof s.timestamp !== 'string' || !ISO_WITH_ZONE.test(s.timestamp) || Number.isNaN(Date.parse(s.timestamp))) {
      return bad(`subscribe: 'since' must be {"timestamp": "<ISO-8601 date-time with a zone>"} (got ${JSON.stringify(s)})`, id)
    }
    sinceMs = Date.parse(s.timestamp)
  }
  return {
    type: 'subscribe',
    ...(id !== undefined ? { id } : {}),
    channels: [...new Set(channels)] as Channel[],
    ...(filters ? { filters } : {}),
    ...(sinceMs !== undefined ? { sinceMs } : {}),
  }
}

/** True when `x` is a refusal. */
export function isProtocolError(x: ClientMessage | ProtocolError): x is ProtocolError {
  return 'error' in x
}
