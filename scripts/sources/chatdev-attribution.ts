/**
 * Which agent made each LLM call of a ChatDev run, and which model it asked for. Pure.
 */
import type { ChatDevItem, ChatDevRun } from './chatdev-log.ts'

/**
 * ChatDev `ModelType` names → OpenAI model ids, from ChatDev's `camel/typing.py` (chatdev1.0
 * branch). Names not listed are kept, lowercased (`ModelType.STUB` → `stub`).
 */
export const CHATDEV_MODELS: Readonly<Record<string, string>> = Object.freeze({
  GPT_3_5_TURBO: 'gpt-3.5-turbo-16k-0613',
  GPT_3_5_TURBO_NEW: 'gpt-3.5-turbo-16k',
  GPT_4: 'gpt-4',
  GPT_4_32k: 'gpt-4-32k',
  GPT_4_TURBO: 'gpt-4-turbo',
  GPT_4_TURBO_V: 'gpt-4-turbo',
  GPT_4O: 'gpt-4o',
  GPT_4O_MINI: 'gpt-4o-mini',
  GTP_4O_MINI: 'gpt-4o-mini', // sic, a spelling some ChatDev versions use
})

/** Model used when no `model_type` row precedes a call. */
export const UNKNOWN_MODEL = 'unknown'

/** `ModelType.GPT_4` (a `model_type` table cell) → `gpt-4`; null → `unknown`. */
export function chatDevModel(modelType: string | null): string {
  if (!modelType) return UNKNOWN_MODEL
  const name = modelType.replace(/^ModelType\./, '').trim()
  return CHATDEV_MODELS[name] ?? name.toLowerCase()
}

/** How a call's agent was found. */
export type AttributionVia = 'utterance' | 'fallback' | 'none'

/** The agent of one call-related entry (a Receive, Send, rate-limit or API warning). */
export interface CallAgent {
  agent: string | null
  via: AttributionVia
}

/**
 * Attribution rule of LLM calls to agents:
 * - `next-utterance` (default): the rule the foundation issue states, "an LLM call belongs to
 *   the agent whose utterance header follows its Receive entry": every Receive since the last
 *   utterance goes to the speaker of the next utterance; Receives after the last utterance go
 *   to the last phase's assistant role. Totals from any scan of the logs that follows the
 *   stated rule match ours exactly.
 * - `block-order`: the k-th Receive of a block goes to the k-th utterance (see
 *   `attributeReceives`). In two-call turns (Receive, Receive, assistant utterance, user
 *   utterance; 41 in the sample) the completion tokens of the second call fit the user role's
 *   reply, so this rule credits the user role with its own call where `next-utterance` gives
 *   both calls to the assistant. Choose it with `auren replay --attribution block-order`.
 */
export type AttributionRule = 'block-order' | 'next-utterance'

/** Entries that neither open nor close a block of Receives and utterances. */
const TRANSPARENT = new Set<ChatDevItem['kind']>(['send', 'rate_limit', 'api_warning', 'http_request'])

/**
 * Attributes every `[OpenAI_Usage_Info Receive]` to an agent.
 *
 * Rule: **a call belongs to the agent whose utterance follows its Receive.** Precisely, Receives
 * and utterances come in blocks (Send, WARNING, `error_code` and HTTP lines do not break a
 * block; anything else does), and the k-th Receive of a block belongs to the speaker of the k-th
 * utterance of the block. This is ChatDev's RolePlaying.step order: the assistant's call, then
 * the user's call when the turn has one, then both utterances are logged. In the 23 runs present,
 * 281 blocks are `Receive, utterance` and 41 are `Receive, Receive, assistant utterance, user
 * utterance` (August 2023 runs). In the 22 of those 41 blocks whose two replies differ in length,
 * each call's completion_tokens fits its own utterance's reply (≈ chars / 4) and never the
 * swapped one; so "the first utterance after the Receive" would give the user's 41 calls to
 * the assistant.
 *
 * Fallback, when a block has more Receives than utterances: the assistant role of the current
 * phase (the pair set up last); `via: 'fallback'`. In the sample this happens once (ToDo's
 * `Prompt Engineer` prompt rewrite, answered by a `Prompt Engineer: <INFO> …` line: the
 * assistant role). Before any phase: `agent: null, via: 'none'`.
 *
 * @param rule `block-order` (below) or `next-utterance` (the default, see `AttributionRule`)
 * @returns entry index of each Receive → its agent
 */
export function attributeReceives(run: ChatDevRun, rule: AttributionRule = 'next-utterance'): Map<number, CallAgent> {
  const out = new Map<number, CallAgent>()
  let pending: ChatDevItem[] = []
  if (rule === 'next-utterance') {
    for (const it of run.items) {
      if (it.kind === 'receive') pending.push(it)
      if (it.kind !== 'utterance') continue
      for (const r of pending) out.set(r.entry.index, { agent: it.speaker, via: 'utterance' })
      pending = []
    }
    const last = run.phases.at(-1)
    for (const r of pending) out.set(r.entry.index, last ? { agent: last.assistantRole, via: 'fallback' } : { agent: null, via: 'none' })
    return out
  }
  const flush = (): void => {
    for (const r of pending) {
      const phase = r.phase === null ? null : run.phases[r.phase]!
      out.set(r.entry.index, phase ? { agent: phase.assistantRole, via: 'fallback' } : { agent: null, via: 'none' })
    }
    pending = []
  }
  for (const it of run.items) {
    if (it.kind === 'receive') pending.push(it)
    else if (it.kind === 'utterance') {
      const r = pending.shift()
      if (r) out.set(r.entry.index, { agent: it.speaker, via: 'utterance' })
    } else if (!TRANSPARENT.has(it.kind)) flush()
  }
  flush()
  return out
}

/**
 * Attributes the entries around calls (Sends, rate-limit lines, API warnings) to the agent of
 * the next Receive in the log: a retried or announced request is the same agent's call. With no
 * later Receive: the current phase's assistant role (`fallback`).
 * @param receives result of `attributeReceives`
 * @returns entry index → agent, for every item of kind send, rate_limit and api_warning
 */
export function attributeAroundCalls(run: ChatDevRun, receives: Map<number, CallAgent>): Map<number, CallAgent> {
  const out = new Map<number, CallAgent>()
  let next: CallAgent | null = null
  for (let i = run.items.length - 1; i >= 0; i--) {
    const it = run.items[i]!
    if (it.kind === 'receive') next = receives.get(it.entry.index) ?? null
    else if (it.kind === 'send' || it.kind === 'rate_limit' || it.kind === 'api_warning') {
      const phase = it.phase === null ? null : run.phases[it.phase]!
      out.set(it.entry.index, next ?? (phase ? { agent: phase.assistantRole, via: 'fallback' } : { agent: null, via: 'none' }))
    }
  }
  return out
}
