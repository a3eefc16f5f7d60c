import { describe, expect, it } from 'vitest'
import type { AgentEvent } from '../../../../schemas/index.ts'
import { agentDomain, CatalogError, DEFAULT_CATALOG, loadCatalog, normalizeName, parseCatalog, toolCategory } from '../../../../processors/enrichment/catalog.ts'

function withAgent(id: string, role = id, domain: string | null = null): AgentEvent {
  return {
    event_id: '0b7f1c52-2d7e-4c55-8f8e-2b6a0f6d9a11', trace_id: 't', session_id: null, parent_event_id: null, timestamp: 1,
    event_type: 'agent_handoff', source_agent: { id, role, domain }, target_agent: null, user_id: null, source: 'test',
    payload: { from_agent: id, to_agent: 'x', topic: null, reason: null }, performance: null, attributes: {},
  }
}
function toolEvent(name: string): AgentEvent {
  return {
    ...withAgent('Programmer'), event_type: 'tool_usage_started',
    payload: { tool_name: name, input_size_bytes: null, output_size_bytes: null, execution_time_ms: null, success: true, error_type: null },
  }
}

describe('normalizeName', () => {
  it.each([
    ['Chief Executive Officer', 'chief_executive_officer'],
    ['CMD Execute', 'cmd_execute'],
    ['  Update-Codes!! ', 'update_codes'],
    ['WebSurfer', 'websurfer'],
    ['Excel_Expert', 'excel_expert'],
    ['---', ''],
  ])('%s → %s', (raw, norm) => expect(normalizeName(raw)).toBe(norm))
})

describe('default catalogue', () => {
  it.each([
    ['neuroscientist', 'neuroscience'], ['nutritionist', 'nutrition'], ['training_coach', 'training'],
    ['sleep_specialist', 'sleep'], ['recovery_specialist', 'recovery'], ['mental_health', 'mental_health'],
    ['Chief Technology Officer', 'software'], ['Programmer', 'software'], ['Counselor', 'software'], ['Software Test Engineer', 'software'],
    ['Orchestrator', 'research'], ['WebSurfer', 'research'], ['Computer_terminal', 'research'], ['Verification_Expert', 'research'],
    ['human', null],
  ])('agent %s → %s', (id, domain) => expect(agentDomain(withAgent(id), DEFAULT_CATALOG)).toBe(domain))

  it('falls back from id to role, and the event domain wins over both', () => {
    expect(agentDomain(withAgent('agent-7f3a', 'Nutritionist'), DEFAULT_CATALOG)).toBe('nutrition')
    expect(agentDomain(withAgent('Programmer', 'Programmer', 'games'), DEFAULT_CATALOG)).toBe('games')
    expect(agentDomain(withAgent('Programmer', 'Programmer', ' '), DEFAULT_CATALOG)).toBe('software')
    expect(agentDomain({ ...withAgent('x'), source_agent: null }, DEFAULT_CATALOG)).toBeNull()
  })

  it.each([
    ['Update Codes', 'code_write'], ['Rewrite Codes', 'code_write'], ['CMD Execute', 'shell'], ['Test Reports', 'testing'],
    ['Git Information', 'vcs'], ['git', 'vcs'], ['computer_terminal', 'code_execution'], ['memory_store', 'memory'],
    ['web_search', 'web'], ['arxiv_search', 'search'], ['hrv_reader', 'biometric_data'], ['paint', null],
  ])('tool %s → %s', (name, category) => expect(toolCategory(toolEvent(name), DEFAULT_CATALOG)).toBe(category))

  it('gives no tool category to non-tool events', () => {
    expect(toolCategory(withAgent('git'), DEFAULT_CATALOG)).toBeNull()
  })
})

describe('parseCatalog / loadCatalog', () => {
  it('compiles a custom catalogue; exact keys beat patterns, patterns go in order', () => {
    const c = parseCatalog({
      agents: { 'Data Bot': 'analytics' },
      agent_patterns: [{ pattern: '^data_', value: 'data' }, { pattern: 'bot$', value: 'bots' }],
      tools: {},
    })
    expect(agentDomain(withAgent('data bot'), c)).toBe('analytics')
    expect(agentDomain(withAgent('data-cleaner-bot'), c)).toBe('data')
    expect(agentDomain(withAgent('chat bot'), c)).toBe('bots')
  })

  it('lists every problem of a malformed file', () => {
    const bad = { agents: { a: '' }, tool_patterns: [{ pattern: '(', value: 'x' }], extra: 1 }
    expect(() => parseCatalog(bad, 'bad.json')).toThrow(CatalogError)
    try {
      parseCatalog(bad, 'bad.json')
    } catch (err) {
      expect((err as Error).message).toMatch(/^bad\.json is invalid:/)
      expect((err as Error).message).toMatch(/agents\.a/)
      expect((err as Error).message).toMatch(/extra/)
    }
    expect(() => parseCatalog({ tool_patterns: [{ pattern: '(', value: 'x' }] })).toThrow(/tool_patterns\[0\]\.pattern is not a valid regular expression/)
  })

  it('loads a file through the injected reader; null is the bundled default', () => {
    expect(loadCatalog(null)).toBe(DEFAULT_CATALOG)
    const c = loadCatalog('/x.json', () => JSON.stringify({ tools: { Paint: 'graphics' } }))
    expect(toolCategory(toolEvent('paint'), c)).toBe('graphics')
    expect(() => loadCatalog('/x.json', () => '{')).toThrow(/catalog file \/x\.json is not JSON/)
    expect(() => loadCatalog('/nonexistent/catalog.json')).toThrow(/cannot read catalog file \/nonexistent\/catalog\.json/)
  })
})
