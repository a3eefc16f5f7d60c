import { describe, expect, it } from 'vitest'
import { ApiError, AurenError, ERROR_CATALOGUE, hasCode, isApiError, isAurenError } from '../../../../../processors/runtime/ops/errors.ts'
import { ERROR_CODES } from '../../../../../gateway/protocol.ts'

describe('error catalogue', () => {
  it('takes retriable from the catalogue unless the thrower decides for this failure', () => {
    expect(new AurenError('AUREN_ERR_SINK_UNAVAILABLE', 'pg down').retriable).toBe(true)
    expect(new AurenError('AUREN_ERR_SINK_UNAVAILABLE', 'constraint', { retriable: false }).retriable).toBe(false)
    expect(new AurenError('AUREN_ERR_CONFIG', 'bad').retriable).toBe(false)
    expect(new ApiError('UNAVAILABLE', 'retry later').retriable).toBe(true)
  })

  it('prefixes app failures with their code and leaves API messages as written for the client', () => {
    expect(new AurenError('AUREN_ERR_DECODE', 'short record').message).toBe('AUREN_ERR_DECODE: short record')
    const e = new ApiError('BAD_REQUEST', "query parameter 'from' is required")
    expect(e.message).toBe("query parameter 'from' is required")
    expect(e.statusCode).toBe(400)
  })

  it('gives every API code its HTTP status and recognises errors by brand and code', () => {
    const statuses = Object.fromEntries(Object.entries(ERROR_CATALOGUE).flatMap(([c, s]) => ('httpStatus' in s ? [[c, s.httpStatus]] : [])))
    expect(statuses).toEqual({ BAD_REQUEST: 400, UNAUTHORIZED: 401, FORBIDDEN: 403, NOT_FOUND: 404, INTERNAL: 500, UNAVAILABLE: 503 })
    const api = new ApiError('FORBIDDEN', 'viewer')
    expect(isAurenError(api) && isApiError(api) && hasCode(api, 'FORBIDDEN')).toBe(true)
    const app = new AurenError('AUREN_ERR_CONFIG', 'x')
    expect(isAurenError(app)).toBe(true)
    expect(isApiError(app)).toBe(false)
    expect(isAurenError(new Error('x'))).toBe(false)
  })

  it('holds every code of the WebSocket protocol', () => {
    for (const code of ERROR_CODES) expect(ERROR_CATALOGUE).toHaveProperty(code)
  })
})
