/**
 * The gateway's HTTP app (fastify, not listening: server.ts listens, tests use `app.inject`).
 *
 * - `GET /healthz`, `/readyz` (database up and rollup tables present; with the stream, its
 *   consumer joined), `/metrics` (the
 *   registry passed in): no auth. `GET /docs/json`: the OpenAPI 3 document (@fastify/swagger).
 * - `GET /live` and its assets `/live/live.js`, `/live/live.css` (live/assets.ts): the live page,
 *   no auth to load it (it authenticates its WebSocket to `/v1/stream`).
 * - `GET /api/v2/*` (routes.ts table below): JWT bearer auth (auth.ts), then per route: role and
 *   user scope, range (`from`/`to`), agent existence (404), the query (queries/*) and its shaping
 *   (analytics/*).
 * - Errors: every 4xx/5xx body is `{ error, message }` (codes from the catalogue, processors/runtime/ops/errors.ts); query parameters are checked
 *   by JSON Schema (ajv, all problems at once, unknown parameters refused).
 * Responses are serialised with JSON.stringify: the response schemas document the API (OpenAPI)
 * and are checked against real answers by the integration test, never used to drop fields.
 */
import swagger from '@fastify/swagger'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { Registry } from 'prom-client'
import { bearerToken, type Authenticator, type Principal } from './auth.ts'
import { DEFAULT_API_CONFIG, type ApiConfig } from './config.ts'
import { badRequest, ERROR_CATALOGUE, isApiError, type ApiErrorCode, type ErrorBody, type ErrorCode, type ErrorSpec } from '../processors/runtime/ops/errors.ts'
import { describeValidation, type ValidationIssue } from './validation-message.ts'
import { createGatewayMetrics, initAuthFailureSeries, type GatewayMetrics } from './metrics.ts'
import { registerLivePage } from './live/assets.ts'
import { registerOpsRoutes } from '../processors/runtime/ops/http.ts'
import { errorBody, OPENAPI_INFO } from './openapi.ts'
import { probe as probeDb, type Db } from './queries/db.ts'
import { describeQueryProblems, parseQueryString, queryProblems } from './query-string.ts'
import { API_ROUTES, runRoute } from './routes.ts'
import { registerEventStoreRoutes } from './event-store/routes.ts'

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified caller (set by the /api/v2 auth hook). */
    principal: Principal | null
  }
}

/** What the app needs. */
export interface GatewayDeps {
  /** Rollup database (a pg Pool). */
  readonly db: Db
  readonly auth: Authenticator
  /** Registry served at /metrics; the gateway's metrics are registered on it. */
  readonly registry: Registry
  /** Query limits and analytics settings; default DEFAULT_API_CONFIG. */
  readonly api?: ApiConfig
  /** A pino logger; default: none. */
  readonly logger?: FastifyBaseLogger
  /** Clock, epoch ms; default Date.now. */
  readonly now?: () => number
  /** Readiness probe; default: the database answers and the rollup tables exist. */
  readonly probe?: () => Promise<{ ready: boolean; detail: Record<string, unknown> }>
  /**
   * Readiness of the WebSocket stream when it runs (its Kafka consumer joined its group);
   * absent: the gateway serves the REST API only and /readyz does not wait for a stream.
   */
  readonly streamReadiness?: () => { ready: boolean; detail: Record<string, unknown> }
}

/** API code of a status fastify itself answers with (the catalogue's 4xx and 503). */
const STATUS_CODES = new Map<number, ApiErrorCode>(
  (Object.entries(ERROR_CATALOGUE) as [ErrorCode, ErrorSpec][]).flatMap(([code, spec]) => (spec.httpStatus !== undefined && spec.httpStatus !== 500 ? [[spec.httpStatus, code as ApiErrorCode]] : [])),
)

