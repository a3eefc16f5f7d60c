/**
 * Error catalogue of the runtime (STYLE.md principle 3). The runner decides retry, DLQ or crash
 * from `retriable` alone; guards check the code, never `instanceof` across packages.
 */
export const ERROR_CODES = {
  AUREN_ERR_CONFIG: 'invalid configuration',
  AUREN_ERR_DECODE: 'record could not be decoded',
  AUREN_ERR_SCHEMA_UNKNOWN: 'schema id not found in the registry',
  AUREN_ERR_REGISTRY_UNAVAILABLE: 'schema registry unreachable',
  AUREN_ERR_SINK_UNAVAILABLE: 'sink did not acknowledge',
  AUREN_ERR_BROKER_UNAVAILABLE: 'broker unreachable for longer than the give-up time',
  AUREN_ERR_TRANSFORM: 'transform failed',
  AUREN_ERR_SHUTDOWN_TIMEOUT: 'shutdown exceeded the force timeout',
  AUREN_ERR_STACK_TIMEOUT: 'a server did not become ready in time',
} as const

/** One of the codes above. */
export type ErrorCode = keyof typeof ERROR_CODES

const BRAND = Symbol.for('auren.error')

/** Base error: a code from the catalogue, a retry flag and context fields. */
export class AurenError extends Error {
  readonly [BRAND] = true
  readonly code: ErrorCode
  readonly retriable: boolean
  readonly context: Readonly<Record<string, unknown>>

  constructor(code: ErrorCode, message: string, opts: { retriable?: boolean; cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(`${code}: ${message}`, { cause: opts.cause })
    this.name = 'AurenError'
    this.code = code
    this.retriable = opts.retriable ?? false
    this.context = Object.freeze({ ...opts.context })
  }
}

/** True when err is an AurenError (by brand, so it works across module copies). */
export function isAurenError(err: unknown): err is AurenError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[BRAND] === true
}

/** True when err is an AurenError with this code. */
export function hasCode(err: unknown, code: ErrorCode): boolean {
  return isAurenError(err) && err.code === code
}
