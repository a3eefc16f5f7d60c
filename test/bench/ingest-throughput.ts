/**
 * The gateway's OTLP ingest under load (`npm run bench -- --phases ingest`): one gateway process
 * (fresh topics) receiving OTLP/HTTP protobuf `ExportTraceServiceRequest`s of `spansPerRequest`
 * spans (512, the OpenTelemetry SDK's default export batch) at `POST /v1/traces`.
 *
 * Each request holds 64 traces of 8 GenAI spans (an `invoke_agent` span, 5 `chat` spans with
 * `gen_ai.usage.*`, 2 `execute_tool` spans), i.e. 576 AgentEvents per 512 spans, every trace and
 * span id random, so every event is new and written (acknowledged by Kafka, acks=all, before the
 * answer). Bodies are built before the timed part with the OTLP protobuf types the gateway decodes
 * with (`otlp-proto-root`), so the client's encoding is not on the clock.
 *
 * 1. Throughput: `requests` requests sent by `concurrency` closed-loop senders, as fast as the
 *    gateway answers; spans/s = spans of 200-answers / wall seconds. A 429/503 is retried after its
 *    `Retry-After` and counted.
 * 2. Latency at a fixed rate: requests sent open-loop every 512 / `rate` seconds for
 *    `durationSeconds` (after 2 s unmeasured); latency = send → answer, per request (p50, p99, max).
 */
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { createTestKafka } from '../helpers/kafka.ts'
import { startGateway, type AppProcess } from '../helpers/processes.ts'
import { stackEnv } from '../helpers/stack.ts'
import { metricSum, stopApp, type PhaseContext } from './app.ts'
import { startCpuMeter, type CoreUsage } from './cpu.ts'
import { delay, nowMs, summarize, type Summary } from './stats.ts'

export interface IngestBenchOptions extends PhaseContext {
  /** Requests of the throughput run. */
  readonly requests: number
  /** Closed-loop senders of the throughput run (each waits for its answer before the next request). */
  readonly concurrency: number
  /** Offered rate of the latency run, spans/s (requests/s = rate / spansPerRequest). */
  readonly rate: number
  readonly durationSeconds: number
  /** Spans per request (a multiple of 8). */
  readonly spansPerRequest: number
}

export interface IngestBenchResult {
  readonly spansPerRequest: number
  readonly requestBytes: number
  /** Throughput run: spans of accepted requests per wall second, and events written per second (the gateway's counter). */
  readonly spansPerSec: number
  readonly eventsWrittenPerSec: number
  readonly throughputRequests: number
  readonly throughputSeconds: number
  readonly concurrency: number
  /** Answers 429/503 retried during the throughput run. */
  readonly retried: number
  /** Request latency of the throughput run, ms (closed loop: includes queueing at the gateway). */
  readonly throughputLatencyMs: Summary
  readonly cpu: CoreUsage
  /** Latency run. */
  readonly offeredSpansPerSec: number
  readonly achievedSpansPerSec: number
  readonly latencyMs: Summary
  /** Requests of the latency run that failed (an answer other than 200 after retries). */
  readonly latencyFailures: number
  /** Answers 429/503 retried during the measured latency run. */
  readonly latencyRetried: number
}

interface ProtoType {
  fromObject(o: Record<string, unknown>): unknown
  encode(msg: unknown): { finish(): Uint8Array }
}
const require = createRequire(import.meta.url)
const ExportTraceServiceRequest = (require('otlp-proto-root/build/src/generated/root.js') as { opentelemetry: { proto: { collector: { trace: { v1: Record<string, ProtoType> } } } } })
  .opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest!

const KEY = randomBytes(24).toString('base64url')
const AGENTS = ['planner', 'researcher', 'coder', 'reviewer']
const kv = (key: string, v: string | number) => ({ key, value: typeof v === 'string' ? { stringValue: v } : { intValue: v } })

/** One request body: `spans` spans in traces of 8 (agent, 5 chats, 2 tools), ids random, times around now. */
export function otlpBody(spans: number): Buffer {
  const out: Record<string, unknown>[] = []
  const nowNs = BigInt(Date.now()) * 1_000_000n
  for (let t = 0; t < spans / 8; t++) {
    const traceId = randomBytes(16)
    const agentId = randomBytes(8)
    const agent = AGENTS[t % AGENTS.length]!
    const span = (name: string, parent: Buffer | null, startMs: number, endMs: number, attributes: ReturnType<typeof kv>[]) => ({
      traceId, spanId: parent ? randomBytes(8) : agentId, parentSpanId: parent ?? undefined, name, kind: 1,
      startTimeUnixNano: String(nowNs + BigInt(startMs) * 1_000_000n), endTimeUnixNano: String(nowNs + BigInt(endMs) * 1_000_000n), attributes,
    })
    out.push(span(`invoke_agent ${agent}`, null, 0, 900, [kv('gen_ai.operation.name', 'invoke_agent'), kv('gen_ai.agent.name', agent), kv('gen_ai.conversation.id', `conv-${t}`)]))
    for (let i = 0; i < 5; i++) {
      out.push(span('chat gpt-4o', agentId, 10 + i * 150, 150 + i * 150, [
        kv('gen_ai.operation.name', 'chat'), kv('gen_ai.request.model', 'gpt-4o'), kv('gen_ai.provider.name', 'openai'),
        kv('gen_ai.usage.input_tokens', 200 + i * 10), kv('gen_ai.usage.output_tokens', 40 + i),
      ]))
    }
    for (let i = 0; i < 2; i++) out.push(span('execute_tool search', agentId, 800 + i * 40, 830 + i * 40, [kv('gen_ai.operation.name', 'execute_tool'), kv('gen_ai.tool.name', 'search')]))
  }
  const req = { resourceSpans: [{ resource: { attributes: [kv('service.name', 'auren-bench')] }, scopeSpans: [{ scope: { name: 'auren-bench' }, spans: out }] }] }
  return Buffer.from(ExportTraceServiceRequest.encode(ExportTraceServiceRequest.fromObject(req)).finish())
}

