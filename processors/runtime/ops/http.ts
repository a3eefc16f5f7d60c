import Fastify, { type FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'

/** What the health endpoints report. */
export interface HealthSource {
  /** Process is alive and not shutting down. */
  healthy(): boolean
  /** Ready to do work: connected, in its consumer group, with an assignment. */
  ready(): { ready: boolean; detail: Record<string, unknown> }
}

/** A {@link HealthSource} whose readiness may need I/O (the gateway probes its database). */
export interface OpsHealth {
  healthy(): boolean
  ready(): { ready: boolean; detail: Record<string, unknown> } | Promise<{ ready: boolean; detail: Record<string, unknown> }>
}

/** Route schemas (e.g. OpenAPI tags and summaries) of the three ops routes, when the app documents them. */
export interface OpsRouteSchemas {
  readonly healthz?: Record<string, unknown>
  readonly readyz?: Record<string, unknown>
  readonly metrics?: Record<string, unknown>
}

/**
 * Registers `GET /metrics` (Prometheus text format), `GET /healthz` (200 while alive, 503 while
 * stopping) and `GET /readyz` (200 when ready, else 503, with the detail) on `app`: the
 * processors' ops server and the gateway serve the same endpoints.
 */
export function registerOpsRoutes(app: FastifyInstance, registry: Registry, health: OpsHealth, schemas: OpsRouteSchemas = {}): void {
  app.get('/healthz', { ...(schemas.healthz ? { schema: schemas.healthz } : {}) }, async (_req, reply) => {
    const ok = health.healthy()
    reply.code(ok ? 200 : 503)
    return { status: ok ? 'ok' : 'stopping' }
  })
  app.get('/readyz', { ...(schemas.readyz ? { schema: schemas.readyz } : {}) }, async (_req, reply) => {
    const { ready, detail } = await health.ready()
    reply.code(ready ? 200 : 503)
    return { status: ready ? 'ready' : 'not_ready', ...detail }
  })
  app.get('/metrics', { ...(schemas.metrics ? { schema: schemas.metrics } : {}) }, async (_req, reply) => {
    reply.header('content-type', registry.contentType)
    return registry.metrics()
  })
}

/**
 * The operational HTTP server of an app (fastify): `GET /metrics` (Prometheus text format),
 * `GET /healthz` (200 while alive, 503 while stopping), `GET /readyz` (200 when ready, else 503).
 * Not listening yet: call `listen`.
 */
export function buildOpsServer(registry: Registry, health: HealthSource): FastifyInstance {
  const app = Fastify({ logger: false })
  registerOpsRoutes(app, registry, health)
  return app
}
