/**
 * The benchmark's input: realistic AgentEvents from the seeded simulator (every event type, in
 * whole traces of ~15 events keyed by trace_id), encoded in Schema Registry wire format as the
 * gateway would write them.
 */
import { createSimulator, type Simulator } from '../../scripts/sources/simulator.ts'
import { toAgentEventRecord, type AgentEvent } from '../../schemas/index.ts'
import type { ProduceRecord } from '../../processors/runtime/kafka/kafka-client.ts'
import type { TestKafka } from '../helpers/kafka.ts'
import { nowMs } from './stats.ts'

/** A seeded stream of events. */
export function eventSource(seed: number): Simulator {
  return createSimulator({ seed })
}

/** Encodes events for the input topic of `kafka` (registers the schema on first use). */
export async function eventEncoder(kafka: TestKafka): Promise<(event: AgentEvent) => ProduceRecord> {
  const topic = kafka.topics.agentEvents
  const schemaId = await kafka.serde.register(topic, 'agent-event')
  return (event) => ({ topic, key: event.trace_id, value: kafka.serde.encode(schemaId, 'agent-event', toAgentEventRecord(event)) })
}

/** What pre-producing the input cost and what it wrote. */
export interface PreProduceResult {
  readonly events: number
  /** Mean encoded value size (wire format: 5-byte header + Avro body), bytes. */
  readonly meanValueBytes: number
  /** Mean key (trace_id) size, bytes. */
  readonly meanKeyBytes: number
  /** Wall seconds to generate, encode and produce (acks=all) everything. */
  readonly seconds: number
  /** Of which generating and Avro-encoding events, CPU in this process, seconds. */
  readonly encodeSeconds: number
}

/**
 * Produces n events (stamped with the current time) to the input topic in batches with the
 * project's driver (idempotent producer, acks=all), as fast as it goes.
 */
export async function preProduce(kafka: TestKafka, n: number, opts: { seed: number; batch?: number; onProgress?: (done: number) => void }): Promise<PreProduceResult> {
  const source = eventSource(opts.seed)
  const encode = await eventEncoder(kafka)
  const batchSize = opts.batch ?? 2_000
  let valueBytes = 0
  let keyBytes = 0
  let encodeMs = 0
  const started = nowMs()
  for (let done = 0; done < n; ) {
    const size = Math.min(batchSize, n - done)
    const t = nowMs()
    const records: ProduceRecord[] = []
    for (let i = 0; i < size; i++) {
      const r = encode(source.next(Math.round(nowMs() * 1000)))
      valueBytes += r.value?.length ?? 0
      keyBytes += typeof r.key === 'string' ? Buffer.byteLength(r.key) : (r.key?.length ?? 0)
      records.push(r)
    }
    encodeMs += nowMs() - t
    await kafka.producer.send(records)
    done += size
    opts.onProgress?.(done)
  }
  return { events: n, meanValueBytes: valueBytes / n, meanKeyBytes: keyBytes / n, seconds: (nowMs() - started) / 1000, encodeSeconds: encodeMs / 1000 }
}
