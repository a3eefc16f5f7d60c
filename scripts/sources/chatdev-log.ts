/**
 * Parses one ChatDev WareHouse log into a structured run: phases (agent pairs), and one typed
 * item per entry. Every entry kind is the README's table "Entry kinds" (data README, section 1),
 * plus the kinds the sample holds that the README does not list (marked "not in README").
 * Pure: text and file name in, data out.
 */
import { countSkip } from './common.ts'
import { splitEntries, type LogEntry } from './chatdev-entries.ts'

/** An agent pair set-up: a `[chatting]` table, with the `[RolePlaying]` table that follows it merged in. */
export interface ChatDevPhase {
  index: number
  /** Entry of the first table of the phase. */
  entry: LogEntry
  /** The role that answers (`A` in `A<->B`). */
  assistantRole: string
  /** The role that instructs (`B` in `A<->B`). */
  userRole: string
  /** `phase_name` of the `[chatting]` table, else the phase named by its first utterance, else null. */
  name: string | null
  /** Last `model_type` row of the phase's tables, e.g. `ModelType.GPT_4`; null when none. */
  modelType: string | null
  /** Last entry that belongs to the phase's conversation (utterance, conclusion, call). */
  lastEntry: LogEntry
}

/** Where a rate-limit item came from; see `ChatDevItem` kind `rate_limit`. */
export type RateLimitSource = 'warning' | 'error_code'

/** Tool-like actions (README "tool-like actions"; `git_log` is not in the README). */
export type ChatDevTool =
  | 'update_codes' | 'rewrite_codes' | 'cmd_execute' | 'test_reports' | 'test_error_found' | 'git' | 'git_log'

type Base = { entry: LogEntry; phase: number | null }
/** One parsed entry. `phase` indexes `ChatDevRun.phases` (the pair current at the entry). */
export type ChatDevItem = Base &
  (
    | { kind: 'preprocessing'; runId: string | null }
    | { kind: 'phase_table'; table: 'chatting' | 'roleplaying' }
    | { kind: 'start_chat'; speaker: string; text: string }
    /** `num_prompt_tokens` is tiktoken's estimate, before the request. */
    | { kind: 'send'; numPromptTokens: number | null; modelType: string | null }
    | { kind: 'receive'; promptTokens: number; completionTokens: number; totalTokens: number | null; costUsd: number | null; modelType: string | null }
    | { kind: 'utterance'; speaker: string; assistantRole: string; userRole: string; phaseName: string; turn: number; reply: string }
    /** `<Speaker>: text` outside the utterance format (e.g. `Prompt Engineer: <INFO> …`; not in README). */
    | { kind: 'speaker_message'; speaker: string; text: string }
    | { kind: 'seminar_conclusion'; text: string }
    | { kind: 'tool'; tool: ChatDevTool; actor: string | null; body: string; success: boolean; errorType: string | null }
    /** `Programmer resolve ModuleNotFoundError by:` (not in README). */
    | { kind: 'resolution'; speaker: string; error: string; text: string }
    | { kind: 'human_interaction' }
    | { kind: 'human_comments'; text: string }
    /**
     * A rate-limit line. The openai client logs each failed request as INFO `error_code=…`, and
     * ChatDev's retry then logs a WARNING with the same message; `incident` is false for an
     * `error_code` line whose next entry is that WARNING (the two lines are one failed request).
     */
    | { kind: 'rate_limit'; source: RateLimitSource; message: string; incident: boolean; modelType: string | null }
    /** Other WARNING lines and non-rate-limit `error_code=` lines (timeouts, retries, overload; not in README). */
    | { kind: 'api_warning'; errorType: string; message: string }
    | { kind: 'http_request'; status: number }
    | { kind: 'post_info'; values: Record<string, number> }
    /** Entries kept for completeness that map to no event: Execute Detail, Software Info, Test Info, Task Prompt Self Improvement. */
    | { kind: 'info'; label: string }
  )

/** A parsed run. */
export interface ChatDevRun {
  /** File name as given (relative to the traces root). */
  file: string
  /** Name of the folder holding the log (the run folder); the file stem when there is none. */
  runFolder: string
  /** Run id: `ChatDev Starts (…)` of `[Preprocessing]`, else the folder's `_YYYYMMDDHHMMSS` suffix, else the folder name. */
  runId: string
  phases: ChatDevPhase[]
  items: ChatDevItem[]
  /** Input not represented in `items`, by reason (see `splitEntries`, plus `unknown_entry`). */
  skipped: Record<string, number>
}

