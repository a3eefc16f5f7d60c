/**
 * An independent scan of ChatDev logs for tests: token sums per agent computed straight from
 * the text, sharing no code with scripts/sources. Rules from the data README
 * (shared/data/agent-traces/README.md): entries start with `[YYYY-xx-xx hh:mm:ss LEVEL] `;
 * each `**[OpenAI_Usage_Info Receive]**` entry is one LLM call with `prompt_tokens: N` and
 * `completion_tokens: N` in its body; the call belongs to the agent whose utterance header
 * (`<Speaker>: **<A><-><B> on : <Phase>, turn <n>**`) follows it; calls with no following
 * utterance anywhere after them (end of log) belong to the assistant role of the last phase
 * (the `assistant_role_name` row of the last RolePlaying table).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

const HEADER = /^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} (?:INFO|WARNING)\] (.*)$/
const UTTERANCE = /^(.+?): \*\*.+?<->.+? on : .+?, turn \d+\*\*\s*$/
const ASSISTANT_ROW = /^\|\s*\*\*assistant_role_name\*\*\s*\|\s*(.+?)\s*\|\s*$/

/** Input and output tokens and call count of one agent. */
export interface TokenSums {
  calls: number
  input: number
  output: number
}

/** Per agent token sums of one log. */
export function scanChatDevLog(text: string): Map<string, TokenSums> {
  const sums = new Map<string, TokenSums>()
  const add = (agent: string, input: number, output: number) => {
    const s = sums.get(agent) ?? { calls: 0, input: 0, output: 0 }
    s.calls += 1
    s.input += input
    s.output += output
    sums.set(agent, s)
  }
  let pending: Array<{ input: number; output: number }> = []
  let inReceive = false
  let current: { input: number; output: number } | null = null
  let assistant = ''
  for (const line of text.split(/\r?\n/)) {
    const header = HEADER.exec(line)
    if (header) {
      const rest = header[1]!
      if (current) pending.push(current)
      current = null
      inReceive = rest.trim() === '**[OpenAI_Usage_Info Receive]**'
      if (inReceive) current = { input: 0, output: 0 }
      const utterance = UTTERANCE.exec(rest)
      if (utterance) {
        for (const p of pending) add(utterance[1]!, p.input, p.output)
        pending = []
      }
      continue
    }
    const row = ASSISTANT_ROW.exec(line.trim())
    if (row) assistant = row[1]!
    if (inReceive && current) {
      const m = /^\s*(prompt|completion)_tokens:\s*(\d+)/.exec(line)
      if (m) current[m[1] === 'prompt' ? 'input' : 'output'] = Number(m[2])
    }
  }
  if (current) pending.push(current)
  for (const p of pending) add(assistant, p.input, p.output)
  return sums
}

/** Every `.log` under `dir`/chatdev, by path relative to `dir`, with its per-agent sums. */
export function scanChatDevFolder(dir: string): Map<string, Map<string, TokenSums>> {
  const out = new Map<string, Map<string, TokenSums>>()
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name)
      if (statSync(p).isDirectory()) walk(p)
      else if (name.endsWith('.log')) out.set(relative(dir, p).split('\\').join('/'), scanChatDevLog(readFileSync(p, 'utf8')))
    }
  }
  walk(join(dir, 'chatdev'))
  return out
}