/** Builds the app (register more plugins before `ready()` if needed). */
export function buildGateway(deps: GatewayDeps): FastifyInstance {
  const api = deps.api ?? DEFAULT_API_CONFIG
  const now = deps.now ?? Date.now
  const metrics = createGatewayMetrics(deps.registry)
  initAuthFailureSeries(metrics)
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    // Strict decoding: a value that is not UTF-8 or holds a NUL/control character is a 400
    // naming the parameter (query-string.ts), never text PostgreSQL refuses (a 500).
    routerOptions: { querystringParser: parseQueryString },
    ajv: { customOptions: { removeAdditional: false, allErrors: true, verbose: true, coerceTypes: 'array', useDefaults: true } },
  }) as unknown as FastifyInstance
  let closing = false
  app.addHook('preClose', async () => {
    closing = true
  })
  app.decorateRequest('principal', null)
  app.addHook('preValidation', async (request) => {
    const problems = queryProblems(request.query)
    if (problems.length > 0) throw badRequest(describeQueryProblems(problems))
  })
  app.setSerializerCompiler(() => (data) => JSON.stringify(data))
  app.setErrorHandler((err, request, reply) => sendError(err, request, reply, metrics))
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` } satisfies ErrorBody)
  })
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched'
    metrics.requests.inc({ route, method: request.method, status: String(reply.statusCode) })
    metrics.duration.observe({ route }, reply.elapsedTime / 1000)
  })

  app.register(swagger, { openapi: OPENAPI_INFO })
  // Routes are declared inside plugins registered after swagger, so its onRoute hook sees them.
  app.register(async (root) => {
    root.get('/docs/json', { schema: { hide: true } }, async () => app.swagger())
    const ops = { tags: ['ops'] }
    registerOpsRoutes(root, deps.registry, {
      healthy: () => !closing,
      ready: async () => {
        const db = await (deps.probe ?? (() => probeDb(deps.db)))()
        const stream = deps.streamReadiness?.()
        return { ready: db.ready && (stream?.ready ?? true) && !closing, detail: { ...db.detail, ...(stream ? { stream: stream.detail } : {}) } }
      },
    }, {
      healthz: { ...ops, summary: 'Liveness: 200 while running, 503 while closing' },
      readyz: { ...ops, summary: 'Readiness: the rollup database answers and its tables exist, and the stream consumer (when the stream runs) joined its group' },
      metrics: { ...ops, summary: 'Prometheus metrics (text exposition format)' },
    })
    registerLivePage(root)
  })

  app.register(async (v2) => {
    v2.addHook('onRequest', async (request) => {
      try {
        request.principal = await deps.auth.verify(bearerToken(request.headers.authorization))
      } catch (err) {
        const reason = (err as { reason?: unknown }).reason
        if (typeof reason === 'string') metrics.authFailures.inc({ reason })
        throw err
      }
    })
    for (const route of API_ROUTES) {
      v2.get(`/${route.path}`, {
        schema: {
          tags: [route.tag], summary: route.summary, description: route.description, security: [{ bearerAuth: [] }], querystring: route.query,
          response: {
            200: route.response200,
            ...Object.fromEntries([400, 401, 403, 404, 503].map((c) => [c, { ...errorBody, description: ERROR_DESCRIPTIONS[c] }])),
          },
        },
      }, (request, reply) => runRoute(route, request, reply, { db: deps.db, api, now }))
    }
    registerEventStoreRoutes(v2, deps.db)
  }, { prefix: '/api/v2' })
  return app
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid query parameter (name, value and rule in the message)',
  401: 'Missing, malformed, expired or wrongly signed token',
  403: "The token's role may not read this: a viewer asking for another user's data, or for figures kept for all users together",
  404: 'Unknown agent',
  503: 'The rollup database is unavailable',
}

/** Renders any error as `{ error, message }` with its status. */
function sendError(err: unknown, request: FastifyRequest, reply: FastifyReply, metrics: GatewayMetrics): void {
  const e = err as { validation?: ValidationIssue[]; validationContext?: string; statusCode?: number; message?: string }
  if (e.validation) {
    reply.code(400).send({ error: 'BAD_REQUEST', message: describeValidation(e.validation, e.validationContext) } satisfies ErrorBody)
    return
  }
  if (isApiError(err)) {
    if (err.code === 'UNAUTHORIZED') reply.header('www-authenticate', `Bearer error="invalid_token", error_description="${err.message.replace(/["\\]/g, "'")}"`)
    if (err.code === 'FORBIDDEN') metrics.forbidden.inc({ route: request.routeOptions.url ?? 'unmatched' })
    if (err.statusCode >= 500) request.log.error({ err: err.cause ?? err, route: request.routeOptions.url }, err.message)
    reply.code(err.statusCode).send({ error: err.code, message: err.message } satisfies ErrorBody)
    return
  }
  const status = typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500 ? e.statusCode : 500
  if (status === 500) {
    request.log.error({ err }, 'unhandled error')
    reply.code(500).send({ error: 'INTERNAL', message: 'internal error' } satisfies ErrorBody)
    return
  }
  reply.code(status).send({ error: STATUS_CODES.get(status) ?? 'BAD_REQUEST', message: e.message ?? 'bad request' } satisfies ErrorBody)
}
