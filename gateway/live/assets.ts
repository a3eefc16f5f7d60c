/**
 * The live page (`GET /live`): one HTML page, one ES module and one stylesheet, read from this
 * folder at start and served as they are, without auth (the page authenticates its WebSocket
 * with the first `auth` message of `auren.v1`). No framework and nothing from a CDN.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'

const ASSETS = [
  { url: '/live', file: 'index.html', type: 'text/html; charset=utf-8' },
  { url: '/live/', file: 'index.html', type: 'text/html; charset=utf-8' },
  { url: '/live/live.js', file: 'live.js', type: 'text/javascript; charset=utf-8' },
  { url: '/live/live.css', file: 'live.css', type: 'text/css; charset=utf-8' },
] as const

/** Registers the page's routes on `app` (hidden from the OpenAPI document). */
export function registerLivePage(app: FastifyInstance): void {
  const dir = import.meta.dirname
  for (const a of ASSETS) {
    const body = readFileSync(join(dir, a.file))
    app.get(a.url, { schema: { hide: true } }, async (_req, reply) => {
      reply
        .header('content-type', a.type)
        .header('cache-control', 'no-cache')
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; script-src 'self'")
      return reply.send(body)
    })
  }
}
