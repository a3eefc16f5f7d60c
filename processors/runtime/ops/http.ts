import Fastify, { type FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'

/** What the health endpoints report. */
export interface HealthSource {
  /** Process is alive and not shutting down. */
  healthy(): boolean
  /** Ready to do work: connected, in its consumer group, with an assignment. */
  ready(): { ready: boolean; detail: Record<string, unknown> }
}

/**
 * The operational HTTP server of an app (fastify): `GET /metrics` (Prometheus text format),
 * `GET /healthz` (200 while alive, 503 while stopping), `GET /readyz` (200 when ready, else 503).
 * Not listening yet: call `listen`.
 */
export function buildOpsServer(registry: Registry, health: HealthSource): FastifyInstance {
  const app = Fastify({ logger: false })
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', registry.contentType)
    return registry.metrics()
  })
  app.get('/healthz', async (_req, reply) => {
    const ok = health.healthy()
    reply.code(ok ? 200 : 503)
    return { status: ok ? 'ok' : 'stopping' }
  })
  app.get('/readyz', async (_req, reply) => {
    const { ready, detail } = health.ready()
    reply.code(ready ? 200 : 503)
    return { status: ready ? 'ready' : 'not_ready', ...detail }
  })
  return app
}
