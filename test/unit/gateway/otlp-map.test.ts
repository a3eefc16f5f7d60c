/**
 * Span → event mapping rules that the SDK test does not reach: an LLM span with an LLM span
 * below it is not a call of its own (usage counted once, on the leaf), an LLM span without a
 * model is skipped, ids are UUID v5 and stable.
 */
import { describe, expect, it } from 'vitest'
import type { OtlpSpan } from '../../../gateway/ingest/otlp-decode.ts'
import { mapSpans, spanEventId, uuidV5 } from '../../../gateway/ingest/otlp-map.ts'

const span = (spanId: string, parentSpanId: string, attributes: OtlpSpan['attributes']): OtlpSpan => ({
  traceId: 'a'.repeat(32), spanId, parentSpanId, name: 'x', startUs: 1_700_000_000_000_000, endUs: 1_700_000_000_500_000, attributes, statusCode: 0, statusMessage: '', links: [], resource: { 'service.name': 'svc' },
})

describe('mapSpans', () => {
  it('counts usage on leaf LLM spans only', () => {
    const out = mapSpans([
      span('01', '', { 'openinference.span.kind': 'LLM', 'llm.model_name': 'm', 'llm.token_count.prompt': 500 }),
      span('02', '01', { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'm', 'gen_ai.usage.input_tokens': 200 }),
      span('03', '02', { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'm', 'gen_ai.usage.input_tokens': 150 }),
      span('04', '', { 'gen_ai.operation.name': 'chat' }),
      span('05', '', { 'db.system': 'postgresql' }),
    ])
    expect(out.map((o) => (o.kind === 'skipped' ? o.reason : (o.events[0]!.payload as { input_tokens: number }).input_tokens))).toEqual(['non_leaf_llm', 'non_leaf_llm', 150, 'no_model', 'not_gen_ai'])
    const leaf = out[2]!
    expect(leaf.kind === 'events' && leaf.events[0]).toMatchObject({ event_id: spanEventId('a'.repeat(32), '03'), parent_event_id: spanEventId('a'.repeat(32), '02'), source_agent: { id: 'svc' } })
  })

  it('counts usage reported on both an agent span and its LLM spans once, from the LLM spans', () => {
    // An invoke_agent span that sums its calls' usage (as some instrumentations do), an OpenInference
    // AGENT span with llm.token_count.* of its own below it, and two LLM calls under that.
    const out = mapSpans([
      span('10', '', { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'planner', 'gen_ai.usage.input_tokens': 300, 'gen_ai.usage.output_tokens': 40 }),
      span('11', '10', { 'openinference.span.kind': 'AGENT', 'agent.name': 'planner', 'llm.token_count.prompt': 300, 'llm.token_count.completion': 40, 'llm.token_count.total': 340 }),
      span('12', '11', { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': 100, 'gen_ai.usage.output_tokens': 15 }),
      span('13', '11', { 'openinference.span.kind': 'LLM', 'llm.model_name': 'gpt-4o', 'llm.token_count.prompt': 200, 'llm.token_count.completion': 25 }),
    ])
    const events = out.flatMap((o) => (o.kind === 'events' ? o.events : []))
    const calls = events.filter((e) => e.event_type === 'llm_call_completed').map((e) => e.payload as { input_tokens: number; output_tokens: number })
    expect(calls).toEqual([expect.objectContaining({ input_tokens: 100, output_tokens: 15 }), expect.objectContaining({ input_tokens: 200, output_tokens: 25 })])
    expect(calls.reduce((a, c) => a + c.input_tokens + c.output_tokens, 0)).toBe(340) // not 1020
    // The agent spans are executions (no token fields), and the calls are the planner's.
    expect(events.filter((e) => e.event_type !== 'llm_call_completed').map((e) => e.event_type)).toEqual(['agent_execution_started', 'agent_execution_completed', 'agent_execution_started', 'agent_execution_completed'])
    for (const e of events) expect(JSON.stringify(e.payload)).not.toMatch(/tokens":(300|40)\b/)
    expect(events.every((e) => (e.source_agent as { id: string }).id === 'planner')).toBe(true)
  })

  it('maps the spans of openinference-instrumentation-crewai and -openai: agent by graph.node.id, task_id, llm.system, tool.name', () => {
    // Attributes as the instrumentations (1.1.21 / 0.1.66) set them on a CrewAI 1.15 crew.
    const out = mapSpans([
      span('20', '', { 'openinference.span.kind': 'CHAIN', crew_id: 'c1' }),
      span('21', '20', { 'openinference.span.kind': 'AGENT', 'graph.node.id': 'Stock Writer', 'graph.node.parent_id': 'Price Researcher', task_id: 't-2', task_name: 'stock' }),
      span('22', '21', { 'openinference.span.kind': 'LLM', 'llm.system': 'openai', 'llm.model_name': 'gpt-4o', 'llm.token_count.prompt': 46, 'llm.token_count.completion': 10, 'llm.token_count.total': 56 }),
      span('23', '21', { 'openinference.span.kind': 'TOOL', 'tool.name': 'stock_check' }),
      span('24', '', { 'openinference.span.kind': 'CHAIN', 'graph.node.id': 'not-an-agent' }),
    ])
    const [crew, agent, llm, tool, chain] = out
    expect(crew).toMatchObject({ kind: 'skipped', reason: 'not_gen_ai' })
    expect(chain).toMatchObject({ kind: 'skipped', reason: 'not_gen_ai' })
    expect(agent?.kind === 'events' && agent.events.map((e) => [e.event_type, (e.source_agent as { id: string }).id, (e.payload as { task_id?: string }).task_id ?? null])).toEqual([
      ['agent_handoff', 'Price Researcher', null], ['agent_execution_started', 'Stock Writer', 't-2'], ['agent_execution_completed', 'Stock Writer', 't-2'],
    ])
    expect(llm?.kind === 'events' && llm.events[0]).toMatchObject({ source_agent: { id: 'Stock Writer' }, payload: { model: 'gpt-4o', provider: 'openai', input_tokens: 46, output_tokens: 10 } })
    expect(tool?.kind === 'events' && tool.events[0]).toMatchObject({ source_agent: { id: 'Stock Writer' }, payload: { tool_name: 'stock_check' } })
  })

  it('gives agent_handoff events for graph.node.parent_id and for span links to another agent', () => {
    const T = 'a'.repeat(32)
    const linked = (spanId: string, links: OtlpSpan['links'], attributes: OtlpSpan['attributes']): OtlpSpan => ({ ...span(spanId, '', attributes), links })
    const out = mapSpans([
      span('30', '', { 'openinference.span.kind': 'AGENT', 'graph.node.id': 'Price Researcher', task_name: 'price' }),
      span('31', '', { 'openinference.span.kind': 'AGENT', 'graph.node.id': 'Stock Writer', 'graph.node.parent_id': 'Price Researcher', task_name: 'stock' }),
      linked('32', [{ traceId: T, spanId: '30', attributes: {} }, { traceId: 'b'.repeat(32), spanId: '99', attributes: { 'gen_ai.agent.name': 'triage' } }, { traceId: 'c'.repeat(32), spanId: '98', attributes: {} }],
        { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'coder' }),
      linked('33', [{ traceId: T, spanId: '30', attributes: {} }], { 'openinference.span.kind': 'AGENT', 'graph.node.id': 'Price Researcher', 'graph.node.parent_id': 'Price Researcher' }),
    ])
    const handoffs = out.flatMap((o) => (o.kind === 'events' ? o.events : [])).filter((e) => e.event_type === 'agent_handoff')
    expect(handoffs.map((e) => [e.payload, (e.source_agent as { id: string }).id, (e.target_agent as { id: string }).id, e.event_id])).toEqual([
      [{ from_agent: 'Price Researcher', to_agent: 'Stock Writer', topic: 'stock', reason: 'graph.node.parent_id' }, 'Price Researcher', 'Stock Writer', spanEventId(T, '31', 'handoff')],
      [{ from_agent: 'Price Researcher', to_agent: 'coder', topic: null, reason: 'span_link' }, 'Price Researcher', 'coder', spanEventId(T, '32', `link/${T}/30`)],
      [{ from_agent: 'triage', to_agent: 'coder', topic: null, reason: 'span_link' }, 'triage', 'coder', spanEventId(T, '32', `link/${'b'.repeat(32)}/99`)],
    ]) // the link to an unknown agent and the agent's handoffs to itself give none
    expect(handoffs[0]!.timestamp).toBe(1_700_000_000_000_000) // the span's start
  })

  it('maps GenAI memory operations to memory_operation events', () => {
    const out = mapSpans([
      span('40', '', { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'planner' }),
      span('41', '40', { 'gen_ai.operation.name': 'search_memory', 'gen_ai.memory.type': 'episode' }),
      span('42', '40', { 'gen_ai.operation.name': 'update_memory', 'gen_ai.memory.id': 'm-7' }),
      span('43', '40', { 'gen_ai.operation.name': 'delete_memory', 'gen_ai.memory.id': 'm-8', 'gen_ai.memory.type': 'fact' }),
    ])
    const mem = out.flatMap((o) => (o.kind === 'events' ? o.events : [])).filter((e) => e.event_type === 'memory_operation')
    expect(mem.map((e) => [e.payload, (e.source_agent as { id: string }).id, e.parent_event_id])).toEqual([
      [{ operation: 'retrieved', memory_id: '41', memory_type: 'episode', confidence: null }, 'planner', spanEventId('a'.repeat(32), '40')],
      [{ operation: 'updated', memory_id: 'm-7', memory_type: 'unknown', confidence: null }, 'planner', spanEventId('a'.repeat(32), '40')],
      [{ operation: 'deleted', memory_id: 'm-8', memory_type: 'fact', confidence: null }, 'planner', spanEventId('a'.repeat(32), '40')],
    ])
  })

  it('uuidV5 is RFC 9562 v5 and stable', () => {
    const id = uuidV5('trace/span')
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(uuidV5('trace/span')).toBe(id)
    // RFC 9562 appendix A.4: v5 of "www.example.com" in the DNS namespace.
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2')
  })
})
