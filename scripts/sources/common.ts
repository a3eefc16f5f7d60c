/**
 * Helpers shared by the recorded-run converters: deterministic event ids, redaction of copied
 * text, byte sizes and agent references. Pure; node:crypto only.
 */
import { createHash } from 'node:crypto'
import type { AgentRef } from '../../schemas/index.ts'

/**
 * Namespace of replay event ids (a fixed random UUID). Changing it changes every replayed
 * event id, which defeats downstream dedup of re-replays: never change it.
 */
export const REPLAY_NAMESPACE = '6f1c2b9e-3d4a-4f5b-8c7d-2e9a0b1c3d4e'

const NAMESPACE_BYTES = Buffer.from(REPLAY_NAMESPACE.replaceAll('-', ''), 'hex')

/**
 * A name-based UUID (RFC 9562 version 5): SHA-1 over the namespace bytes and the UTF-8 name,
 * with the version and variant bits set. The same name always gives the same id, so replaying
 * a file twice yields the same `event_id`s.
 * @param name e.g. `chatdev:<run>/<entry index>/<kind>`
 */
export function replayEventId(name: string): string {
  const hash = createHash('sha1').update(NAMESPACE_BYTES).update(name, 'utf8').digest()
  const b = hash.subarray(0, 16)
  b[6] = (b[6]! & 0x0f) | 0x50
  b[8] = (b[8]! & 0x3f) | 0x80
  const hex = b.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** Size of a string in UTF-8 bytes. */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8')
}

const ORG_ID = /\borg-[A-Za-z0-9]{6,}\b/g
/** Drive letter, then `\`-separated segments (inner ones may hold spaces); the last one ends at a blank. */
const WINDOWS_PATH = /\b[A-Za-z]:\\(?:[^\\\n"'<>|*?:]*\\)*[^\\\s"'<>|*?:,;()]*/g
/**
 * `/a/b...`: at least two segments, not preceded by a word character, `:` or `/` (so URLs keep
 * their host and `https://`); inner segments may hold single spaces (`/mnt/c/Users/Jane Doe/x`).
 */
const UNIX_PATH = /(?<![\w:/.~-])\/(?:[^/\s"'<>|;,()]+(?: [^/\s"'<>|;,()]+)*\/)+[^/\s"'<>|;,()]*/g

/** Replacement text of redacted values. */
export const REDACTED = {
  org: 'org-[REDACTED]',
  path: '[PATH]',
} as const

/**
 * Redacts what the data README ("Caveats (ChatDev)") says must not be displayed: OpenAI
 * organization ids (`org-…`, not API keys) and absolute Windows (`C:\…`) and Unix (`/home/…`)
 * paths. Over-redaction of URL paths such as `/v1/chat/completions` after a blank is accepted.
 * @param options.orgIds false to keep organization ids (Who&When has none; only paths are redacted there)
 */
export function redact(text: string, options: { orgIds?: boolean } = {}): string {
  let out = text.replace(WINDOWS_PATH, REDACTED.path).replace(UNIX_PATH, REDACTED.path)
  if (options.orgIds !== false) out = out.replace(ORG_ID, REDACTED.org)
  return out
}

/**
 * An agent reference whose id and role are the framework's own name for the agent.
 * @param domain e.g. 'software' for ChatDev roles; null when the source does not say.
 */
export function agentRef(name: string, domain: string | null): AgentRef {
  return { id: name, role: name, domain }
}

/** Adds `n` (default 1) to the count of `reason` in a skip tally. */
export function countSkip(tally: Record<string, number>, reason: string, n = 1): void {
  tally[reason] = (tally[reason] ?? 0) + n
}

/**
 * Attribute marking an event whose `timestamp` was made up, not recorded by the producer (the
 * value says how: Who&When files have no timestamps; the simulator's own clock). Such times
 * order events within a run but say nothing about when anything happened (schemas/replay.ts).
 */
export { SYNTHETIC_TIME_ATTRIBUTE } from '../../schemas/replay.ts'
