/**
 * JWT verification with real keys made by jose: an HS256 secret, and an ES256 key pair whose
 * public key a local JWKS server on 127.0.0.1 serves (the AUREN_GATEWAY_JWKS_URL path). Covers
 * expiry, forged signatures, alg none, algorithm confusion, missing claims, issuer/audience,
 * roles, and the user scope rules.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearerToken, createAuthenticator, requireAllUsersRole, resolveUserScope, rolesOf, type Authenticator } from '../../../gateway/auth.ts'

const SECRET = 'a-test-secret-that-is-at-least-32-bytes-long!'
const key = new TextEncoder().encode(SECRET)
const nowS = () => Math.floor(Date.now() / 1000)
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')

async function failure(auth: Authenticator, token: string): Promise<{ code: string; message: string; reason: string }> {
  try {
    await auth.verify(token)
  } catch (err) {
    const e = err as { code: string; message: string; reason: string }
    return { code: e.code, message: e.message, reason: e.reason }
  }
  throw new Error('token was accepted')
}

describe('HS256', () => {
  const auth = createAuthenticator({ mode: 'hs256', secret: SECRET, clockToleranceS: 0 })
  const sign = (claims: Record<string, unknown>, o: { exp?: number | string | null; k?: Uint8Array; alg?: string } = {}) => {
    let jwt = new SignJWT(claims).setProtectedHeader({ alg: o.alg ?? 'HS256' }).setIssuedAt()
    if (o.exp !== null) jwt = jwt.setExpirationTime(o.exp ?? '5m')
    return jwt.sign(o.k ?? key)
  }

  it('accepts a valid token: sub and known roles', async () => {
    expect(await auth.verify(await sign({ sub: 'user-1', roles: ['viewer', 'unknown'] }))).toEqual({ userId: 'user-1', roles: ['viewer'] })
  })

  it('refuses expired tokens, forged signatures, alg none, missing exp or sub, garbage', async () => {
    expect(await failure(auth, await sign({ sub: 'u', roles: ['admin'] }, { exp: nowS() - 5 }))).toMatchObject({ code: 'UNAUTHORIZED', reason: 'expired', message: expect.stringMatching(/token expired at \d{4}-/) })
    expect(await failure(auth, await sign({ sub: 'u', roles: ['admin'] }, { k: new TextEncoder().encode('another-secret-that-is-also-32-bytes-long') }))).toMatchObject({ reason: 'signature' })
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'u', roles: ['admin'], exp: nowS() + 60 })}.`
    expect(await failure(auth, none)).toMatchObject({ code: 'UNAUTHORIZED', reason: 'algorithm' })
    expect(await failure(auth, await sign({ sub: 'u', roles: ['admin'] }, { exp: null }))).toMatchObject({ reason: 'claims', message: expect.stringMatching(/'exp'/) })
    expect(await failure(auth, await sign({ roles: ['admin'] }))).toMatchObject({ reason: 'claims', message: expect.stringMatching(/'sub'/) })
    expect(await failure(auth, await sign({ sub: 'u' }, { alg: 'HS512', k: new TextEncoder().encode(SECRET.repeat(2)) }))).toMatchObject({ reason: 'algorithm' })
    expect(await failure(auth, 'abc.def.ghi')).toMatchObject({ code: 'UNAUTHORIZED', reason: 'malformed' })
  })

  it('refuses a sub that names no user: empty, blank, not a string, with a NUL or control character, too long', async () => {
    for (const sub of ['', '  ', 42, 'u\u0000', 'a\tb', 'x'.repeat(257), '\ud800']) {
      expect(await failure(auth, await sign({ sub, roles: ['admin'] })), JSON.stringify(sub)).toMatchObject({ code: 'UNAUTHORIZED', reason: 'claims', message: expect.stringMatching(/'sub'/) })
    }
    expect(await auth.verify(await sign({ sub: 'x'.repeat(256), roles: ['viewer'] }))).toMatchObject({ userId: 'x'.repeat(256) })
  })

  it('checks issuer and audience when configured, and tolerates configured clock skew', async () => {
    const strict = createAuthenticator({ mode: 'hs256', secret: SECRET, issuer: 'https://idp.example', audience: 'auren', clockToleranceS: 30 })
    const good = await new SignJWT({ sub: 'u', roles: ['operator'] }).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://idp.example').setAudience('auren').setExpirationTime(nowS() - 10).sign(key)
    expect((await strict.verify(good)).roles).toEqual(['operator'])
    const wrongIss = await new SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://evil.example').setAudience('auren').setExpirationTime('5m').sign(key)
    expect(await failure(strict, wrongIss)).toMatchObject({ reason: 'claims', message: expect.stringMatching(/'iss'/) })
    const wrongAud = await new SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://idp.example').setAudience('other').setExpirationTime('5m').sign(key)
    expect(await failure(strict, wrongAud)).toMatchObject({ reason: 'claims', message: expect.stringMatching(/'aud'/) })
  })
})

describe('ES256 keys from a JWKS URL', () => {
  let server: Server
  let url: string
  let privateKey: CryptoKey
  let jwks: { keys: JWK[] }
  let requests = 0

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256')
    privateKey = pair.privateKey
    jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] }
    server = createServer((req, res) => {
      requests += 1
      if (req.url === '/.well-known/jwks.json') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks))
      } else res.writeHead(404).end()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`
  })
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve))
  })

  it('verifies ES256 tokens with the served public key, fetched once and cached', async () => {
    const auth = createAuthenticator({ mode: 'jwks', jwksUrl: url, clockToleranceS: 0 })
    const token = await new SignJWT({ sub: 'user-9', roles: ['operator', 'admin'] }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setExpirationTime('5m').sign(privateKey)
    expect(await auth.verify(token)).toEqual({ userId: 'user-9', roles: ['operator', 'admin'] })
    const before = requests
    await auth.verify(token)
    expect(requests).toBe(before)
  })

  it('refuses another key, an HS256 token (algorithm confusion), an unknown kid, and reports an unreachable JWKS as unavailable', async () => {
    const auth = createAuthenticator({ mode: 'jwks', jwksUrl: url, clockToleranceS: 0 })
    const other = await generateKeyPair('ES256')
    const forged = await new SignJWT({ sub: 'u', roles: ['admin'] }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setExpirationTime('5m').sign(other.privateKey)
    expect(await failure(auth, forged)).toMatchObject({ code: 'UNAUTHORIZED', reason: 'signature' })
    const hs = await new SignJWT({ sub: 'u', roles: ['admin'] }).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).setExpirationTime('5m').sign(key)
    expect(await failure(auth, hs)).toMatchObject({ reason: 'algorithm' })
    const unknownKid = await new SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'ES256', kid: 'nope' }).setExpirationTime('5m').sign(privateKey)
    expect(await failure(auth, unknownKid)).toMatchObject({ reason: 'signature', message: expect.stringMatching(/no key/) })
    const down = createAuthenticator({ mode: 'jwks', jwksUrl: url.replace('jwks.json', 'missing.json'), clockToleranceS: 0 })
    const token = await new SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setExpirationTime('5m').sign(privateKey)
    expect(await failure(down, token)).toMatchObject({ code: 'UNAVAILABLE', reason: 'keys_unavailable' })
  })
})

describe('bearer header, roles and user scope', () => {
  it('reads the bearer token or says what is missing', () => {
    expect(bearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi')
    expect(() => bearerToken(undefined)).toThrow(/missing bearer token/)
    expect(() => bearerToken('Basic dXNlcjpwYXNz')).toThrow(/must be "Bearer <JWT>"/)
  })

  it('parses roles from an array or a string, ignoring unknown ones', () => {
    expect(rolesOf(['admin', 'viewer', 'root'])).toEqual(['viewer', 'admin'])
    expect(rolesOf('operator')).toEqual(['operator'])
    expect(rolesOf(42)).toEqual([])
  })

  it('forces a viewer to its own user_id; operators and admins read any or all', () => {
    const viewer = { userId: 'u1', roles: ['viewer' as const] }
    expect(resolveUserScope(viewer, undefined)).toBe('u1')
    expect(resolveUserScope(viewer, 'u1')).toBe('u1')
    expect(() => resolveUserScope(viewer, 'u2')).toThrow(/only its own data: user_id 'u2' is not 'u1'/)
    expect(resolveUserScope({ userId: 'o', roles: ['operator'] }, undefined)).toBeNull()
    expect(resolveUserScope({ userId: 'o', roles: ['viewer', 'admin'] }, 'u2')).toBe('u2')
    expect(() => resolveUserScope({ userId: 'x', roles: [] }, undefined)).toThrow(/no known role/)
    expect(() => requireAllUsersRole(viewer, 'Memory tier statistics')).toThrow(/need role operator or admin/)
    expect(() => requireAllUsersRole({ userId: 'o', roles: ['operator'] }, 'x')).not.toThrow()
  })
})
