import { describe, expect, it } from 'vitest'
import { parseArchivalConfig } from '../../../../processors/archival/config.ts'

const base = { AUREN_DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db', AUREN_S3_BUCKET: 'auren-archive', AUREN_S3_ACCESS_KEY_ID: 'k', AUREN_S3_SECRET_ACCESS_KEY: 's' }

describe('archival configuration', () => {
  it('has the stated defaults: seed 003 retention, flush by 20 000 records, 32 MiB or 60 s', () => {
    const c = parseArchivalConfig(base)
    expect(c.retention).toEqual({ critical: 72 * 3_600_000, operational: 24 * 3_600_000, analytical: 6 * 3_600_000 })
    expect([c.flushMaxRecords, c.flushMaxBytes, c.flushMaxAgeMs]).toEqual([20_000, 32 * 1024 * 1024, 60_000])
    expect(c.s3).toEqual({ region: 'us-east-1', bucket: 'auren-archive', accessKeyId: 'k', secretAccessKey: 's' })
    expect(Object.isFrozen(c)).toBe(true)
  })

  it('takes a retention per tier and reports every problem at once, naming each variable', () => {
    expect(parseArchivalConfig({ ...base, AUREN_ARCHIVAL_RETENTION_ANALYTICAL_MS: '60000' }).retention.analytical).toBe(60_000)
    let message = ''
    try {
      parseArchivalConfig({ AUREN_ARCHIVAL_FLUSH_MAX_RECORDS: '0', AUREN_ARCHIVAL_TYPO: '1', AUREN_S3_PORT: '19000' })
    } catch (err) {
      message = (err as Error).message
    }
    expect(message).toMatch(/AUREN_ARCHIVAL_TYPO: unknown variable/)
    expect(message).toMatch(/AUREN_ARCHIVAL_FLUSH_MAX_RECORDS/)
    expect(message).toMatch(/AUREN_DATABASE_URL: required, not set/)
    expect(message).toMatch(/AUREN_S3_BUCKET: required, not set/)
    expect(message).not.toMatch(/AUREN_S3_PORT/)
  })
})
