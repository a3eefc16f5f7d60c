/**
 * The ingest API, the gateway's write half: `POST /v1/events` (JSON batches of `AgentEvent`s,
 * CONTRACTS.md section 2; optionally `Content-Encoding: gzip`).
 *
 * Delivery semantics:
 * - **accepted means acknowledged**: the answer is sent only after the broker acknowledged every
 *   accepted event (idempotent producer, acks=all); an answer of 200/207 never names an event
 *   that is not in Kafka.
 * - **partial success**: each item is checked on its own (event-batch.ts, enrichment's rules);
 *   valid items are written, refused ones are listed with their reasons. All accepted: 200; some
 *   refused: 207; none accepted: 400.
 * - **backpressure**: more than `maxInFlight` requests waiting for the broker → 429 with
 *   `Retry-After: 1`; the broker not acknowledging within `ackTimeoutMs` (broker down, registry
 *   down) → 503 with a `Retry-After` growing with the outage ({@link unavailableRetryAfterS}). Exporters retry on both; a retry of events whose first
 *   write is still pending waits for that write instead of writing them again (delivery-ledger.ts).
 * - **limits**: body size (413), events per request (400), requests per credential (token
 *   bucket: 429 with `Retry-After`).
 * - **auth**: `X-API-Key` (keys from AUREN_GATEWAY_INGEST_API_KEYS only) or a bearer JWT (the
 *   gateway's keys and checks, auth.ts) whose `scope` holds `events:write`. Missing or bad: 401;
 *   a valid JWT without the scope: 403.
 * - **metrics**: auren_ingest_* (see README "Ingest API").
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { createGunzip } from 'node:zlib'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import { bearerToken, type Authenticator } from '../auth.ts'
import type { IngestConfig } from '../config.ts'
import { ApiError } from '../../processors/runtime/ops/errors.ts'
import { TokenBucket } from '../limits.ts'
import { DeliveryLedger } from './delivery-ledger.ts'
import { BatchShapeError, checkEvent, checkEventBatch, type RejectedItem } from './event-batch.ts'
import { decodeTraceRequest, encodeTraceResponse, OtlpDecodeError } from './otlp-decode.ts'
import { mapSpans } from './otlp-map.ts'
import type { EventProducer } from './event-producer.ts'
import type { AgentEventRecord } from '../../schemas/index.ts'

/** Scope a JWT needs to write events. */
export const WRITE_SCOPE = 'events:write'
export const EVENTS_PATH = '/v1/events'
export const TRACES_PATH = '/v1/traces'
/**
 * Retry-After of a 503 (broker or registry not acknowledging), s: half the time the broker has
 * been unacknowledging so far, within [5, 30]. A blip is retried soon; a broker restart (tens of
 * seconds here) spreads the at most 6 attempts an OTLP exporter makes
 * (otlp-exporter-base retrying-transport.js, which waits what Retry-After says) over about a
 * minute and a half instead of ~15 s.
 * @param outageMs time since the first unacknowledged request of the current outage, ms
 */
export function unavailableRetryAfterS(outageMs: number): number {
  return Math.min(30, Math.max(5, Math.ceil(outageMs / 2000)))
}

/** The ingest metrics. */
export interface IngestMetrics {
  /** auren_ingest_items_received_total{api}: events (or spans) received in request bodies. */
  readonly received: Counter<'api'>
  /** auren_ingest_items_accepted_total{api}: items of accepting answers (all acknowledged by Kafka; an item retried after its acknowledgement counts again). */
  readonly accepted: Counter<'api'>
  /** auren_ingest_items_written_total{api}: items produced to Kafka and acknowledged, each event_id once (a retry waiting for, or finding, an earlier write adds nothing). */
  readonly written: Counter<'api'>
  /** auren_ingest_items_rejected_total{api,reason}: refused items (per-item reasons), or every item of a request refused as a whole (unavailable, backpressure, rate_limited). */
  readonly rejected: Counter<'api' | 'reason'>
  /** auren_ingest_request_duration_seconds{api,status}: receipt to answer, including the broker's acknowledgement. */
  readonly duration: Histogram<'api' | 'status'>
  /** auren_ingest_in_flight_requests: requests waiting for the broker. */
  readonly inFlight: Gauge
  /** auren_ingest_spans_skipped_total{reason}: OTLP spans that map to no event (not_gen_ai, non_leaf_llm, no_model). */
  readonly skipped: Counter<'reason'>
}

