/**
 * The WebSocket endpoint `GET /v1/stream` (protocol `auren.v1`, CONTRACTS.md section 5) on the
 * fastify app's HTTP server, with `ws` in `noServer` mode (fastify does not see upgrades).
 *
 * Per connection: authentication by `Authorization: Bearer` on the upgrade or a first
 * `{"type":"auth"}` message within `authTimeoutMs` (else close 4408; a bad or missing token closes
 * 4401, as does the token's `exp` passing); then `welcome`, and client messages in order
 * (protocol.ts validators, token-bucket rate limit, limits.ts), routed through the connection's
 * {@link SubscriptionSet}. Frames over `maxPayloadBytes` close 1009 (ws), connections over
 * `maxConnections` close 1013, a socket queueing more than the slow-client limits first loses
 * analytical batches, then is closed 1013. A ws ping every `heartbeatMs`; a client that did not
 * answer the previous one is dropped.
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage, Server } from 'node:http'
import type { Duplex } from 'node:stream'
import { decodeJwt } from 'jose'
import type { Logger } from 'pino'
import { WebSocketServer, type RawData, type WebSocket } from 'ws'
import { AuthError, bearerToken, type Authenticator, type Principal } from './auth.ts'
import type { WsConfig } from './config.ts'
import type { StreamItem } from './event-json.ts'
import { frameJson } from './frame-json.ts'
import type { StreamHistory } from './history.ts'
import { slowClientAction, TokenBucket } from './limits.ts'
import type { StreamMetrics } from './metrics.ts'
import { CHANNELS, CLOSE, isProtocolError, parseClientMessage, PROTOCOL, type ServerMessage } from './protocol.ts'
import { SubscriptionSet, type Outbound } from './subscriptions.ts'

/** Path of the endpoint. */
export const STREAM_PATH = '/v1/stream'

export interface StreamServerDeps {
  readonly auth: Authenticator
  readonly config: WsConfig
  readonly metrics: StreamMetrics
  readonly history: StreamHistory
  readonly log: Logger
  /** Clock, epoch ms; default Date.now. */
  readonly now?: () => number
}

export interface StreamServer {
  /** Handles upgrades of `server` for {@link STREAM_PATH} (others are refused with 404). */
  attach(server: Server): void
  /** Keeps `item` for replays and routes it to every authenticated connection. */
  publish(item: StreamItem): void
  /** Open connections. */
  readonly size: number
  /**
   * Closes every connection (1001) and stops accepting; a client that does not answer the close
   * handshake within {@link CLOSE_HANDSHAKE_MS} is disconnected (its socket destroyed).
   */
  close(): Promise<void>
}

/** How long close() waits for clients to answer the close handshake before dropping them, ms. */
export const CLOSE_HANDSHAKE_MS = 2_000

interface Connection {
  readonly id: string
  readonly ws: WebSocket
  readonly bucket: TokenBucket
  subs: SubscriptionSet | null
  alive: boolean
  /** Messages are handled one after another (the header token's verification first). */
  chain: Promise<void>
  flushTimer: NodeJS.Timeout | null
  /** Deadline the flush timer is set for, epoch ms. */
  flushAt: number | null
  timers: NodeJS.Timeout[]
}

/** Closes with a reason cut to the 123 bytes a close frame allows. */
function closeWith(ws: WebSocket, code: number, reason: string): void {
  let r = reason
  while (Buffer.byteLength(r) > 123) r = r.slice(0, -1)
  ws.close(code, r)
}

/** Refuses an upgrade with a plain HTTP answer. */
function refuse(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
}

