import { describe, expect, it } from 'vitest'
import { parseBaseConfig } from '../../../../../processors/runtime/ops/config.ts'
import { hasCode } from '../../../../../processors/runtime/ops/errors.ts'

describe('parseBaseConfig', () => {
  it('parses, applies defaults and freezes', () => {
    const c = parseBaseConfig({ AUREN_KAFKA_BROKERS: '127.0.0.1:9092, 127.0.0.1:9093', AUREN_SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081', AUREN_HTTP_PORT: '0' })
    expect(c.kafkaBrokers).toEqual(['127.0.0.1:9092', '127.0.0.1:9093'])
    expect(c.httpPort).toBe(0)
    expect(c.shutdownGraceMs).toBe(10_000)
    expect(c.fromBeginning).toBe(true)
    expect(Object.isFrozen(c)).toBe(true)
  })

  it('reports every invalid or missing variable at once, by variable name', () => {
    let err: unknown
    try {
      parseBaseConfig({ AUREN_SCHEMA_REGISTRY_URL: 'not a url', AUREN_HTTP_PORT: '70000', AUREN_LOG_LEVEL: 'loud' })
    } catch (e) {
      err = e
    }
    expect(hasCode(err, 'AUREN_ERR_CONFIG')).toBe(true)
    const message = (err as Error).message
    for (const name of ['AUREN_KAFKA_BROKERS', 'AUREN_SCHEMA_REGISTRY_URL', 'AUREN_HTTP_PORT', 'AUREN_LOG_LEVEL']) expect(message).toContain(name)
  })
})
