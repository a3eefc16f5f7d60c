/**
 * A local OpenAI-compatible chat completions endpoint (`POST /v1/chat/completions`) standing in
 * for the LLM of the CrewAI example crew (scripts/crewai/crew.py): the far end we cannot reach
 * from a test. It plays a two-turn agent: the first call of a task asks for the agent's tool
 * (native `tool_calls` when the request offers tools, else a ReAct `Action:` text), the call after
 * the tool result gives the final answer. Every answer reports token usage from a fixed rule
 * (prompt = 40 + 3·n, completion = 8 + n for the n-th call, from 0), and the endpoint records per
 * client (the bearer API key, so several crews can share it) and agent (the role named in the
 * system prompt, "You are <role>.") the calls and tokens it reported, which is what a pipeline
 * fed by the crew must count.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** What the fake LLM reported for one agent role: answered calls and tokens. */
export interface ReportedUsage {
  calls: number
  inputTokens: number
  outputTokens: number
}

/** A running fake LLM. */
export interface FakeLlm {
  /** Base URL for an OpenAI client, e.g. `http://127.0.0.1:PORT/v1`. */
  readonly baseUrl: string
  /** What was reported to the client with API key `apiKey`, per agent role (a live map; empty when none). */
  usage(apiKey: string): ReadonlyMap<string, ReportedUsage>
  /** Every request body received (for diagnostics). */
  readonly requests: readonly unknown[]
  close(): Promise<void>
}

interface ChatMessage {
  role: string
  content?: string | null | { type: string; text?: string }[]
}
interface ChatRequest {
  model?: string
  messages?: ChatMessage[]
  tools?: { type: string; function: { name: string } }[]
}

const text = (m: ChatMessage | undefined): string => (typeof m?.content === 'string' ? m.content : Array.isArray(m?.content) ? m.content.map((c) => c.text ?? '').join('') : '')

/** The agent role named in the system prompt ("You are <role>."), else 'unknown'. */
export function roleOf(messages: readonly ChatMessage[]): string {
  for (const m of messages) {
    const hit = /You are ([^.\n]+?)\./.exec(text(m))
    if (hit) return hit[1]!.trim()
  }
  return 'unknown'
}

/** The answer to one request (pure): a tool call first, then a final answer. */
export function answer(req: ChatRequest, n: number): { message: Record<string, unknown>; finish: string; usage: { prompt_tokens: number; completion_tokens: number } } {
  const messages = req.messages ?? []
  const usage = { prompt_tokens: 40 + 3 * n, completion_tokens: 8 + n }
  const toolDone = messages.some((m) => m.role === 'tool') || messages.some((m) => /Observation:/.test(text(m)))
  const toolName = req.tools?.[0]?.function.name ?? /Tool Name: ([\w-]+)/.exec(messages.map(text).join('\n'))?.[1] ?? null
  if (!toolDone && toolName !== null) {
    if (req.tools?.length) {
      return {
        message: { role: 'assistant', content: null, tool_calls: [{ id: `call_${n}`, type: 'function', function: { name: toolName, arguments: JSON.stringify({ item: 'coffee' }) } }] },
        finish: 'tool_calls', usage,
      }
    }
    return { message: { role: 'assistant', content: `Thought: I need the tool.\nAction: ${toolName}\nAction Input: {"item": "coffee"}` }, finish: 'stop', usage }
  }
  return { message: { role: 'assistant', content: `Thought: I now know the final answer\nFinal Answer: done by call ${n}` }, finish: 'stop', usage }
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/** Starts the fake LLM on 127.0.0.1 (a free port unless given). */
export async function startFakeLlm(port = 0): Promise<FakeLlm> {
  const usage = new Map<string, Map<string, ReportedUsage>>()
  const requests: unknown[] = []
  let n = 0
  const server: Server = createServer((req, res) => {
    void body(req).then((raw) => {
      if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }))
        return
      }
      const parsed = JSON.parse(raw) as ChatRequest
      requests.push(parsed)
      const a = answer(parsed, n++)
      const role = roleOf(parsed.messages ?? [])
      const client = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? ''
      const perRole = usage.get(client) ?? new Map<string, ReportedUsage>()
      usage.set(client, perRole)
      const u = perRole.get(role) ?? { calls: 0, inputTokens: 0, outputTokens: 0 }
      u.calls += 1
      u.inputTokens += a.usage.prompt_tokens
      u.outputTokens += a.usage.completion_tokens
      perRole.set(role, u)
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
        id: `chatcmpl-${n}`, object: 'chat.completion', created: Math.floor(Date.now() / 1000), model: parsed.model ?? 'gpt-4o',
        choices: [{ index: 0, message: a.message, finish_reason: a.finish }],
        usage: { ...a.usage, total_tokens: a.usage.prompt_tokens + a.usage.completion_tokens },
      }))
    }, (err: unknown) => res.writeHead(400).end(String(err)))
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const { port: bound } = server.address() as AddressInfo
  return {
    baseUrl: `http://127.0.0.1:${bound}/v1`,
    usage: (apiKey) => usage.get(apiKey) ?? new Map(),
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
