/** Gateway configuration: no default secret, every problem at once, frozen, errors as sentences. */
import { describe, expect, it } from 'vitest'
import { describeGatewayConfig, parseGatewayConfig } from '../../../gateway/config.ts'
import { describeValidation } from '../../../gateway/validation-message.ts'

const DB = 'postgres://auren:pw@127.0.0.1:15432/auren'

describe('parseGatewayConfig', () => {
  it('needs exactly one of the secret or the JWKS URL, and reports every problem at once', () => {
    expect(() => parseGatewayConfig({ AUREN_DATABASE_URL: DB })).toThrow(/neither is set; there is no default secret/)
    let message = ''
    try {
      parseGatewayConfig({ AUREN_GATEWAY_JWT_SECRET: 'short', AUREN_GATEWAY_HTTP_PORT: 'x', AUREN_GATEWAY_MAX_RANGE: '1' })
    } catch (err) {
      message = (err as Error).message
    }
    expect(message).toMatch(/AUREN_DATABASE_URL: required, not set/)
    expect(message).toMatch(/AUREN_GATEWAY_JWT_SECRET: must be at least 32 bytes/)
    expect(message).toMatch(/AUREN_GATEWAY_HTTP_PORT:/)
    expect(message).toMatch(/AUREN_GATEWAY_MAX_RANGE: unknown variable/)
    expect(() => parseGatewayConfig({ AUREN_DATABASE_URL: DB, AUREN_GATEWAY_JWT_SECRET: 'x'.repeat(32), AUREN_GATEWAY_JWKS_URL: 'https://idp/jwks' })).toThrow(/both are set/)
  })

  it('compiles and freezes a valid configuration', () => {
    const c = parseGatewayConfig({ AUREN_DATABASE_URL: DB, AUREN_GATEWAY_JWKS_URL: 'https://idp.example/jwks.json', AUREN_GATEWAY_JWT_ISSUER: 'https://idp.example', AUREN_GATEWAY_MAX_RANGE_MS: '86400000' })
    expect(c.auth).toEqual({ mode: 'jwks', jwksUrl: 'https://idp.example/jwks.json', issuer: 'https://idp.example', clockToleranceS: 0 })
    expect(c.api.maxRangeMs).toBe(86_400_000)
    expect(c.httpPort).toBe(8080)
    expect(Object.isFrozen(c) && Object.isFrozen(c.api)).toBe(true)
    expect(describeGatewayConfig().map((r) => r.env)).toContain('AUREN_GATEWAY_JWT_SECRET')
  })
})

describe('describeValidation', () => {
  it('writes one sentence per ajv issue, naming the parameter', () => {
    expect(describeValidation([
      { keyword: 'enum', instancePath: '/format', params: { allowedValues: ['csv', 'json'] }, data: 'xml' },
      { keyword: 'additionalProperties', instancePath: '', params: { additionalProperty: 'colour' } },
      { keyword: 'type', instancePath: '/limit', params: { type: 'integer' }, data: 'ten' },
    ])).toBe("query parameter 'format' must be one of csv, json (got \"xml\"); unknown query parameter 'colour'; query parameter 'limit' must be an integer (got \"ten\")")
  })
})
