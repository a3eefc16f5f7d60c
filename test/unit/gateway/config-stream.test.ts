import { describe, expect, it } from 'vitest'
import { DEFAULT_INGEST_CONFIG, DEFAULT_WS_CONFIG, parseGatewayConfig } from '../../../gateway/config.ts'

const base = { AUREN_DATABASE_URL: 'postgres://u@h/db', AUREN_GATEWAY_JWT_SECRET: 'x'.repeat(32) }

describe('gateway stream configuration', () => {
  it('has no stream without Kafka brokers', () => {
    expect(parseGatewayConfig(base).stream).toBeNull()
  })

  it('reads the stream settings with their defaults', () => {
    const c = parseGatewayConfig({ ...base, AUREN_KAFKA_BROKERS: 'a:1,b:2', AUREN_SCHEMA_REGISTRY_URL: 'http://r:8081', AUREN_TOPIC_PREFIX: 't-1-', AUREN_GATEWAY_WS_MAX_SUBSCRIPTIONS: '3' })
    expect(c.stream).toEqual({ kafkaBrokers: ['a:1', 'b:2'], schemaRegistryUrl: 'http://r:8081', topicPrefix: 't-1-', ws: { ...DEFAULT_WS_CONFIG, maxSubscriptions: 3 }, ingest: DEFAULT_INGEST_CONFIG })
    expect(Object.isFrozen(c.stream)).toBe(true)
  })

  it('reads the ingest settings; API keys must have 32 characters or more', () => {
    const env = { ...base, AUREN_KAFKA_BROKERS: 'a:1', AUREN_SCHEMA_REGISTRY_URL: 'http://r:8081' }
    const c = parseGatewayConfig({ ...env, AUREN_GATEWAY_INGEST_API_KEYS: `${'k'.repeat(32)}, ${'j'.repeat(40)}`, AUREN_GATEWAY_INGEST_ACK_TIMEOUT_MS: '2500' })
    expect(c.stream!.ingest).toEqual({ ...DEFAULT_INGEST_CONFIG, apiKeys: ['k'.repeat(32), 'j'.repeat(40)], ackTimeoutMs: 2500 })
    expect(() => parseGatewayConfig({ ...env, AUREN_GATEWAY_INGEST_API_KEYS: 'short' })).toThrow(/AUREN_GATEWAY_INGEST_API_KEYS: must be comma-separated keys of at least 32 characters/)
  })

  it('needs the registry with the brokers', () => {
    expect(() => parseGatewayConfig({ ...base, AUREN_KAFKA_BROKERS: 'a:1' })).toThrow(/AUREN_SCHEMA_REGISTRY_URL: required with AUREN_KAFKA_BROKERS/)
  })
})
