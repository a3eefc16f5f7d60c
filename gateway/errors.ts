/**
 * Error catalogue of the gateway's REST API (STYLE.md principle 3). Every 4xx/5xx body is
 * `{ error: <code>, message }`, the code from the closed list below (the WebSocket protocol uses
 * the same codes, CONTRACTS.md section 5). Handlers throw {@link GatewayError}; the error handler
 * in app.ts renders it, and turns fastify's JSON Schema (ajv) failures into BAD_REQUEST with a
 * sentence per problem ({@link describeValidation}).
 */

/** Codes and their HTTP status. */
export const GATEWAY_ERRORS = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const

/** One of the codes above. */
export type GatewayErrorCode = keyof typeof GATEWAY_ERRORS

const BRAND = Symbol.for('auren.gateway.error')

/** A failure with a code, an HTTP status and a message written for the API's user. */
export class GatewayError extends Error {
  readonly [BRAND] = true
  readonly code: GatewayErrorCode
  readonly statusCode: number

  constructor(code: GatewayErrorCode, message: string, opts: { cause?: unknown } = {}) {
    super(message, { cause: opts.cause })
    this.name = 'GatewayError'
    this.code = code
    this.statusCode = GATEWAY_ERRORS[code]
  }
}

/** True when err is a GatewayError (by brand, not instanceof). */
export function isGatewayError(err: unknown): err is GatewayError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[BRAND] === true
}

export const badRequest = (message: string) => new GatewayError('BAD_REQUEST', message)
export const unauthorized = (message: string) => new GatewayError('UNAUTHORIZED', message)
export const forbidden = (message: string) => new GatewayError('FORBIDDEN', message)
export const notFound = (message: string) => new GatewayError('NOT_FOUND', message)

/** The body of every error answer. */
export interface ErrorBody {
  readonly error: GatewayErrorCode
  readonly message: string
}

/** One ajv error object, as fastify attaches them to `error.validation`. */
export interface ValidationIssue {
  readonly keyword: string
  readonly instancePath: string
  readonly params: Record<string, unknown>
  readonly message?: string
  readonly data?: unknown
}

/**
 * A sentence per ajv issue, naming the query parameter, e.g.
 * `query parameter 'format' must be one of csv, json (got 'xml')`, joined with '; '.
 * @param context fastify's validation context ('querystring', 'params', 'body', 'headers')
 */
export function describeValidation(issues: readonly ValidationIssue[], context = 'querystring'): string {
  const where = context === 'querystring' ? 'query parameter' : context
  const sentences = issues.map((i) => {
    const name = i.instancePath.replace(/^\//, '').replace(/\//g, '.')
    const got = i.data === undefined ? '' : ` (got ${JSON.stringify(i.data)})`
    switch (i.keyword) {
      case 'additionalProperties':
        return `unknown ${where} '${String(i.params.additionalProperty)}'`
      case 'required':
        return `${where} '${String(i.params.missingProperty)}' is required`
      case 'enum':
        return `${where} '${name}' must be one of ${(i.params.allowedValues as unknown[]).join(', ')}${got}`
      case 'format':
        return `${where} '${name}' must be ${i.params.format === 'date-time' ? 'an ISO-8601 date-time with a time zone, e.g. 2025-01-24T10:30:00Z' : `a valid ${String(i.params.format)}`}${got}`
      case 'type':
        return `${where} '${name}' must be ${i.params.type === 'integer' ? 'an integer' : `of type ${String(i.params.type)}`}${got}`
      case 'minimum':
      case 'maximum':
        return `${where} '${name}' must be ${i.keyword === 'minimum' ? '≥' : '≤'} ${String(i.params.limit)}${got}`
      case 'minLength':
      case 'maxLength':
        return `${where} '${name}' must have ${i.keyword === 'minLength' ? 'at least' : 'at most'} ${String(i.params.limit)} characters`
      case 'pattern':
        return `${where} '${name}' must match ${String(i.params.pattern)}${got}`
      default:
        return `${where} '${name}' ${i.message ?? 'is invalid'}`
    }
  })
  return [...new Set(sentences)].join('; ')
}
