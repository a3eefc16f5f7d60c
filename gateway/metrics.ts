/**
 * The gateway's REST metrics (CONTRACTS.md section 4 rules: base units, `_total` counters,
 * `_seconds` histograms, low-cardinality labels: `route` is the route pattern, never the URL,
 * and no user, trace or event id). The WebSocket metrics of the contract
 * (`auren_gateway_connections`, `…_messages_sent_total`, …) belong to the streaming part.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { AuthFailure } from './auth.ts'

export interface GatewayMetrics {
  /** auren_gateway_http_requests_total{route,method,status}: answered requests. */
  readonly requests: Counter<'route' | 'method' | 'status'>
  /** auren_gateway_http_request_duration_seconds{route}: time to answer. */
  readonly duration: Histogram<'route'>
  /** auren_gateway_auth_failures_total{reason}: refused tokens (missing, expired, signature, algorithm, claims, malformed, keys_unavailable). */
  readonly authFailures: Counter<'reason'>
  /** auren_gateway_forbidden_total{route}: authenticated requests refused by role or user scope. */
  readonly forbidden: Counter<'route'>
}

/** The metric `name` already on `registry`, or the one `make` creates and registers there. */
function registered<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make()
}

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** Registers the metrics on `registry` (once per registry: a second call returns the same ones). */
export function createGatewayMetrics(registry: Registry): GatewayMetrics {
  const registers = [registry]
  return {
    requests: registered(registry, 'auren_gateway_http_requests_total', () => new Counter({
      name: 'auren_gateway_http_requests_total', help: 'REST requests answered, by route pattern, method and status code', labelNames: ['route', 'method', 'status'], registers,
    })),
    duration: registered(registry, 'auren_gateway_http_request_duration_seconds', () => new Histogram({
      name: 'auren_gateway_http_request_duration_seconds', help: 'Time to answer a REST request, seconds', labelNames: ['route'], buckets: DURATION_BUCKETS, registers,
    })),
    authFailures: registered(registry, 'auren_gateway_auth_failures_total', () => new Counter({
      name: 'auren_gateway_auth_failures_total', help: 'Bearer tokens refused, by reason', labelNames: ['reason'], registers,
    })),
    forbidden: registered(registry, 'auren_gateway_forbidden_total', () => new Counter({
      name: 'auren_gateway_forbidden_total', help: 'Authenticated requests refused by role or user scope', labelNames: ['route'], registers,
    })),
  }
}

/** Pre-creates the auth failure series at 0, so rates work from the first scrape. */
export function initAuthFailureSeries(m: GatewayMetrics): void {
  const reasons: AuthFailure[] = ['missing', 'expired', 'signature', 'algorithm', 'claims', 'malformed', 'keys_unavailable']
  for (const reason of reasons) m.authFailures.inc({ reason }, 0)
}

/** The contract's WebSocket metrics (CONTRACTS.md section 4, gateway). */
export interface StreamMetrics {
  /** auren_gateway_connections: open WebSocket connections (authenticated or not). */
  readonly connections: Gauge
  /** auren_gateway_messages_sent_total{type}: frames written, by server message type. */
  readonly sent: Counter<'type'>
  /** auren_gateway_delivery_latency_seconds{tier}: event time (record time for replayed events) to frame written, per event. */
  readonly latency: Histogram<'tier'>
  /** auren_gateway_dropped_messages_total{reason}: frames or events not delivered (slow_client, buffer_full, decode). */
  readonly dropped: Counter<'reason'>
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

/** Registers the stream metrics on `registry` (once per registry), with the series pre-created at 0. */
export function createStreamMetrics(registry: Registry): StreamMetrics {
  const registers = [registry]
  const m: StreamMetrics = {
    connections: registered(registry, 'auren_gateway_connections', () => new Gauge({ name: 'auren_gateway_connections', help: 'Open WebSocket connections of /v1/stream', registers })),
    sent: registered(registry, 'auren_gateway_messages_sent_total', () => new Counter({
      name: 'auren_gateway_messages_sent_total', help: 'WebSocket frames written, by server message type', labelNames: ['type'], registers,
    })),
    latency: registered(registry, 'auren_gateway_delivery_latency_seconds', () => new Histogram({
      name: 'auren_gateway_delivery_latency_seconds', help: 'Event time (for replayed or synthetic event times: the Kafka record time) to the frame holding the event written to the socket, seconds, by tier', labelNames: ['tier'], buckets: LATENCY_BUCKETS, registers,
    })),
    dropped: registered(registry, 'auren_gateway_dropped_messages_total', () => new Counter({
      name: 'auren_gateway_dropped_messages_total', help: 'Frames or events not delivered, by reason (slow_client, buffer_full, decode)', labelNames: ['reason'], registers,
    })),
  }
  for (const type of ['event', 'batch', 'metrics', 'alert']) m.sent.inc({ type }, 0)
  for (const tier of ['critical', 'operational', 'analytical']) m.latency.zero({ tier })
  for (const reason of ['slow_client', 'buffer_full', 'decode']) m.dropped.inc({ reason }, 0)
  return m
}
