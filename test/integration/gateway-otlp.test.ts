/**
 * OTLP/HTTP traces ingest (`POST /v1/traces`) fed by the real OpenTelemetry JS SDK: spans with
 * `gen_ai.*` (and OpenInference) attributes are exported by `@opentelemetry/exporter-trace-otlp-proto`
 * (protobuf, gzip) and `@opentelemetry/exporter-trace-otlp-http` (JSON) to the gateway process,
 * which writes AgentEvents to the real broker; the test reads them back and checks them field by
 * field, with deterministic ids from trace and span ids, parent links, usage counted once (leaf
 * LLM spans only), failures, tools, and the spans skipped by reason.
 */
import { randomBytes } from 'node:crypto'
import { context, trace, SpanStatusCode, type Span, type Tracer } from '@opentelemetry/api'
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromAgentEventRecord, type AgentEvent, type AgentEventRecord } from '../../schemas/index.ts'
import { spanEventId } from '../../gateway/ingest/otlp-map.ts'
import { createTestDb, type TestDb } from '../helpers/aggregation-db.ts'
import { createTestKafka, type TestKafka } from '../helpers/kafka.ts'
import type { AppProcess } from '../helpers/processes.ts'
import { startStreamGateway } from '../helpers/stream-gateway.ts'

const SECRET = randomBytes(32).toString('base64')
const KEY = randomBytes(24).toString('base64url')
const T0 = Date.now() - 60_000

