import { describe, expect, it } from 'vitest'
import { DEFAULT_ENRICHMENT_CONFIG, describeEnrichmentConfig, parseEnrichmentConfig } from '../../../../processors/enrichment/config.ts'

describe('parseEnrichmentConfig', () => {
  it('has the documented defaults', () => {
    expect(parseEnrichmentConfig({ PATH: '/usr/bin', AUREN_KAFKA_BROKERS: 'x:9092' })).toEqual({
      dedupMaxEntries: 100_000,
      dedupMaxAgeMs: 3_600_000,
      maxFutureSkewMs: 86_400_000,
      catalogPath: null,
      tierOverrides: {},
      criticalRules: ['failure', 'unhealthy', 'error', 'anomaly'],
      complexity: { llmTokens: { medium: 1_000, complex: 4_096 }, toolBytes: { medium: 1_024, complex: 16_384 } },
      pricedTools: {},
    })
  })

  it('reads every variable', () => {
    const config = parseEnrichmentConfig({
      AUREN_ENRICHMENT_DEDUP_MAX_ENTRIES: '500',
      AUREN_ENRICHMENT_DEDUP_MAX_AGE_MS: '60000',
      AUREN_ENRICHMENT_MAX_FUTURE_SKEW_MS: '0',
      AUREN_ENRICHMENT_CATALOG_PATH: '/etc/auren/catalog.json',
      AUREN_ENRICHMENT_TIER_OVERRIDES: 'knowledge_access=operational, system_health = critical',
      AUREN_ENRICHMENT_CRITICAL_RULES: 'failure,unhealthy',
      AUREN_ENRICHMENT_LLM_MEDIUM_TOKENS: '2000',
      AUREN_ENRICHMENT_LLM_COMPLEX_TOKENS: '32000',
      AUREN_ENRICHMENT_TOOL_MEDIUM_BYTES: '10',
      AUREN_ENRICHMENT_TOOL_COMPLEX_BYTES: '20',
      AUREN_ENRICHMENT_PRICED_TOOLS: 'Web Search=0.01,code_interpreter=0.03',
    })
    expect(config).toEqual({
      dedupMaxEntries: 500,
      dedupMaxAgeMs: 60_000,
      maxFutureSkewMs: 0,
      catalogPath: '/etc/auren/catalog.json',
      tierOverrides: { knowledge_access: 'operational', system_health: 'critical' },
      criticalRules: ['failure', 'unhealthy'],
      complexity: { llmTokens: { medium: 2_000, complex: 32_000 }, toolBytes: { medium: 10, complex: 20 } },
      pricedTools: { web_search: 0.01, code_interpreter: 0.03 },
    })
    expect(parseEnrichmentConfig({ AUREN_ENRICHMENT_CRITICAL_RULES: 'none' }).criticalRules).toEqual([])
  })

  it('treats empty strings as unset', () => {
    expect(parseEnrichmentConfig({ AUREN_ENRICHMENT_DEDUP_MAX_ENTRIES: '', AUREN_ENRICHMENT_CATALOG_PATH: ' ' })).toEqual(DEFAULT_ENRICHMENT_CONFIG)
  })

  it('reports all errors at once, each naming its variable', () => {
    let message = ''
    try {
      parseEnrichmentConfig({
        AUREN_ENRICHMENT_DEDUP_MAX_ENTRIES: 'lots',
        AUREN_ENRICHMENT_DEDUP_MAX_AGE_MS: '0',
        AUREN_ENRICHMENT_TIER_OVERRIDES: 'knowledge_acess=operational,llm_call_completed=urgent,oops',
        AUREN_ENRICHMENT_CRITICAL_RULES: 'failure,boredom',
        AUREN_ENRICHMENT_LLM_MEDIUM_TOKENS: '5000',
        AUREN_ENRICHMENT_PRICED_TOOLS: 'web_search=-1',
        AUREN_ENRICHMENT_DEDUP_MAX_ENTRY: '5',
      })
    } catch (err) {
      message = (err as Error).message
    }
    const lines = message.split('\n').slice(1).map((l) => l.trim())
    expect(lines).toHaveLength(9)
    expect(lines.join('\n')).toMatch(/^AUREN_ENRICHMENT_DEDUP_MAX_ENTRY: unknown variable/m)
    expect(lines.join('\n')).toMatch(/^AUREN_ENRICHMENT_DEDUP_MAX_ENTRIES: .*expected number/m)
    expect(lines.join('\n')).toMatch(/^AUREN_ENRICHMENT_DEDUP_MAX_AGE_MS: .*>=1/m)
    expect(lines).toContain("AUREN_ENRICHMENT_TIER_OVERRIDES: unknown event_type 'knowledge_acess'")
    expect(lines).toContain("AUREN_ENRICHMENT_TIER_OVERRIDES: tier of llm_call_completed must be one of critical|operational|analytical, got 'urgent'")
    expect(lines).toContain("AUREN_ENRICHMENT_TIER_OVERRIDES: 'oops' is not key=value")
    expect(lines).toContain("AUREN_ENRICHMENT_CRITICAL_RULES: unknown rule 'boredom' (known: failure, unhealthy, error, anomaly, or 'none')")
    expect(lines).toContain("AUREN_ENRICHMENT_PRICED_TOOLS: price of web_search must be a USD amount >= 0, got '-1'")
  })

  it('checks that medium thresholds are below complex ones', () => {
    expect(() => parseEnrichmentConfig({ AUREN_ENRICHMENT_LLM_MEDIUM_TOKENS: '5000' })).toThrow('AUREN_ENRICHMENT_LLM_MEDIUM_TOKENS must be < AUREN_ENRICHMENT_LLM_COMPLEX_TOKENS')
    expect(() => parseEnrichmentConfig({ AUREN_ENRICHMENT_TOOL_COMPLEX_BYTES: '1024' })).toThrow('AUREN_ENRICHMENT_TOOL_MEDIUM_BYTES must be < AUREN_ENRICHMENT_TOOL_COMPLEX_BYTES')
  })

  it('returns a deeply frozen value', () => {
    const config = parseEnrichmentConfig({ AUREN_ENRICHMENT_PRICED_TOOLS: 'a=1' })
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(config.complexity.llmTokens)).toBe(true)
    expect(Object.isFrozen(config.pricedTools)).toBe(true)
    expect(Object.isFrozen(config.criticalRules)).toBe(true)
  })
})

describe('describeEnrichmentConfig', () => {
  it('documents every variable with unit and description, and the defaults', () => {
    const rows = describeEnrichmentConfig()
    expect(rows).toHaveLength(11)
    for (const row of rows) {
      expect(row.env).toMatch(/^AUREN_ENRICHMENT_[A-Z_]+$/)
      expect(row.unit).not.toBe('')
      expect(row.description.length).toBeGreaterThan(20)
    }
    expect(rows.find((r) => r.env === 'AUREN_ENRICHMENT_DEDUP_MAX_ENTRIES')?.default).toBe('100000')
    expect(rows.find((r) => r.env === 'AUREN_ENRICHMENT_CATALOG_PATH')?.default).toBe('(unset)')
  })
})
