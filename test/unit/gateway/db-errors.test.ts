/**
 * Which database failures are "unavailable" (503) and which are a failed query (500): errors
 * the server sent (pg DatabaseError) by SQLSTATE class (08, 53, 57 → 503); connection failures,
 * which carry no SQLSTATE (ECONNREFUSED and other socket errors, a terminated connection, a
 * connect timeout) → 503 (issue 8 item 12).
 */
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { isUnavailable } from '../../../gateway/queries/db.ts'

const sys = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code, errno: -111, syscall: 'connect' })
const server = (code: string) => Object.assign(new pg.DatabaseError('server error', 0, 'error'), { code, severity: 'ERROR' })

describe('isUnavailable', () => {
  it('is true for connection failures without a SQLSTATE', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']) expect(isUnavailable(sys(code)), code).toBe(true)
    expect(isUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true)
    expect(isUnavailable(new Error('timeout exceeded when trying to connect'))).toBe(true)
    expect(isUnavailable(new Error('Cannot use a pool after calling end on the pool'))).toBe(true)
  })
  it('is true for SQLSTATE classes 08, 53 and 57 sent by the server', () => {
    for (const code of ['08000', '08006', '08001', '53300', '53100', '57P01', '57P03', '57014']) expect(isUnavailable(server(code)), code).toBe(true)
  })
  it('is false for errors about the query itself', () => {
    for (const code of ['22021', '22P02', '42P01', '42703', '23505', 'XX000']) expect(isUnavailable(server(code)), code).toBe(false)
    expect(isUnavailable(new TypeError('Do not know how to serialize a BigInt'))).toBe(false)
  })
})
