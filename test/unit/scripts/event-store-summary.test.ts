/** The demo's event-store line. */
import { describe, expect, it } from 'vitest'
import { renderEventStoreSummary } from '../../../scripts/demo/event-store-summary.ts'

describe('demo event-store summary', () => {
  it('prints events, streams, the longest stream and the global sequence range', () => {
    expect(renderEventStoreSummary({ events: 1234, streams: 17, longest_stream: 301, first_seq: 1, last_seq: 1234 })).toBe(
      'event store: 1234 events in 17 streams (one per trace, the longest 301 events; global sequence 1..1234; GET /api/v2/event-store/events on the gateway)',
    )
  })

  it('says empty when nothing was appended', () => {
    expect(renderEventStoreSummary({ events: 0, streams: 0, longest_stream: 0, first_seq: null, last_seq: null })).toMatch(/0 events in 0 streams .*; empty;/)
  })
})
