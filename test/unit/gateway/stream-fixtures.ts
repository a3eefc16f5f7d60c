/** Stream items for the gateway stream unit tests. */
import type { StreamItem } from '../../../gateway/event-json.ts'

let n = 0
/** An event item; `over` replaces any field. */
export function item(over: Partial<Extract<StreamItem, { kind: 'event' }>> = {}): StreamItem {
  n++
  const timeMs = over.timeMs ?? 1_000_000 + n
  return {
    kind: 'event', key: `e${n}`, json: { event_id: `e${n}` }, eventType: 'llm_call_completed', tier: 'operational',
    agentIds: ['a1'], userId: 'u1', confidence: null, timeMs, latencyFromMs: timeMs, ...over,
  }
}