/** A crew-like span tree: agent (with usage of its own, which must not count) → 2 LLM calls (one failed), 1 OpenInference LLM, 1 tool; plus an HTTP span. */
function emitTree(tracer: Tracer, agent: string): { root: Span; llm: Span[]; tool: Span; http: Span } {
  const at = (ms: number) => new Date(T0 + ms)
  const root = tracer.startSpan(`invoke_agent ${agent}`, {
    startTime: at(0),
    attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': agent, 'gen_ai.conversation.id': `conv-${agent}`, 'gen_ai.usage.input_tokens': 999, 'gen_ai.usage.output_tokens': 999, 'user.id': 'user-7' },
  })
  const ctx = trace.setSpan(context.active(), root)
  const llm1 = tracer.startSpan('chat gpt-4o', { startTime: at(100), attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.provider.name': 'openai', 'gen_ai.usage.input_tokens': 120, 'gen_ai.usage.output_tokens': 30 } }, ctx)
  llm1.end(at(1_350))
  const llm2 = tracer.startSpan('chat gpt-4o', { startTime: at(1_400), attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.provider.name': 'openai', 'gen_ai.usage.input_tokens': 80, 'gen_ai.usage.output_tokens': 0, 'error.type': 'rate_limit' } }, ctx)
  llm2.setStatus({ code: SpanStatusCode.ERROR, message: 'rate limited' })
  llm2.end(at(1_500))
  const llm3 = tracer.startSpan('ChatAnthropic', { startTime: at(1_600), attributes: { 'openinference.span.kind': 'LLM', 'llm.model_name': 'claude-3-5-haiku', 'llm.provider': 'anthropic', 'llm.token_count.prompt': 10, 'llm.token_count.completion': 5 } }, ctx)
  llm3.end(at(2_000))
  const tool = tracer.startSpan('execute_tool price_lookup', { startTime: at(2_100), attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'price_lookup' } }, ctx)
  tool.end(at(2_140))
  const http = tracer.startSpan('GET /prices', { startTime: at(2_105), attributes: { 'http.request.method': 'GET' } }, trace.setSpan(context.active(), tool))
  http.end(at(2_130))
  root.end(at(2_500))
  return { root, llm: [llm1, llm2, llm3], tool, http }
}

describe('OTLP/HTTP traces ingest with the OpenTelemetry JS SDK exporters', () => {
  let kafka: TestKafka
  let db: TestDb
  let gateway: AppProcess
  const read: AgentEvent[] = []

  beforeAll(async () => {
    kafka = await createTestKafka()
    db = await createTestDb()
    gateway = await startStreamGateway(kafka.prefix, SECRET, { AUREN_GATEWAY_DB_SCHEMA: db.schema, AUREN_GATEWAY_INGEST_API_KEYS: KEY })
  })
  afterAll(async () => {
    gateway?.kill('SIGTERM')
    await gateway?.exited
    await kafka?.close()
    await db?.drop()
  })

  const exportTree = async (exporter: SpanExporter, agent: string) => {
    const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter, { maxExportBatchSize: 512, scheduledDelayMillis: 60_000 })] })
    const tree = emitTree(provider.getTracer('auren-test'), agent)
    await provider.forceFlush()
    await provider.shutdown()
    return tree
  }
  const eventsOf = async (n: number) => {
    const records = await kafka.consumeUntil(kafka.topics.agentEvents, (rs) => rs.length >= n, 30_000)
    read.length = 0
    for (const r of records) read.push(fromAgentEventRecord((await kafka.serde.decode(r.value, 'agent-event')) as AgentEventRecord))
    return read
  }

  for (const [name, agent, offset] of [
    ['protobuf, gzip (exporter-trace-otlp-proto)', 'planner', 0],
    ['JSON (exporter-trace-otlp-http)', 'reviewer', 6],
  ] as const) {
    it(`maps a GenAI span tree exported as ${name} to events, field by field`, async () => {
      const url = `http://${gateway.address}/v1/traces`
      const exporter = name.startsWith('protobuf') ? new ProtoExporter({ url, headers: { 'x-api-key': KEY }, compression: 'gzip' as never }) : new JsonExporter({ url, headers: { 'x-api-key': KEY } })
      const t = await exportTree(exporter, agent)
      const all = await eventsOf(offset + 6) // started + completed execution, 3 LLM calls, 1 tool
      const tid = t.root.spanContext().traceId
      const mine = all.filter((e) => e.trace_id === tid)
      const id = (s: Span, ev: string) => spanEventId(tid, s.spanContext().spanId, ev === 'agent_execution_started' ? 'started' : undefined)
      expect(mine.map((e) => [e.event_type, e.event_id]).sort()).toEqual([
        ['agent_execution_completed', id(t.root, 'agent_execution_completed')],
        ['agent_execution_started', id(t.root, 'agent_execution_started')],
        ['llm_call_completed', id(t.llm[0]!, 'llm_call_completed')],
        ['llm_call_completed', id(t.llm[1]!, 'llm_call_completed')],
        ['llm_call_completed', id(t.llm[2]!, 'llm_call_completed')],
        ['tool_usage_completed', id(t.tool, 'tool_usage_completed')],
      ].sort())
      const byId = new Map(mine.map((e) => [e.event_id, e]))
      const done = byId.get(id(t.root, 'agent_execution_completed'))!
      expect(done).toMatchObject({
        source: 'otlp', session_id: `conv-${agent}`, user_id: 'user-7', parent_event_id: null, timestamp: (T0 + 2_500) * 1000,
        source_agent: { id: agent, role: agent, domain: null }, payload: { latency_ms: 2500, success: true, error_type: null },
      })
      expect(done.attributes['otel.gen_ai.operation.name']).toBe('invoke_agent')
      expect(byId.get(id(t.root, 'agent_execution_started'))!.timestamp).toBe(T0 * 1000)
      const llm1 = byId.get(id(t.llm[0]!, 'llm_call_completed'))!
      expect(llm1).toMatchObject({
        parent_event_id: done.event_id, timestamp: (T0 + 1_350) * 1000, source_agent: { id: agent },
        payload: { model: 'gpt-4o', provider: 'openai', input_tokens: 120, output_tokens: 30, latency_ms: 1250, success: true, error_type: null, purpose: 'chat' },
      })
      expect(byId.get(id(t.llm[1]!, 'llm_call_completed'))!.payload).toMatchObject({ input_tokens: 80, output_tokens: 0, success: false, error_type: 'rate_limit', latency_ms: 100 })
      expect(byId.get(id(t.llm[2]!, 'llm_call_completed'))!.payload).toMatchObject({ model: 'claude-3-5-haiku', provider: 'anthropic', input_tokens: 10, output_tokens: 5, latency_ms: 400 })
      expect(byId.get(id(t.tool, 'tool_usage_completed'))!.payload).toMatchObject({ tool_name: 'price_lookup', execution_time_ms: 40, success: true })
      // Usage once: the agent span's own 999/999 tokens are not counted; the LLM spans' are.
      const tokens = mine.flatMap((e) => (e.event_type === 'llm_call_completed' ? [e.payload.input_tokens + e.payload.output_tokens] : []))
      expect(tokens.reduce((a, b) => a + b, 0)).toBe(120 + 30 + 80 + 10 + 5)
    })
  }

  it('counts the spans received, accepted and skipped by reason', async () => {
    const text = await gateway.metrics()
    const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN)
    expect(value(/auren_ingest_items_received_total\{api="otlp"\} (\d+)/)).toBe(12)
    expect(value(/auren_ingest_items_accepted_total\{api="otlp"\} (\d+)/)).toBe(10)
    expect(value(/auren_ingest_spans_skipped_total\{reason="not_gen_ai"\} (\d+)/)).toBe(2)
    expect(value(/auren_ingest_items_written_total\{api="otlp"\} (\d+)/)).toBe(12)
  })

  it('answers partial success for spans whose events are invalid, and 400 for a body that is not OTLP', async () => {
    const url = `http://${gateway.address}/v1/traces`
    const span = (id: string, tokens: number) => ({
      traceId: 'ab'.repeat(16), spanId: id, name: 'chat', startTimeUnixNano: String(BigInt(T0) * 1_000_000n), endTimeUnixNano: String(BigInt(T0 + 10) * 1_000_000n),
      attributes: [{ key: 'gen_ai.operation.name', value: { stringValue: 'chat' } }, { key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o' } }, { key: 'gen_ai.agent.name', value: { stringValue: 'a' } }, { key: 'gen_ai.usage.input_tokens', value: { intValue: tokens } }],
    })
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': KEY }, body: JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [span('0000000000000001', 5), span('0000000000000002', -3)] }] }] }) })
    const body = (await res.json()) as { partialSuccess?: { rejectedSpans: number; errorMessage: string } }
    expect(res.status).toBe(200)
    expect(body.partialSuccess?.rejectedSpans).toBe(1)
    expect(body.partialSuccess?.errorMessage).toMatch(/0000000000000002.*payload\.input_tokens must be a finite number >= 0, got -3/)
    const bad = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', 'x-api-key': KEY }, body: Buffer.from([0xff, 0xff, 0xff]) })
    expect(bad.status).toBe(400)
    const noKey = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    expect(noKey.status).toBe(401)
  })
})
