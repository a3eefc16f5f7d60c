import { describe, expect, it } from 'vitest'
import { isRetriableDbError } from '../../../../processors/aggregation/postgres-sink.ts'
import { describeDbError } from '../../../../processors/aggregation/database-health.ts'

const pgError = (code: string) => Object.assign(new Error(`pg ${code}`), { code })

describe('isRetriableDbError (PostgreSQL Appendix A classes)', () => {
  it('retries classes 08, 40, 53 and 57 (57P01 admin shutdown)', () => {
    for (const code of ['08006', '08001', '40001', '40P01', '53300', '57P01', '57P03']) expect(isRetriableDbError(pgError(code)), code).toBe(true)
  })
  it('retries socket errors and errors without a SQLSTATE', () => {
    expect(isRetriableDbError(pgError('ECONNREFUSED'))).toBe(true)
    expect(isRetriableDbError(pgError('ECONNRESET'))).toBe(true)
    expect(isRetriableDbError(new Error('Connection terminated unexpectedly'))).toBe(true)
    expect(isRetriableDbError(new Error('wrapped', { cause: pgError('57P01') }))).toBe(true)
  })
  it('does not retry errors of the statement or the credentials', () => {
    for (const code of ['42P01', '23505', '22P02', '28P01']) expect(isRetriableDbError(pgError(code)), code).toBe(false)
    expect(isRetriableDbError(new Error('wrapped', { cause: pgError('42601') }))).toBe(false)
  })
  it('describes an error with its SQLSTATE or socket code', () => {
    expect(describeDbError(pgError('57P01'))).toBe('pg 57P01 (SQLSTATE 57P01)')
    expect(describeDbError(pgError('ECONNREFUSED'))).toBe('pg ECONNREFUSED (ECONNREFUSED)')
  })
})