/** Registers the ingest metrics (once per registry). */
export function createIngestMetrics(registry: Registry): IngestMetrics {
  const registers = [registry]
  const one = <T>(name: string, make: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? make()
  return {
    received: one('auren_ingest_items_received_total', () => new Counter({ name: 'auren_ingest_items_received_total', help: 'Events or spans received by the ingest API', labelNames: ['api'], registers })),
    accepted: one('auren_ingest_items_accepted_total', () => new Counter({ name: 'auren_ingest_items_accepted_total', help: 'Items of accepting answers (acknowledged by Kafka), by ingest API', labelNames: ['api'], registers })),
    written: one('auren_ingest_items_written_total', () => new Counter({ name: 'auren_ingest_items_written_total', help: 'Items produced to Kafka and acknowledged, each event_id once, by ingest API', labelNames: ['api'], registers })),
    rejected: one('auren_ingest_items_rejected_total', () => new Counter({ name: 'auren_ingest_items_rejected_total', help: 'Events or spans refused, by ingest API and reason', labelNames: ['api', 'reason'], registers })),
    duration: one('auren_ingest_request_duration_seconds', () => new Histogram({
      name: 'auren_ingest_request_duration_seconds', help: 'Ingest request time, receipt to answer (including the broker acknowledgement), seconds', labelNames: ['api', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers,
    })),
    inFlight: one('auren_ingest_in_flight_requests', () => new Gauge({ name: 'auren_ingest_in_flight_requests', help: 'Ingest requests waiting for the broker acknowledgement', registers })),
    skipped: one('auren_ingest_spans_skipped_total', () => new Counter({ name: 'auren_ingest_spans_skipped_total', help: 'OTLP spans that map to no event, by reason', labelNames: ['reason'], registers })),
  }
}

/** What the ingest routes need. */
export interface IngestDeps {
  readonly config: IngestConfig
  readonly auth: Authenticator
  readonly producer: EventProducer
  readonly registry: Registry
  readonly now?: () => number
}

/** A refusal with an HTTP status and optional Retry-After (s). */
class IngestRefusal extends ApiError {
  constructor(code: 'UNAVAILABLE' | 'UNAUTHORIZED' | 'FORBIDDEN' | 'BAD_REQUEST', message: string, readonly retryAfterS?: number, readonly status?: number) {
    super(code, message)
  }
}

const sha = (s: string) => createHash('sha256').update(s).digest()

/** Registers `POST /v1/events` on `app` (call before `ready()`). */
export function registerIngestRoutes(app: FastifyInstance, deps: IngestDeps): { readonly inFlight: number } {
  const { config } = deps
  const now = deps.now ?? Date.now
  const metrics = createIngestMetrics(deps.registry)
  const ledger = new DeliveryLedger()
  const keyDigests = config.apiKeys.map(sha)
  const buckets = new Map<string, TokenBucket>()
  let inFlight = 0
  /** Since when (epoch ms) the broker has not acknowledged; null while it does. */
  let unavailableSince: number | null = null

  /** The credential's id (for its rate bucket), or throws 401/403. */
  async function authenticate(request: FastifyRequest): Promise<string> {
    const key = request.headers['x-api-key']
    if (typeof key === 'string') {
      const d = sha(key)
      const i = keyDigests.findIndex((k) => timingSafeEqual(k, d))
      if (i < 0) throw new IngestRefusal('UNAUTHORIZED', 'unknown API key (X-API-Key)')
      return `key:${i}`
    }
    const principal = await deps.auth.verify(bearerToken(request.headers.authorization))
    if (!(principal.scopes ?? []).includes(WRITE_SCOPE)) throw new IngestRefusal('FORBIDDEN', `the token's scope must include '${WRITE_SCOPE}' to write events`)
    return `sub:${principal.userId}`
  }

  function rateLimit(credential: string): void {
    let b = buckets.get(credential)
    if (!b) {
      if (buckets.size > 10_000) buckets.clear()
      buckets.set(credential, (b = new TokenBucket({ ...config.rate, maxStrikes: Number.POSITIVE_INFINITY }, now())))
    }
    if (b.take(now()) !== 'accept') throw new IngestRefusal('UNAVAILABLE', `more than ${config.rate.perSecond} requests/s (burst ${config.rate.burst}) for this credential; retry later`, Math.max(1, Math.ceil(1 / config.rate.perSecond)), 429)
  }

  app.register(async (scope) => {
    scope.setErrorHandler((err, request, reply) => {
      const e = err as { statusCode?: number; code?: string; message?: string }
      if (err instanceof IngestRefusal) {
        if (err.retryAfterS !== undefined) reply.header('retry-after', String(err.retryAfterS))
        if (err.code === 'UNAUTHORIZED') reply.header('www-authenticate', 'Bearer, ApiKey')
        return reply.code(err.status ?? err.statusCode).send({ error: err.code, message: err.message })
      }
      if (err instanceof ApiError) {
        if (err.code === 'UNAUTHORIZED') reply.header('www-authenticate', `Bearer error="invalid_token"`)
        return reply.code(err.statusCode).send({ error: err.code, message: err.message })
      }
      const status = typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500 ? e.statusCode : typeof e.code === 'string' && e.code.startsWith('Z_') ? 400 : 500
      if (status === 500) {
        request.log.error({ err }, 'ingest: unhandled error')
        return reply.code(500).send({ error: 'INTERNAL', message: 'internal error' })
      }
      // fastify's own: 413 body too large, 400 bad JSON, 415 unsupported media type, gunzip errors.
      const message = e.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? `the body is larger than ${config.maxBodyBytes} bytes (AUREN_GATEWAY_INGEST_MAX_BODY_BYTES)` : e.code?.startsWith('Z_') ? `the gzip body does not decompress: ${e.message ?? ''}` : (e.message ?? 'bad request')
      return reply.code(status).send({ error: 'BAD_REQUEST', message })
    })
    // gzip bodies (OTLP exporters and SDKs compress): decompressed before parsing; bodyLimit
    // counts the decompressed bytes, so a small bomb cannot grow past it.
    scope.addHook('preParsing', async (request, _reply, payload) => {
      const enc = String(request.headers['content-encoding'] ?? 'identity').toLowerCase()
      if (enc === 'gzip') {
        delete request.headers['content-length']
        return payload.pipe(createGunzip())
      }
      if (enc !== 'identity') throw new IngestRefusal('BAD_REQUEST', `Content-Encoding '${enc}' is not supported (gzip or none)`, undefined, 415)
      return payload
    })
    scope.addContentTypeParser('application/x-protobuf', { parseAs: 'buffer', bodyLimit: config.maxBodyBytes }, (_req, body, done) => done(null, body))
    scope.post(TRACES_PATH, { bodyLimit: config.maxBodyBytes, schema: { hide: true } }, async (request, reply) => {
      const t0 = performance.now()
      let status = 500
      try {
        const out = await handleTraces(request, reply)
        status = reply.statusCode
        return out
      } catch (err) {
        status = err instanceof IngestRefusal && err.status ? err.status : err instanceof ApiError ? err.statusCode : 500
        throw err
      } finally {
        metrics.duration.observe({ api: 'otlp', status: String(status) }, (performance.now() - t0) / 1000)
      }
    })
    scope.post(EVENTS_PATH, { bodyLimit: config.maxBodyBytes, schema: { hide: true } }, async (request, reply) => {
      const t0 = performance.now()
      let status = 500
      try {
        const out = await handleEvents(request, reply)
        status = reply.statusCode
        return out
      } catch (err) {
        status = err instanceof IngestRefusal && err.status ? err.status : err instanceof ApiError ? err.statusCode : 500
        throw err
      } finally {
        metrics.duration.observe({ api: 'events', status: String(status) }, (performance.now() - t0) / 1000)
      }
    })
  })

  async function handleEvents(request: FastifyRequest, reply: FastifyReply) {
    const credential = await authenticate(request)
    rateLimit(credential)
    let checked
    try {
      checked = checkEventBatch(request.body, { nowMs: now(), maxFutureSkewMs: config.maxFutureSkewMs, maxEvents: config.maxEvents })
    } catch (err) {
      if (err instanceof BatchShapeError) throw new IngestRefusal('BAD_REQUEST', err.message)
      throw err
    }
    const total = checked.accepted.length + checked.rejected.length
    metrics.received.inc({ api: 'events' }, total)
    for (const r of checked.rejected) metrics.rejected.inc({ api: 'events', reason: r.reason })
    if (checked.accepted.length > 0) {
      if (inFlight >= config.maxInFlight) {
        metrics.rejected.inc({ api: 'events', reason: 'backpressure' }, checked.accepted.length)
        throw new IngestRefusal('UNAVAILABLE', `${inFlight} requests are waiting for the broker; retry later`, 1, 429)
      }
      await deliver(checked.accepted.map((a) => a.record), 'events')
      metrics.accepted.inc({ api: 'events' }, checked.accepted.length)
    }
    reply.code(checked.rejected.length === 0 ? 200 : checked.accepted.length === 0 ? 400 : 207)
    return {
      accepted: checked.accepted.length,
      rejected: checked.rejected.length,
      ...(checked.rejected.length > 0 ? { errors: checked.rejected.map(itemError) } : {}),
    }
  }

  async function handleTraces(request: FastifyRequest, reply: FastifyReply) {
    const encoding = String(request.headers['content-type'] ?? '').startsWith('application/x-protobuf') ? 'protobuf' as const : 'json' as const
    const credential = await authenticate(request)
    rateLimit(credential)
    let spans
    try {
      spans = decodeTraceRequest(request.body, encoding)
    } catch (err) {
      if (err instanceof OtlpDecodeError) throw new IngestRefusal('BAD_REQUEST', err.message)
      throw err
    }
    if (spans.length > config.maxEvents) throw new IngestRefusal('BAD_REQUEST', `the request holds ${spans.length} spans, more than ${config.maxEvents}; export smaller batches`)
    metrics.received.inc({ api: 'otlp' }, spans.length)
    const records: AgentEventRecord[] = []
    const problems: string[] = []
    let rejectedSpans = 0
    let acceptedSpans = 0
    for (const outcome of mapSpans(spans)) {
      if (outcome.kind === 'skipped') {
        metrics.skipped.inc({ reason: outcome.reason })
        continue
      }
      const checked = outcome.events.map((e) => checkEvent(e, { nowMs: now(), maxFutureSkewMs: config.maxFutureSkewMs }))
      const refused = checked.filter((c): c is Exclude<typeof c, { record: AgentEventRecord }> => 'reason' in c)
      if (refused.length > 0) {
        rejectedSpans++
        metrics.rejected.inc({ api: 'otlp', reason: refused[0]!.reason })
        if (problems.length < 5) problems.push(`span ${outcome.span.spanId} (${outcome.span.name}): ${refused.flatMap((r) => r.errors).join('; ')}`)
        continue
      }
      acceptedSpans++
      for (const c of checked) if ('record' in c) records.push(c.record)
    }
    if (records.length > 0) {
      if (inFlight >= config.maxInFlight) {
        metrics.rejected.inc({ api: 'otlp', reason: 'backpressure' }, acceptedSpans)
        throw new IngestRefusal('UNAVAILABLE', `${inFlight} requests are waiting for the broker; retry later`, 1, 429)
      }
      await deliver(records, 'otlp')
    }
    metrics.accepted.inc({ api: 'otlp' }, acceptedSpans)
    const body = encodeTraceResponse(rejectedSpans, problems.join(' | '), encoding)
    reply.code(200).type(encoding === 'protobuf' ? 'application/x-protobuf' : 'application/json')
    return body
  }

  /** Writes records once each by event_id and waits (at most ackTimeoutMs) for the acknowledgement. */
  async function deliver(records: readonly AgentEventRecord[], api: string): Promise<void> {
    const plan = ledger.plan(records.map((r) => r.event_id))
    const fresh = new Set(plan.fresh)
    const toSend = records.filter((r) => fresh.delete(r.event_id)) // first of each fresh id
    const waits = [...plan.pending]
    if (toSend.length > 0) {
      const write = ledger.track(toSend.map((r) => r.event_id), deps.producer.publish(toSend))
      write.then(() => metrics.written.inc({ api }, toSend.length), () => undefined)
      waits.push(write)
    }
    inFlight++
    metrics.inFlight.set(inFlight)
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([
        Promise.all(waits),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('ack timeout')), config.ackTimeoutMs))),
      ])
      unavailableSince = null
    } catch (err) {
      unavailableSince ??= now() - config.ackTimeoutMs
      metrics.rejected.inc({ api, reason: 'unavailable' }, records.length)
      app.log.warn({ err }, 'ingest: events not acknowledged in time')
      throw new IngestRefusal('UNAVAILABLE', `Kafka did not acknowledge the events within ${config.ackTimeoutMs} ms (broker or schema registry unavailable); retry later — events already sent are not written twice`, unavailableRetryAfterS(now() - unavailableSince))
    } finally {
      clearTimeout(timer)
      inFlight--
      metrics.inFlight.set(inFlight)
    }
  }

  return {
    get inFlight() {
      return inFlight
    },
  }
}

function itemError(r: RejectedItem) {
  return { index: r.index, event_id: r.eventId, status: 400, reason: r.reason, errors: r.errors }
}

/** Retry-After (s) and status of an ingest refusal, for the app's error handler. */
export function ingestRefusalOf(err: unknown): { status: number; retryAfterS?: number } | null {
  if (!(err instanceof IngestRefusal)) return null
  return { status: err.status ?? err.statusCode, ...(err.retryAfterS !== undefined ? { retryAfterS: err.retryAfterS } : {}) }
}