/** Posts one body; retries 429/503 after Retry-After. Resolves with first send → accepting answer (ms, retries and their waits included) and the retries. */
async function post(url: string, body: Buffer): Promise<{ ms: number; retries: number }> {
  const t = nowMs()
  for (let retries = 0; ; retries++) {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', 'x-api-key': KEY }, body })
    await res.arrayBuffer()
    if (res.status === 200) return { ms: nowMs() - t, retries }
    if ((res.status === 429 || res.status === 503) && retries < 20) {
      await delay(Number(res.headers.get('retry-after') ?? 1) * 1000)
      continue
    }
    throw new Error(`ingest answered ${res.status}`)
  }
}

export async function measureIngest(opts: IngestBenchOptions): Promise<IngestBenchResult> {
  const kafka = await createTestKafka(opts.partitions)
  let gateway: AppProcess | undefined
  try {
    const env = stackEnv()
    gateway = await startGateway({
      AUREN_KAFKA_BROKERS: env.kafkaBrokers.join(','),
      AUREN_SCHEMA_REGISTRY_URL: env.schemaRegistryUrl,
      AUREN_TOPIC_PREFIX: kafka.prefix,
      AUREN_GATEWAY_JWT_SECRET: randomBytes(32).toString('base64'),
      AUREN_GATEWAY_LOG_LEVEL: 'warn',
      AUREN_GATEWAY_INGEST_API_KEYS: KEY,
      AUREN_GATEWAY_INGEST_RATE_PER_S: '100000',
      AUREN_GATEWAY_INGEST_RATE_BURST: '100000',
    })
    const gw = gateway
    const deadline = nowMs() + 60_000
    while (!(await fetch(`http://${gw.address}/healthz`).then((r) => r.ok, () => false))) {
      if (nowMs() > deadline) throw new Error(`gateway not up:\n${gw.output().slice(-4000)}`)
      await delay(200)
    }
    const url = `http://${gw.address}/v1/traces`
    const written = async () => metricSum(await gw.metrics(), 'auren_ingest_items_written_total', 'api="otlp"')

    opts.log(`ingest: building ${opts.requests} + warm-up request bodies of ${opts.spansPerRequest} spans`)
    const warm = Array.from({ length: 4 }, () => otlpBody(opts.spansPerRequest))
    for (const b of warm) await post(url, b) // producer connected, schema registered
    const bodies = Array.from({ length: opts.requests }, () => otlpBody(opts.spansPerRequest))

    // ---- 1. throughput ----
    opts.log(`ingest: ${opts.requests} requests of ${opts.spansPerRequest} spans, ${opts.concurrency} senders`)
    const w0 = await written()
    const meter = startCpuMeter(gw.child.pid)
    const t0 = nowMs()
    let next = 0
    let retried = 0
    const closedLatencies: number[] = []
    await Promise.all(Array.from({ length: opts.concurrency }, async () => {
      for (let i = next++; i < bodies.length; i = next++) {
        const r = await post(url, bodies[i]!)
        retried += r.retries
        closedLatencies.push(r.ms)
      }
    }))
    const seconds = (nowMs() - t0) / 1000
    const cpu = meter()
    const w1 = await written()

    // ---- 2. latency at a fixed rate ----
    const intervalMs = (opts.spansPerRequest / opts.rate) * 1000
    const total = Math.max(1, Math.round((opts.durationSeconds * 1000) / intervalMs))
    const warmup = Math.ceil(2000 / intervalMs)
    opts.log(`ingest: latency at ${opts.rate} spans/s (a request every ${intervalMs.toFixed(0)} ms) for ${opts.durationSeconds} s`)
    const latBodies = Array.from({ length: warmup + total }, () => otlpBody(opts.spansPerRequest))
    const latencies: number[] = []
    let failures = 0
    let latRetried = 0
    const inflight: Promise<void>[] = []
    const start = nowMs()
    for (let i = 0; i < latBodies.length; i++) {
      const due = start + i * intervalMs
      const wait = due - nowMs()
      if (wait > 0) await delay(wait)
      const measured = i >= warmup
      inflight.push(post(url, latBodies[i]!).then((r) => {
        if (!measured) return
        latencies.push(r.ms)
        latRetried += r.retries
      }, () => { failures++ }))
    }
    await Promise.all(inflight)
    const latSeconds = (nowMs() - start - warmup * intervalMs) / 1000

    return {
      spansPerRequest: opts.spansPerRequest,
      requestBytes: bodies[0]!.length,
      spansPerSec: (bodies.length * opts.spansPerRequest) / seconds,
      eventsWrittenPerSec: (w1 - w0) / seconds,
      throughputRequests: bodies.length,
      throughputSeconds: seconds,
      concurrency: opts.concurrency,
      retried,
      throughputLatencyMs: summarize(closedLatencies),
      cpu,
      offeredSpansPerSec: opts.rate,
      achievedSpansPerSec: (latencies.length * opts.spansPerRequest) / latSeconds,
      latencyMs: summarize(latencies),
      latencyFailures: failures,
      latencyRetried: latRetried,
    }
  } finally {
    if (gateway) await stopApp(gateway).catch(() => undefined)
    await kafka.close()
  }
}
