import { pino } from 'pino'
import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { Gauge, Registry } from 'prom-client'
import { computeLag, startLagMonitor } from '../../../../processors/runtime/lag-monitor.ts'
import { createEpisodeLog } from '../../../../processors/runtime/ops/episode-log.ts'
import { isRetriableBatchError } from '../../../../processors/runtime/runner.ts'
import { AurenError } from '../../../../processors/runtime/ops/errors.ts'

describe('computeLag', () => {
  const ranges = new Map([
    [0, { low: '0', high: '100' }],
    [1, { low: '40', high: '50' }],
    [2, { low: '0', high: '0' }],
  ])
  it('is the log end offset minus the position held, for every assigned partition', () => {
    expect(computeLag([0, 1, 2], ranges, new Map([[0, '60'], [1, '50'], [2, undefined]]))).toEqual(new Map([[0, 40], [1, 0], [2, 0]]))
  })
  it('counts from the log start offset when nothing is stored or committed, or the position was deleted', () => {
    expect(computeLag([0, 1], ranges, new Map([[0, undefined], [1, '3']]))).toEqual(new Map([[0, 100], [1, 10]]))
  })
  it('leaves out partitions not assigned or without a known range', () => {
    expect(computeLag([1, 7], ranges, new Map())).toEqual(new Map([[1, 10]]))
  })
})

describe('startLagMonitor', () => {
  it('updates every assigned partition from the offsets read and removes the series of revoked ones', async () => {
    const registry = new Registry()
    const gauge = new Gauge({ name: 'auren_consumer_lag_records', help: 'lag', labelNames: ['processor', 'topic', 'partition'], registers: [registry] })
    let assigned = [0, 1, 2]
    const monitor = startLagMonitor({
      processor: 'aggregation',
      topic: 't',
      gauge,
      assigned: () => assigned,
      offsetRanges: async () => new Map([0, 1, 2].map((p) => [p, { low: '0', high: String(100 * (p + 1)) }])),
      positions: async (ps) => new Map(ps.map((p) => [p, p === 2 ? undefined : '50'])),
      log: pino({ level: 'silent' }),
      intervalMs: 3_600_000,
    })
    try {
      await monitor.tick()
      const series = async () => (await gauge.get()).values.map((v) => [v.labels.partition, v.value])
      expect(await series()).toEqual([['0', 50], ['1', 150], ['2', 300]])
      assigned = [1]
      await monitor.tick()
      expect(await series()).toEqual([['1', 150]])
    } finally {
      monitor.stop()
    }
  })
})

describe('createEpisodeLog', () => {
  function capture() {
    const lines: { level: number; msg: string; count?: number }[] = []
    const log = pino({ level: 'debug' }, new Writable({ write: (chunk, _e, cb) => (lines.push(JSON.parse(String(chunk))), cb()) }))
    return { log, lines }
  }
  it('writes one warning for an episode of retries and one line with the count when it ends', async () => {
    const { log, lines } = capture()
    let t = 0
    const ep = createEpisodeLog(log, 'broker unreachable', { now: () => t, remindMs: 60_000 })
    for (let i = 0; i < 16; i++) {
      t += 1_000
      ep.occurred({}, 'connect ECONNREFUSED')
    }
    expect(ep.active).toBe(true)
    ep.ended()
    await new Promise((r) => setImmediate(r))
    expect(lines.map((l) => l.level)).toEqual([40, 30])
    expect(lines[1]!.count).toBe(16)
    expect(ep.active).toBe(false)
  })
  it('reminds with the count so far while a long episode lasts', async () => {
    const { log, lines } = capture()
    let t = 0
    const ep = createEpisodeLog(log, 'broker unreachable', { now: () => t, remindMs: 60_000 })
    for (let i = 0; i < 30; i++) {
      t += 5_000
      ep.occurred({}, 'x')
    }
    ep.ended()
    await new Promise((r) => setImmediate(r))
    expect(lines.filter((l) => l.level === 40).length).toBe(3) // start, +60 s, +120 s
  })
})

describe('isRetriableBatchError', () => {
  it('retries retriable AurenErrors and Kafka client errors, not other errors', () => {
    expect(isRetriableBatchError(new AurenError('AUREN_ERR_SINK_UNAVAILABLE', 'down', { retriable: true }))).toBe(true)
    expect(isRetriableBatchError(new AurenError('AUREN_ERR_SINK_UNAVAILABLE', 'bad sql', { retriable: false }))).toBe(false)
    expect(isRetriableBatchError(Object.assign(new Error('Cannot call "beginTransaction" in state "ABORTING"'), { name: 'KafkaJSNonRetriableError' }))).toBe(true)
    expect(isRetriableBatchError(Object.assign(new Error('retries'), { name: 'KafkaJSNumberOfRetriesExceeded' }))).toBe(true)
    expect(isRetriableBatchError(new TypeError('x is undefined'))).toBe(false)
  })
})
