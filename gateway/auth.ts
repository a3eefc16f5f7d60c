/**
 * JWT authentication and user scoping of the REST API (CONTRACTS.md sections 5 and 6), with
 * `jose`.
 *
 * Verification ({@link createAuthenticator}):
 * - key from configuration only (config.ts): an HS256 shared secret, or the issuer's JWKS
 *   (`createRemoteJWKSet`: fetched on first use, cached, refetched for an unknown `kid`), which
 *   accepts RS256 and ES256;
 * - the algorithm list is fixed per mode, so `alg: none` (unsecured JWT, RFC 7519 section 6)
 *   and algorithm confusion (an HS256 token signed with a public key) are refused;
 * - `exp` and `sub` are required, `sub` non-empty ({@link subjectOf}), `exp`/`nbf` enforced (with the configured clock tolerance),
 *   `iss` and `aud` checked when configured;
 * - `roles`: an array of role names (a single string is accepted too); unknown names are
 *   ignored; a token with no known role authenticates but is refused by every route (403).
 *
 * Every failure is an UNAUTHORIZED {@link ApiError} whose message says what was wrong
 * (expired, bad signature, algorithm not allowed, missing claim, malformed), never the token.
 */
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose'
import type { AuthConfig } from './config.ts'
import { forbidden, ApiError } from '../processors/runtime/ops/errors.ts'
import { textProblem } from './query-string.ts'

/** Roles of the contract, least to most privileged. */
export const ROLES = ['viewer', 'operator', 'admin'] as const
export type Role = (typeof ROLES)[number]

/** Who is calling: the token's `sub` and known roles. */
export interface Principal {
  readonly userId: string
  readonly roles: readonly Role[]
  /** The token's `scope` claim (OAuth 2.0, RFC 8693 section 4.2: space-separated; an array is accepted); absent: none. */
  readonly scopes?: readonly string[]
}

/** Verifies bearer tokens. */
export interface Authenticator {
  /**
   * @param token the compact JWS (without `Bearer `)
   * @throws ApiError UNAUTHORIZED, with the reason in its message and in `reason`
   */
  verify(token: string): Promise<Principal>
}

/** Why a token was refused (the `reason` label of auren_gateway_auth_failures_total). */
export type AuthFailure = 'missing' | 'expired' | 'signature' | 'algorithm' | 'claims' | 'malformed' | 'keys_unavailable'

/** An UNAUTHORIZED error with a low-cardinality reason (UNAVAILABLE when the JWKS cannot be loaded: not the caller's fault). */
export class AuthError extends ApiError {
  readonly reason: AuthFailure
  constructor(reason: AuthFailure, message: string, cause?: unknown) {
    super(reason === 'keys_unavailable' ? 'UNAVAILABLE' : 'UNAUTHORIZED', message, { cause })
    this.reason = reason
  }
}

const ALGORITHMS = { hs256: ['HS256'], jwks: ['RS256', 'ES256'] } as const

/** Builds the authenticator of a configuration (no I/O until the first JWKS verification). */
export function createAuthenticator(config: AuthConfig): Authenticator {
  const key: Uint8Array | JWTVerifyGetKey =
    config.mode === 'hs256' ? new TextEncoder().encode(config.secret) : createRemoteJWKSet(new URL(config.jwksUrl), { cooldownDuration: 30_000 })
  const options = {
    algorithms: [...ALGORITHMS[config.mode]],
    requiredClaims: ['exp', 'sub'],
    clockTolerance: config.clockToleranceS,
    ...(config.issuer ? { issuer: config.issuer } : {}),
    ...(config.audience ? { audience: config.audience } : {}),
  }
  return {
    async verify(token) {
      let payload: JWTPayload
      try {
        // jwtVerify's overloads differ only by the key type; both are valid here.
        payload = (typeof key === 'function' ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options)).payload
      } catch (err) {
        throw toAuthError(err)
      }
      const scopes = scopesOf(payload.scope)
      return { userId: subjectOf(payload.sub), roles: rolesOf(payload.roles), ...(scopes.length > 0 ? { scopes } : {}) }
    },
  }
}

/** Most characters of a `sub` (the `user_id` query parameter's limit, so a viewer's own id can be asked for). */
export const MAX_SUB_CHARS = 256

/**
 * The user id of a verified token's `sub`. Events without a user are kept under the user id ''
 * in the rollups (processors/aggregation/transform.ts), so a token whose `sub` is empty (or only
 * spaces) would read them as its own: such a token is invalid, as is a missing `sub` (jose's
 * required claim) or one PostgreSQL cannot take (a NUL or control character, an unpaired
 * surrogate: query-string.ts `textProblem`) or longer than {@link MAX_SUB_CHARS}.
 * @throws AuthError `claims` naming what is wrong with `sub`
 */
