/**
 * The error catalogue of AUREN Realtime (STYLE.md principle 3), one for the processors and the
 * gateway. Every code says whether a failure with it is worth retrying and, for the codes a
 * client sees, the HTTP status of a REST answer (`{ error: <code>, message }`, CONTRACTS.md
 * section 5; the WebSocket protocol sends the same codes in its error frames).
 *
 * - `AUREN_ERR_*`: failures inside the apps. The runner decides retry, DLQ or crash from
 *   `retriable` alone; the message starts with the code, for the logs.
 * - The other codes are the API's: the message is written for the API's user and sent as is.
 *
 * Guards check the brand and the code, never `instanceof` across packages.
 */

/** One entry of the catalogue. */
export interface ErrorSpec {
  /** What the code means. */
  readonly description: string
  /** Default of {@link AurenError.retriable}; a thrower may decide per case (e.g. per SQLSTATE). */
  readonly retriable: boolean
  /** HTTP status of a REST answer with this code; absent for codes no HTTP client sees. */
  readonly httpStatus?: number
}

/** Every error code, closed. */
export const ERROR_CATALOGUE = {
  AUREN_ERR_CONFIG: { description: 'invalid configuration', retriable: false },
  AUREN_ERR_DECODE: { description: 'record could not be decoded', retriable: false },
  AUREN_ERR_SCHEMA_UNKNOWN: { description: 'schema id not found in the registry', retriable: false },
  AUREN_ERR_REGISTRY_UNAVAILABLE: { description: 'schema registry unreachable', retriable: true },
  AUREN_ERR_SINK_UNAVAILABLE: { description: 'sink did not acknowledge', retriable: true },
  AUREN_ERR_BROKER_UNAVAILABLE: { description: 'broker unreachable for longer than the give-up time', retriable: false },
  AUREN_ERR_SHUTDOWN_TIMEOUT: { description: 'shutdown exceeded the force timeout', retriable: false },
  BAD_REQUEST: { description: 'the request is malformed or out of range; the message names the field', retriable: false, httpStatus: 400 },
  UNAUTHORIZED: { description: 'no valid credentials (missing, expired or badly signed token, unknown API key)', retriable: false, httpStatus: 401 },
  FORBIDDEN: { description: 'valid credentials without the right to this data or action', retriable: false, httpStatus: 403 },
  NOT_FOUND: { description: 'no such route', retriable: false, httpStatus: 404 },
  INTERNAL: { description: 'unexpected failure of the server', retriable: false, httpStatus: 500 },
  UNAVAILABLE: { description: 'a dependency (database, broker, key set) is unreachable; retry later', retriable: true, httpStatus: 503 },
  UNKNOWN_CHANNEL: { description: 'WebSocket subscription to a channel that does not exist', retriable: false },
  RATE_LIMITED: { description: 'too many client messages; the connection closes after repeated refusals', retriable: true },
  TOO_MANY_SUBSCRIPTIONS: { description: 'more WebSocket subscriptions than the connection may hold', retriable: false },
} as const satisfies Record<string, ErrorSpec>

/** One of the codes of the catalogue. */
export type ErrorCode = keyof typeof ERROR_CATALOGUE

/** A code a REST client sees, with its HTTP status. */
export type ApiErrorCode = { [C in ErrorCode]: (typeof ERROR_CATALOGUE)[C] extends { httpStatus: number } ? C : never }[ErrorCode]

const BRAND = Symbol.for('auren.error')

/** HTTP status of an API code. */
export function httpStatusOf(code: ApiErrorCode): number {
  return ERROR_CATALOGUE[code].httpStatus
}

/** Base error: a code from the catalogue, a retry flag, context fields and, for API codes, an HTTP status. */
export class AurenError extends Error {
  readonly [BRAND] = true
  readonly code: ErrorCode
  readonly retriable: boolean
  readonly context: Readonly<Record<string, unknown>>

  /**
   * @param message for `AUREN_ERR_*` codes prefixed with the code; for API codes sent to the client as is
   * @param opts.retriable overrides the catalogue's default for this failure
   */
  constructor(code: ErrorCode, message: string, opts: { retriable?: boolean; cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(code.startsWith('AUREN_ERR_') ? `${code}: ${message}` : message, { cause: opts.cause })
    this.name = 'AurenError'
    this.code = code
    this.retriable = opts.retriable ?? ERROR_CATALOGUE[code].retriable
    this.context = Object.freeze({ ...opts.context })
  }
}

/** An error answered to an API client: an API code and its HTTP status (`statusCode`, as fastify names it). */
export class ApiError extends AurenError {
  declare readonly code: ApiErrorCode
  readonly statusCode: number

  constructor(code: ApiErrorCode, message: string, opts: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(code, message, opts)
    this.name = 'ApiError'
    this.statusCode = httpStatusOf(code)
  }
}

/** True when err is an AurenError (by brand, so it works across module copies). */
export function isAurenError(err: unknown): err is AurenError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[BRAND] === true
}

/** True when err is an AurenError with an API code (then it carries its HTTP status). */
export function isApiError(err: unknown): err is ApiError {
  return isAurenError(err) && 'httpStatus' in ERROR_CATALOGUE[err.code] && typeof (err as Partial<ApiError>).statusCode === 'number'
}

/** True when err is an AurenError with this code. */
export function hasCode(err: unknown, code: ErrorCode): boolean {
  return isAurenError(err) && err.code === code
}

/** 400 BAD_REQUEST with a sentence naming the field. */
export const badRequest = (message: string): ApiError => new ApiError('BAD_REQUEST', message)
/** 401 UNAUTHORIZED. */
export const unauthorized = (message: string): ApiError => new ApiError('UNAUTHORIZED', message)
/** 403 FORBIDDEN. */
export const forbidden = (message: string): ApiError => new ApiError('FORBIDDEN', message)
/** 404 NOT_FOUND. */
export const notFound = (message: string): ApiError => new ApiError('NOT_FOUND', message)

/** The body of every REST error answer. */
export interface ErrorBody {
  readonly error: ApiErrorCode
  readonly message: string
}
