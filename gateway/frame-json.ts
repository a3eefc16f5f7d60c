/**
 * Server frames as JSON text, with each event, metrics window or alert body serialised once and
 * reused for every connection and subscription it goes to (the fan-out otherwise serialises the
 * same body once per subscriber: 1 000 subscribers of one event meant 1 000 `JSON.stringify`s of
 * it). The text equals `JSON.stringify(message)` (test/unit/gateway/frame-json.test.ts): the
 * same keys in the same order; only the bodies' text is shared.
 */
import type { ServerMessage } from './protocol.ts'

/** JSON text of frame bodies, by body object (bodies are frozen in use: never mutated after). */
const bodyText = new WeakMap<object, string>()

/** JSON text of a frame body, computed once per body object. */
function textOf(body: Record<string, unknown>): string {
  let text = bodyText.get(body)
  if (text === undefined) {
    text = JSON.stringify(body)
    bodyText.set(body, text)
  }
  return text
}

/** `JSON.stringify(message)`, reusing the text of event, window and alert bodies. */
export function frameJson(message: ServerMessage): string {
  switch (message.type) {
    case 'event':
      return `{"type":"event","subscription_id":${JSON.stringify(message.subscription_id)},"event":${textOf(message.event)}}`
    case 'batch': {
      let events = ''
      for (let i = 0; i < message.events.length; i++) events += (i === 0 ? '' : ',') + textOf(message.events[i]!)
      return `{"type":"batch","subscription_id":${JSON.stringify(message.subscription_id)},"tier":${JSON.stringify(message.tier)},"events":[${events}]}`
    }
    case 'metrics':
      return `{"type":"metrics","subscription_id":${JSON.stringify(message.subscription_id)},"window":${textOf(message.window)}}`
    case 'alert':
      return `{"type":"alert","subscription_id":${JSON.stringify(message.subscription_id)},"alert":${textOf(message.alert)}}`
    default:
      return JSON.stringify(message)
  }
}
