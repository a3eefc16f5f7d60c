import { describe, expect, it } from 'vitest'
import { PublishInterruptedError, sendRetrying } from '../../../../scripts/sources/publish-retry.ts'
import { publishRuns } from '../../../../scripts/sources/publish.ts'
import { MAX_REQUEST_RECORDS, type ProduceRecord, type RecordProducer } from '../../../../processors/runtime/kafka/kafka-client.ts'
import type { Serde } from '../../../../processors/runtime/kafka/serde.ts'
import { resumeCommand, interruptedMessage } from '../../../../scripts/lib/resume-hint.ts'
import { llmCallEvents } from '../../../helpers/events.ts'

/** A producer whose broker is down for the sends numbered in `failing` (1-based), with a fake clock. */
function flakyProducer(failing: (call: number) => boolean) {
  const acked: ProduceRecord[] = []
  let calls = 0
  const producer: RecordProducer = {
    transactional: false,
    async send(records) {
      calls++
      if (failing(calls)) throw new Error('KafkaJSNumberOfRetriesExceeded: Connection error: connect ECONNREFUSED')
      acked.push(...records)
    },
    sendAndCommit: () => Promise.reject(new Error('not transactional')),
    settle: async () => {},
    disconnect: () => Promise.resolve(),
  }
  let clock = 0
  const sleeps: number[] = []
  const timing = { now: () => clock, sleep: async (ms: number) => void (sleeps.push(ms), (clock += ms)) }
  return { producer, acked, sleeps, timing, calls: () => calls }
}

const records = (n: number): ProduceRecord[] => Array.from({ length: n }, (_, i) => ({ topic: 't', key: `k${i}`, value: Buffer.from(String(i)) }))

describe('sendRetrying', () => {
  it('retries a refused request with doubling backoff until the broker takes it, in order, each record once', async () => {
    const f = flakyProducer((call) => call >= 2 && call <= 5)
    const retries: number[] = []
    await sendRetrying(f.producer, records(2 * MAX_REQUEST_RECORDS), { ...f.timing, onRetry: (i) => retries.push(i.attempt) })
    expect(f.acked.map((r) => r.key)).toEqual(records(2 * MAX_REQUEST_RECORDS).map((r) => r.key))
    expect(f.sleeps).toEqual([1_000, 2_000, 4_000, 8_000])
    expect(retries).toEqual([1, 2, 3, 4])
  })

  it('stops after the give-up time with the number of records acknowledged before', async () => {
    const f = flakyProducer((call) => call >= 3)
    const err = await sendRetrying(f.producer, records(5 * MAX_REQUEST_RECORDS), { ...f.timing, giveUpAfterMs: 30_000 }, 100).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PublishInterruptedError)
    const stopped = err as PublishInterruptedError
    expect(stopped.sent).toBe(100 + 2 * MAX_REQUEST_RECORDS)
    expect(stopped.failingForMs).toBeGreaterThanOrEqual(30_000)
    expect(stopped.lastError.message).toContain('ECONNREFUSED')
    expect(f.acked).toHaveLength(2 * MAX_REQUEST_RECORDS)
    expect(f.sleeps).toEqual([1_000, 2_000, 4_000, 8_000, 10_000, 10_000])
  })
})

describe('publishRuns with skip', () => {
  const serde = { register: async () => 1, encode: (_id: number, _s: string, v: unknown) => Buffer.from(JSON.stringify((v as { event_id: string }).event_id)) } as unknown as Serde

  it('resumes an interrupted replay after the events the broker acknowledged: together every event once, in order', async () => {
    const events = llmCallEvents(1000, 10)
    const first = flakyProducer((call) => call >= 2)
    const err = (await publishRuns([{ events }], { producer: first.producer, serde, topic: 't', speed: 'max', retry: { ...first.timing, giveUpAfterMs: 5_000 } }).catch((e: unknown) => e)) as PublishInterruptedError
    expect(err).toBeInstanceOf(PublishInterruptedError)
    expect(err.sent).toBe(first.acked.length)
    const second = flakyProducer(() => false)
    const sent = await publishRuns([{ events }], { producer: second.producer, serde, topic: 't', speed: 'max', skip: err.sent })
    expect(sent).toBe(events.length - err.sent)
    const keys = [...first.acked, ...second.acked].map((r) => JSON.parse(r.value!.toString()) as string)
    expect(keys).toEqual(events.map((e) => e.event_id))
  })
})

describe('resume hint', () => {
  it('repeats the arguments with --skip set to what was acknowledged', () => {
    expect(resumeCommand(['replay', '--speed', '10', '--skip', '400', '--traces', '/data/my runs'], 1200)).toBe("npm run auren -- replay --speed 10 --traces '/data/my runs' --skip 1200")
    expect(resumeCommand(['--topic-prefix', 'x-', 'simulate', '--skip=3'], 7)).toBe('npm run auren -- --topic-prefix x- simulate --skip 7')
    const message = interruptedMessage('simulate', new PublishInterruptedError(1200, new Error('connect ECONNREFUSED'), 300_000), 6000, ['simulate', '--rate', '100', '--duration', '60'])
    expect(message).toContain('1200 of 6000 events were acknowledged')
    expect(message).toContain('300 s')
    expect(message).toContain('npm run auren -- simulate --rate 100 --duration 60 --skip 1200')
  })
})
