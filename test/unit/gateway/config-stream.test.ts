import { describe, expect, it } from 'vitest'
import { DEFAULT_WS_CONFIG, parseGatewayConfig } from '../../../gateway/config.ts'

const base = { AUREN_DATABASE_URL: 'postgres://u@h/db', AUREN_GATEWAY_JWT_SECRET: 'x'.repeat(32) }

describe('gateway stream configuration', () => {
  it('has no stream without Kafka brokers', () => {
    expect(parseGatewayConfig(base).stream).toBeNull()
  })

  it('reads the stream settings with their defaults', () => {
    const c = parseGatewayConfig({ ...base, AUREN_KAFKA_BROKERS: 'a:1,b:2', AUREN_SCHEMA_REGISTRY_URL: 'http://r:8081', AUREN_TOPIC_PREFIX: 't-1-', AUREN_GATEWAY_WS_MAX_SUBSCRIPTIONS: '3' })
    expect(c.stream).toEqual({ kafkaBrokers: ['a:1', 'b:2'], schemaRegistryUrl: 'http://r:8081', topicPrefix: 't-1-', ws: { ...DEFAULT_WS_CONFIG, maxSubscriptions: 3 } })
    expect(Object.isFrozen(c.stream)).toBe(true)
  })

  it('needs the registry with the brokers', () => {
    expect(() => parseGatewayConfig({ ...base, AUREN_KAFKA_BROKERS: 'a:1' })).toThrow(/AUREN_SCHEMA_REGISTRY_URL: required with AUREN_KAFKA_BROKERS/)
  })
})