const UTTERANCE = /^(.+?): \*\*(.+?)<->(.+?) on : (.+?), turn (\d+)\*\*\s*$/
const START_CHAT = /^(.+?): \*\*\[Start Chat\]\*\*\s*$/
const FOUND = /^(.+?) found (\w+):?\s*$/
const RESOLVE = /^(.+?) resolve (\w+) by:?\s*$/
const SPEAKER_MESSAGE = /^([^\s:*=[\]'"][^:*=[\]'"]{0,60}): (.*)$/
const HTTP_REQUEST = /^HTTP Request: \S+ \S+ "HTTP\/[\d.]+ (\d{3})/
const TOOL_HEADERS: Record<string, ChatDevTool> = {
  '**[Update Codes]**': 'update_codes',
  '**[Rewrite Codes]**': 'rewrite_codes',
  '**[CMD Execute]**': 'cmd_execute',
  '**[Test Reports]**:': 'test_reports',
  '**[Git Information]**': 'git',
  '**[Git Log]**': 'git_log',
}
const INFO_HEADERS: Record<string, string> = {
  '**[Execute Detail]**': 'execute_detail',
  '**[Software Info]**:': 'software_info',
  '**[Test Info]**': 'test_info',
  '**[Task Prompt Self Improvement]**': 'task_prompt_self_improvement',
}
const TEST_OK = 'The software run successfully without errors'

function tableRow(body: string, key: string): string | null {
  const m = new RegExp(`^\\| \\*\\*${key}\\*\\* \\| (.*?) \\|\\s*$`, 'm').exec(body)
  return m ? m[1]!.trim() : null
}

function numberAfter(body: string, key: string): number | null {
  const m = new RegExp(`${key}:\\s*\\$?(-?\\d+(?:\\.\\d+)?)`).exec(body)
  return m ? Number(m[1]) : null
}

/** Error class named in a traceback's last `XxxError:` line, else null. */
function lastErrorClass(text: string): string | null {
  const all = [...text.matchAll(/^(\w+(?:Error|Exception))\b/gm)]
  return all.length > 0 ? all[all.length - 1]![1]! : null
}

/** The reply of an utterance: the body without the other role's `[system prompt]` block, trimmed. */
export function utteranceReply(body: string): string {
  const s = body.replace(/^\s+/, '')
  if (!s.startsWith('[')) return s.trim()
  const end = s.indexOf(']\n\n')
  return end < 0 ? s.trim() : s.slice(end + 1).trim()
}

type ItemBody = ChatDevItem extends infer T ? (T extends unknown ? Omit<T, 'phase' | 'entry' | 'modelType'> : never) : never

/** Maps one entry to an item, or to null when it is of no known kind (`unknown_entry`). */
function classify(e: LogEntry): ItemBody | null {
  const h = e.header.trim()
  const body = e.body.trim()
  if (h === '**[Preprocessing]**') {
    const id = /ChatDev Starts\*\*\s*\((\w+)\)/.exec(body)?.[1] ?? /\*\*Timestamp\*\*:\s*(\w+)/.exec(body)?.[1] ?? null
    return { kind: 'preprocessing', runId: id }
  }
  if (h === 'System: **[chatting]**') return { kind: 'phase_table', table: 'chatting' }
  if (h === 'System: **[RolePlaying]**') return { kind: 'phase_table', table: 'roleplaying' }
  if (h === '**[OpenAI_Usage_Info Send]**') return { kind: 'send', numPromptTokens: numberAfter(body, 'num_prompt_tokens') }
  if (h === '**[OpenAI_Usage_Info Receive]**') {
    return {
      kind: 'receive',
      promptTokens: numberAfter(body, 'prompt_tokens') ?? 0,
      completionTokens: numberAfter(body, 'completion_tokens') ?? 0,
      totalTokens: numberAfter(body, 'total_tokens'),
      costUsd: numberAfter(body, 'cost'),
    }
  }
  if (h === '**[Seminar Conclusion]**:' || h === '**[Seminar Conclusion]**') return { kind: 'seminar_conclusion', text: body }
  if (h === '**[Post Info]**') {
    const values: Record<string, number> = {}
    for (const m of body.matchAll(/\*\*(\w+)\*\*=\$?(-?\d+(?:\.\d+)?)/g)) values[m[1]!] = Number(m[2])
    return { kind: 'post_info', values }
  }
  if (h === '**[Human-Agent-Interaction]**') return { kind: 'human_interaction' }
  if (h === '**[User Provided Comments]**') return { kind: 'human_comments', text: body }
  const tool = TOOL_HEADERS[h]
  if (tool) {
    const failed = tool === 'test_reports' && !body.includes(TEST_OK)
    const errorType = failed ? (lastErrorClass(body) ?? 'test_failed') : null
    return { kind: 'tool', tool, actor: null, body, success: !failed, errorType }
  }
  const info = INFO_HEADERS[h]
  if (info) return { kind: 'info', label: info }
  if (h.startsWith('error_code=')) {
    const code = /^error_code=(\w+)/.exec(h)![1]!
    if (code === 'rate_limit_exceeded') return { kind: 'rate_limit', source: 'error_code', message: h, incident: true }
    return { kind: 'api_warning', errorType: code, message: h }
  }
  if (e.level === 'WARNING') {
    if (/rate limit/i.test(h)) return { kind: 'rate_limit', source: 'warning', message: h, incident: true }
    const errorType = /timed out/i.test(h) ? 'timeout' : /overloaded/i.test(h) ? 'server_overloaded' : /^Retrying/.test(h) ? 'connection_retry' : 'warning'
    return { kind: 'api_warning', errorType, message: `${h}\n${body}`.trim() }
  }
  const http = HTTP_REQUEST.exec(h)
  if (http) return { kind: 'http_request', status: Number(http[1]) }
  let m = START_CHAT.exec(h)
  if (m) return { kind: 'start_chat', speaker: m[1]!.trim(), text: body }
  m = UTTERANCE.exec(h)
  if (m) {
    return { kind: 'utterance', speaker: m[1]!.trim(), assistantRole: m[2]!.trim(), userRole: m[3]!.trim(), phaseName: m[4]!.trim(), turn: Number(m[5]), reply: utteranceReply(e.body) }
  }
  m = FOUND.exec(h)
  if (m) return { kind: 'tool', tool: 'test_error_found', actor: m[1]!.trim(), body, success: false, errorType: m[2]! }
  m = RESOLVE.exec(h)
  if (m) return { kind: 'resolution', speaker: m[1]!.trim(), error: m[2]!, text: body }
  m = SPEAKER_MESSAGE.exec(h)
  if (m) return { kind: 'speaker_message', speaker: m[1]!.trim(), text: `${m[2]!}\n${body}`.trim() }
  return null
}

/** Run folder (parent directory name) and run id candidates of a log path. */
function runNames(file: string): { folder: string; suffixId: string | null } {
  const parts = file.split(/[\\/]/).filter((p) => p !== '')
  const folder = parts.length >= 2 ? parts[parts.length - 2]! : (parts[0] ?? file).replace(/\.log$/, '')
  return { folder, suffixId: /_(\d{14})$/.exec(folder)?.[1] ?? null }
}

/**
 * Parses a whole log.
 * @param text the file's content (UTF-8 decoded)
 * @param file its path relative to the traces root, e.g. `chatdev/WareHouse/<run>/<run>.log`
 */
export function parseChatDevLog(text: string, file: string): ChatDevRun {
  const { entries, skipped } = splitEntries(text)
  const { folder, suffixId } = runNames(file)
  const phases: ChatDevPhase[] = []
  const items: ChatDevItem[] = []
  let modelType: string | null = null
  let runId: string | null = null
  let openChatting: ChatDevPhase | null = null // a [chatting] phase whose [RolePlaying] may follow
  for (const e of entries) {
    const c = classify(e)
    if (!c) {
      countSkip(skipped, 'unknown_entry')
      continue
    }
    if (c.kind === 'preprocessing') runId ??= c.runId
    if (c.kind === 'phase_table') {
      const assistantRole = tableRow(e.body, 'assistant_role_name') ?? '(unknown)'
      const userRole = tableRow(e.body, 'user_role_name') ?? '(unknown)'
      modelType = tableRow(e.body, 'model_type') ?? modelType
      const merge = c.table === 'roleplaying' && openChatting?.assistantRole === assistantRole && openChatting.userRole === userRole
      if (merge && openChatting) openChatting.modelType = modelType
      else {
        phases.push({ index: phases.length, entry: e, assistantRole, userRole, name: tableRow(e.body, 'phase_name'), modelType, lastEntry: e })
      }
      openChatting = c.table === 'chatting' ? phases[phases.length - 1]! : null
    } else if (c.kind !== 'rate_limit' && c.kind !== 'api_warning' && c.kind !== 'http_request') {
      openChatting = null
    }
    const phase = phases.length > 0 ? phases[phases.length - 1]! : null
    if (phase && ['utterance', 'seminar_conclusion', 'receive', 'speaker_message', 'start_chat'].includes(c.kind)) phase.lastEntry = e
    if (phase && c.kind === 'utterance') phase.name ??= c.phaseName
    const withModel = c.kind === 'send' || c.kind === 'receive' || c.kind === 'rate_limit' ? { modelType } : {}
    items.push({ ...c, ...withModel, entry: e, phase: phase ? phase.index : null } as ChatDevItem)
  }
  // An error_code line directly followed by its retry WARNING is one failed request, not two.
  items.forEach((it, i) => {
    const next = items[i + 1]
    if (it.kind === 'rate_limit' && it.source === 'error_code' && next?.kind === 'rate_limit' && next.source === 'warning') it.incident = false
  })
  return { file, runFolder: folder, runId: runId ?? suffixId ?? folder, phases, items, skipped }
}
