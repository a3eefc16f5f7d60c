import { describe, expect, it } from 'vitest'
import { parseAggregationConfig } from '../../../../processors/aggregation/config.ts'

const URL = 'postgres://auren:secret@127.0.0.1:15432/auren'

describe('aggregation config', () => {
  it('has documented defaults: 1-minute windows, 30 s lateness, 7 days of dedup ids', () => {
    const c = parseAggregationConfig({ AUREN_DATABASE_URL: URL, PATH: '/bin' })
    expect(c).toEqual({
      databaseUrl: URL, dbSchema: 'public', dbPoolSize: 4, windowMs: 60_000, allowedLatenessMs: 30_000,
      seenRetentionMs: 604_800_000, activeWindowMs: 300_000, expectedPartitions: 0, idleTimeoutMs: 10_000,
    })
    expect(Object.isFrozen(c)).toBe(true)
  })

  it('reads every variable', () => {
    const c = parseAggregationConfig({
      AUREN_DATABASE_URL: URL, AUREN_AGGREGATION_DB_SCHEMA: 'agg_test', AUREN_AGGREGATION_DB_POOL_SIZE: '8',
      AUREN_AGGREGATION_WINDOW_MS: '300000', AUREN_AGGREGATION_ALLOWED_LATENESS_MS: '0', AUREN_AGGREGATION_SEEN_RETENTION_MS: '0',
      AUREN_AGGREGATION_ACTIVE_WINDOW_MS: '60000', AUREN_AGGREGATION_EXPECTED_PARTITIONS: '6',
    })
    expect(c).toMatchObject({ dbSchema: 'agg_test', dbPoolSize: 8, windowMs: 300_000, allowedLatenessMs: 0, seenRetentionMs: 0, activeWindowMs: 60_000, expectedPartitions: 6 })
  })

  it('reports every problem at once, naming each variable', () => {
    let message = ''
    try {
      parseAggregationConfig({ AUREN_AGGREGATION_WINDOW_MS: '10', AUREN_AGGREGATION_DB_SCHEMA: 'Bad-Name', AUREN_AGGREGATION_WINDOWMS: '1' })
    } catch (err) {
      message = (err as Error).message
    }
    expect(message).toContain('AUREN_DATABASE_URL: required, not set')
    expect(message).toContain('AUREN_AGGREGATION_WINDOW_MS:')
    expect(message).toContain('AUREN_AGGREGATION_DB_SCHEMA: must be a lower-case SQL identifier')
    expect(message).toContain('AUREN_AGGREGATION_WINDOWMS: unknown variable')
  })

  it('rejects a URL that is not PostgreSQL', () => {
    expect(() => parseAggregationConfig({ AUREN_DATABASE_URL: 'mysql://x' })).toThrow(/AUREN_DATABASE_URL: must be a postgres/)
  })
})