export function createStreamServer(deps: StreamServerDeps): StreamServer {
  const { config, metrics, history, log } = deps
  const now = deps.now ?? Date.now
  const wss = new WebSocketServer({ noServer: true, maxPayload: config.maxPayloadBytes })
  const conns = new Set<Connection>()
  let attached: Server | null = null
  let closing = false

  const heartbeat = setInterval(() => {
    for (const c of conns) {
      if (!c.alive) {
        c.ws.terminate()
        continue
      }
      c.alive = false
      c.ws.ping()
    }
  }, config.heartbeatMs)
  heartbeat.unref()

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://gateway').pathname
    if (path !== STREAM_PATH) return refuse(socket, 404, 'Not Found')
    if (closing) return refuse(socket, 503, 'Service Unavailable')
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, req))
  }

  function send(c: Connection, out: Outbound): void {
    if (c.ws.readyState !== c.ws.OPEN) return
    const action = slowClientAction(config.slow, out.tier, c.ws.bufferedAmount)
    if (action !== 'send') {
      metrics.dropped.inc({ reason: 'slow_client' }, Math.max(1, out.eventTimesMs.length))
      if (action === 'close') {
        log.warn({ connection: c.id, bufferedBytes: c.ws.bufferedAmount }, 'client too slow: closing')
        c.ws.close(CLOSE.TRY_AGAIN_LATER, 'client too slow')
      }
      return
    }
    c.ws.send(frameJson(out.message))
    metrics.sent.inc({ type: out.message.type })
    if (out.tier !== null) {
      const t = now()
      for (const ms of out.eventTimesMs) metrics.latency.observe({ tier: out.tier }, Math.max(0, (t - ms) / 1000))
    }
  }

  const reply = (c: Connection, message: ServerMessage) => send(c, { message, tier: null, eventTimesMs: [] })

  function sendAll(c: Connection, outs: readonly Outbound[]): void {
    for (const o of outs) send(c, o)
    if (c.subs && c.subs.droppedBufferFull > 0) {
      metrics.dropped.inc({ reason: 'buffer_full' }, c.subs.droppedBufferFull)
      c.subs.droppedBufferFull = 0
    }
    schedule(c)
  }

  /**
   * Sets the connection's one flush timer to its earliest batch deadline (kept as it is when that
   * did not change: most events join a batch whose timer is already set).
   */
  function schedule(c: Connection): void {
    const deadline = c.subs?.nextDeadline() ?? null
    if (c.flushTimer && deadline === c.flushAt) return
    if (c.flushTimer) clearTimeout(c.flushTimer)
    c.flushTimer = null
    c.flushAt = deadline
    if (deadline === null) return
    c.flushTimer = setTimeout(() => {
      c.flushTimer = null
      c.flushAt = null
      if (c.subs) sendAll(c, c.subs.due(now()))
    }, Math.max(0, deadline - now()))
  }

  function authenticated(c: Connection, principal: Principal, token: string): void {
    c.subs = new SubscriptionSet(principal, { maxSubscriptions: config.maxSubscriptions, dedupCapacity: 10_000, maxBufferedEvents: 2_000 })
    const exp = decodeJwt(token).exp
    if (typeof exp === 'number') {
      const t = setTimeout(() => c.ws.close(CLOSE.UNAUTHORIZED, 'token expired'), Math.min(2 ** 31 - 1, Math.max(0, exp * 1000 - now())))
      c.timers.push(t)
    }
    const channels = c.subs.scopeUserId === null ? CHANNELS : CHANNELS.filter((ch) => ch !== 'metrics' && ch !== 'alerts')
    reply(c, { type: 'welcome', connection_id: c.id, server_time: new Date(now()).toISOString(), protocol: PROTOCOL, channels })
    log.debug({ connection: c.id, user: principal.userId, roles: principal.roles }, 'stream client authenticated')
  }

  async function verify(c: Connection, token: string): Promise<void> {
    try {
      authenticated(c, await deps.auth.verify(token), token)
    } catch (err) {
      const message = err instanceof AuthError ? err.message : 'token refused'
      closeWith(c.ws, CLOSE.UNAUTHORIZED, message)
    }
  }

  async function handle(c: Connection, data: RawData, isBinary: boolean): Promise<void> {
    if (c.ws.readyState !== c.ws.OPEN) return
    const text = isBinary ? null : data.toString()
    const msg = text === null ? { error: { code: 'BAD_REQUEST' as const, message: 'frames must be JSON text, not binary' } } : parseClientMessage(text)
    if (c.subs === null) {
      for (const t of c.timers.splice(0)) clearTimeout(t)
      if (isProtocolError(msg) || msg.type !== 'auth') return void c.ws.close(CLOSE.UNAUTHORIZED, 'first message must be {"type":"auth","token":"<JWT>"}')
      return verify(c, msg.token)
    }
    const rate = c.bucket.take(now())
    if (rate === 'close') return void c.ws.close(CLOSE.RATE_LIMITED, 'rate limit exceeded repeatedly')
    if (rate === 'refuse') {
      return reply(c, { type: 'error', ...(!isProtocolError(msg) && 'id' in msg && msg.id !== undefined ? { id: msg.id } : {}), code: 'RATE_LIMITED', message: `more than ${config.rate.perSecond} messages per second (burst ${config.rate.burst}); slow down` })
    }
    if (isProtocolError(msg)) return reply(c, { type: 'error', ...msg.error })
    switch (msg.type) {
      case 'auth':
        return reply(c, { type: 'error', code: 'BAD_REQUEST', message: 'already authenticated' })
      case 'ping':
        return reply(c, { type: 'pong', ...(msg.id !== undefined ? { id: msg.id } : {}) })
      case 'set_update_interval':
        c.subs.setUpdateInterval(msg.interval_ms)
        return schedule(c)
      case 'unsubscribe':
        if (!c.subs.unsubscribe(msg.subscription_id)) {
          return reply(c, { type: 'error', code: 'BAD_REQUEST', message: `unsubscribe: no subscription '${msg.subscription_id}' on this connection` })
        }
        return schedule(c)
      case 'subscribe': {
        const res = c.subs.subscribe(msg)
        if ('error' in res) return reply(c, { type: 'error', ...res.error })
        reply(c, res.reply)
        if (msg.sinceMs !== undefined) {
          const { items, complete } = history.since(msg.sinceMs, now())
          sendAll(c, c.subs.replay(res.subscriptionId, items, complete, now()))
        }
        return
      }
    }
  }

  function onConnection(ws: WebSocket, req: IncomingMessage): void {
    if (conns.size >= config.maxConnections) {
      ws.close(CLOSE.TRY_AGAIN_LATER, 'server at capacity')
      return
    }
    const c: Connection = { id: randomUUID(), ws, bucket: new TokenBucket(config.rate, now()), subs: null, alive: true, chain: Promise.resolve(), flushTimer: null, flushAt: null, timers: [] }
    conns.add(c)
    metrics.connections.inc()
    ws.on('pong', () => (c.alive = true))
    ws.on('error', (err) => log.debug({ connection: c.id, err }, 'stream socket error'))
    ws.on('close', () => {
      conns.delete(c)
      metrics.connections.dec()
      if (c.flushTimer) clearTimeout(c.flushTimer)
      for (const t of c.timers) clearTimeout(t)
    })
    ws.on('message', (data, isBinary) => {
      c.chain = c.chain.then(() => handle(c, data, isBinary)).catch((err: unknown) => {
        log.error({ connection: c.id, err }, 'stream message handling failed')
      })
    })
    const header = req.headers.authorization
    if (header !== undefined) {
      let token: string
      try {
        token = bearerToken(header)
      } catch (err) {
        closeWith(ws, CLOSE.UNAUTHORIZED, err instanceof Error ? err.message : 'bad Authorization header')
        return
      }
      c.chain = c.chain.then(() => verify(c, token))
    } else {
      c.timers.push(setTimeout(() => {
        if (c.subs === null) ws.close(CLOSE.AUTH_TIMEOUT, `no auth within ${config.authTimeoutMs} ms`)
      }, config.authTimeoutMs))
    }
  }

  return {
    attach(server) {
      attached = server
      server.on('upgrade', onUpgrade)
    },
    publish(item) {
      const t = now()
      history.add(item, t)
      for (const c of conns) if (c.subs) sendAll(c, c.subs.offer(item, t))
    },
    get size() {
      return conns.size
    },
    async close() {
      closing = true
      clearInterval(heartbeat)
      attached?.off('upgrade', onUpgrade)
      for (const c of conns) c.ws.close(CLOSE.GOING_AWAY, 'server shutting down')
      // ws waits 30 s for a peer's close frame; shutdown has a 10 s budget (server.ts).
      const forced = setTimeout(() => {
        for (const c of conns) c.ws.terminate()
      }, CLOSE_HANDSHAKE_MS)
      await new Promise<void>((resolve) => wss.close(() => resolve()))
      clearTimeout(forced)
    },
  }
}