export function subjectOf(sub: unknown): string {
  if (typeof sub !== 'string' || sub.trim() === '') throw new AuthError('claims', "token claim 'sub' is empty: a token must name its user")
  const bad = textProblem(sub)
  if (bad !== null) throw new AuthError('claims', `token claim 'sub' ${bad}`)
  if (sub.length > MAX_SUB_CHARS) throw new AuthError('claims', `token claim 'sub' is longer than ${MAX_SUB_CHARS} characters`)
  return sub
}

/** Scopes of a `scope` claim: a space-separated string, or an array of strings. */
export function scopesOf(claim: unknown): string[] {
  if (typeof claim === 'string') return claim.split(' ').filter((x) => x !== '')
  return Array.isArray(claim) ? claim.filter((x): x is string => typeof x === 'string') : []
}

/** Known roles in a `roles` claim (array or single string), in {@link ROLES} order. */
export function rolesOf(claim: unknown): Role[] {
  const names = Array.isArray(claim) ? claim : typeof claim === 'string' ? [claim] : []
  return ROLES.filter((r) => names.includes(r))
}

function toAuthError(err: unknown): AuthError {
  if (err instanceof joseErrors.JWTExpired) return new AuthError('expired', `token expired at ${typeof err.payload.exp === 'number' ? new Date(err.payload.exp * 1000).toISOString() : 'its exp'}`, err)
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return new AuthError('signature', 'token signature is invalid', err)
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return new AuthError('algorithm', `token algorithm is not allowed: ${err.message}`, err)
  if (err instanceof joseErrors.JWTClaimValidationFailed) return new AuthError('claims', `token claim '${err.claim}' is invalid: ${err.message}`, err)
  if (err instanceof joseErrors.JWKSNoMatchingKey) return new AuthError('signature', 'no key of the issuer matches the token (kid/alg)', err)
  const jwksFailure = err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid || (err instanceof joseErrors.JOSEError && /JSON Web Key Set/.test(err.message))
  if (jwksFailure) {
    return new AuthError('keys_unavailable', 'the issuer’s keys (JWKS) could not be loaded', err)
  }
  if (err instanceof TypeError && /fetch failed|ECONNREFUSED/i.test(`${err.message} ${String(err.cause)}`)) {
    return new AuthError('keys_unavailable', 'the issuer’s keys (JWKS) could not be loaded', err)
  }
  const detail = err instanceof Error ? err.message : String(err)
  return new AuthError('malformed', `token is malformed: ${detail}`, err)
}

/**
 * The token of an `Authorization` header value.
 * @throws AuthError `missing` when the header is absent or not `Bearer <token>`
 */
export function bearerToken(header: string | undefined): string {
  if (!header) throw new AuthError('missing', 'missing bearer token: send "Authorization: Bearer <JWT>"')
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header)
  if (!m) throw new AuthError('missing', 'Authorization header must be "Bearer <JWT>"')
  return m[1]!
}

/** The highest role of a principal, or null without any. */
export function highestRole(p: Principal): Role | null {
  return [...ROLES].reverse().find((r) => p.roles.includes(r)) ?? null
}

/**
 * Which user's data a request may read (CONTRACTS.md section 6): a viewer only its own
 * (`sub`), whatever it asks; an operator or admin anyone's, or all users (null).
 * @param requested the `user_id` query parameter, if any
 * @returns the user id to filter on, or null for all users
 * @throws ApiError FORBIDDEN when a viewer asks for another user, or the token has no role
 */
export function resolveUserScope(p: Principal, requested: string | undefined): string | null {
  const role = highestRole(p)
  if (role === null) throw forbidden(`token has no known role (roles must include one of ${ROLES.join(', ')})`)
  if (role !== 'viewer') return requested ?? null
  if (requested !== undefined && requested !== p.userId) {
    throw forbidden(`a viewer may read only its own data: user_id '${requested}' is not '${p.userId}' (the token's sub)`)
  }
  return p.userId
}

/**
 * Guard of routes whose figures have no user dimension in the rollups (memory tiers, edges,
 * knowledge, hypotheses, latency histograms, agent activity): operators and admins only.
 * @throws ApiError FORBIDDEN for a viewer or a token without a role
 */
export function requireAllUsersRole(p: Principal, what: string): void {
  const role = highestRole(p)
  if (role === 'operator' || role === 'admin') return
  if (role === null) throw forbidden(`token has no known role (roles must include one of ${ROLES.join(', ')})`)
  throw forbidden(`${what} are kept for all users together (no per-user breakdown), so they need role operator or admin; a viewer sees only its own user's data`)
}
