/**
 * The event-store app's pure parts: its transform (an enriched event → the JSON of its stream
 * entry, keyed by trace), the lag observation, and its configuration.
 */
import { describe, expect, it } from 'vitest'
import { eventStoreTransform, observeEventStore } from '../../../../processors/event-store/definition.ts'
import { parseEventStoreConfig } from '../../../../processors/event-store/config.ts'
import { enrichedEvent } from '../../../helpers/archive.ts'

describe('event-store transform', () => {
  it('emits one entry per event: stream = trace, the enriched event as data, keyed by trace id', () => {
    const e = enrichedEvent({ tier: 'critical', timestampUs: 1_764_500_000_000_000, trace: 'trace-7', userId: 'user-3' })
    const out = eventStoreTransform(e)
    expect(out.kind).toBe('emit')
    if (out.kind !== 'emit') return
    expect(out.records).toHaveLength(1)
    expect(out.records[0]!.key).toBe('trace-7')
    expect(JSON.parse(out.records[0]!.value)).toEqual({
      streamId: 'trace-7', eventId: e.event.event_id, eventType: 'llm_call_completed', eventTimeUs: 1_764_500_000_000_000,
      userId: 'user-3', tier: 'critical', data: JSON.parse(JSON.stringify(e)),
    })
  })

  it('observes the event time in ms and the tier for auren_event_lag_seconds', () => {
    const e = enrichedEvent({ tier: 'analytical', timestampUs: 1_764_500_000_123_000 })
    expect(observeEventStore(e)).toMatchObject({ eventTimeMs: 1_764_500_000_123, tier: 'analytical', fromRecordTime: false })
  })
})

describe('event-store configuration', () => {
  it('has the stated defaults: 5,000 events, 16 MiB or 1 s per append, 4 connections', () => {
    const c = parseEventStoreConfig({ AUREN_DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db' })
    expect([c.flushMaxRecords, c.flushMaxBytes, c.flushMaxAgeMs, c.dbPoolSize, c.dbSchema]).toEqual([5_000, 16 * 1024 * 1024, 1_000, 4, 'public'])
    expect(Object.isFrozen(c)).toBe(true)
  })

  it('reports every problem at once, naming each variable', () => {
    let message = ''
    try {
      parseEventStoreConfig({ AUREN_EVENT_STORE_FLUSH_MAX_RECORDS: '0', AUREN_EVENT_STORE_TYPO: '1' })
    } catch (err) {
      message = (err as Error).message
    }
    expect(message).toMatch(/AUREN_EVENT_STORE_TYPO: unknown variable/)
    expect(message).toMatch(/AUREN_EVENT_STORE_FLUSH_MAX_RECORDS/)
    expect(message).toMatch(/AUREN_DATABASE_URL: required, not set/)
  })
})
