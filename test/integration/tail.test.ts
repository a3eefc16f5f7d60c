/**
 * `auren tail` against the real pipeline: the enrichment app and the gateway run as processes on
 * fresh topics; `auren tail` runs as a child process (as a user runs it) with a real signed token
 * (jose, HS256); AgentEvents are produced to the input topic and the lines it prints are checked
 * against its filters. A bad token makes it exit non-zero with the close code and its meaning.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import type { AgentEvent } from '../../schemas/index.ts'
import { agentEvent } from '../helpers/aggregation-events.ts'
import { llmCallEvent } from '../helpers/events.ts'
import type { AppProcess } from '../helpers/processes.ts'
import { useRunningApp } from '../helpers/running-app.ts'
import { hs256Token, startStreamGateway } from '../helpers/stream-gateway.ts'
import { waitUntil } from '../helpers/wait-until.ts'

const ROOT = join(import.meta.dirname, '..', '..')
const SECRET = randomBytes(32).toString('base64')

const token = (sub: string, roles: string[], secret = SECRET) => hs256Token(secret, sub, roles)

function llm(agent: string, o: { failed?: boolean; trace?: string; model?: string } = {}): AgentEvent {
  const e = llmCallEvent({ agent, userId: 'u1', ...(o.trace ? { trace: o.trace } : {}), ...(o.model ? { model: o.model } : {}) })
  return { ...e, payload: { ...e.payload, success: !o.failed, error_type: o.failed ? 'timeout' : null } }
}

function knowledge(agent: string, trace = `t-${randomUUID()}`): AgentEvent {
  return agentEvent('knowledge_access', { knowledge_item_id: 'k1', domain: null, access_type: 'read', items_retrieved: 1, found: true }, { id: randomUUID(), timestampUs: Date.now() * 1000, agent, user: 'u1', trace })
}

/** A WebSocket client of the stream with one subscription; collects the event ids delivered to it. */
async function streamClient(url: string, filters: Record<string, unknown>): Promise<{ ids: string[]; ws: WebSocket }> {
  const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${await token('ops', ['operator'])}` } })
  const ids: string[] = []
  let subscribed = false
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString()) as { type: string; event?: { event_id: string }; events?: { event_id: string }[] }
    if (m.type === 'welcome') ws.send(JSON.stringify({ type: 'subscribe', channels: ['events'], filters }))
    if (m.type === 'subscribed') subscribed = true
    if (m.type === 'event') ids.push(m.event!.event_id)
    if (m.type === 'batch') ids.push(...m.events!.map((e) => e.event_id))
  })
  await waitUntil('a stream subscription', () => subscribed, { timeoutMs: 20_000 })
  return { ids, ws }
}

/** `auren tail …` as a child process, its output collected. */
class Tail {
  stdout = ''
  stderr = ''
  readonly child: ChildProcess
  readonly exited: Promise<number | string>
  constructor(args: string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'auren.ts'), 'tail', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    this.child.stdout?.on('data', (d: Buffer) => (this.stdout += d.toString()))
    this.child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()))
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)))
  }
  lines(): string[] {
    return this.stdout.split('\n').filter((l) => l.length > 0)
  }
  async waitFor(pred: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    await waitUntil(`auren tail: ${what}`, pred, { timeoutMs, everyMs: 50, describe: () => `\nstdout: ${this.stdout.slice(-2000)}\nstderr: ${this.stderr.slice(-2000)}` })
  }
}

describe('auren tail', () => {
  const pipeline = useRunningApp('enrichment')
  let gateway: AppProcess
  let url: string
  const tails: Tail[] = []

  beforeAll(async () => {
    gateway = await startStreamGateway(pipeline.kafka.prefix, SECRET)
    url = `ws://${gateway.address}/v1/stream`
    // The fan-out starts at the latest offsets once it joined its group: produce probes until one arrives.
    const probe = await streamClient(url, { agent_ids: ['probe'] })
    await waitUntil('a probe event delivered by the stream', async () => {
      await pipeline.kafka.produceEvents([llm('probe', { failed: true })])
      return waitUntil('the probe', () => probe.ids.length > 0, { timeoutMs: 1_000 })
    }, { timeoutMs: 60_000 }).catch((err: unknown) => {
      throw new Error(`stream never delivered (${(err as Error).message}):\n${gateway.output().slice(-4000)}`)
    })
    probe.ws.terminate()
  })

  afterAll(async () => {
    for (const t of tails) t.child.kill('SIGKILL')
    gateway?.kill('SIGTERM')
    await gateway?.exited
  })

  it('prints the events its filters select, one JSON line each, and exits 0 on Ctrl-C', async () => {
    const env = { AUREN_TOKEN: await token('ops', ['operator']) }
    const json = new Tail(['--url', url, '--json', '--channels', 'events', '--agents', 'agent-a', '--event-types', 'llm_call_completed'], env)
    const human = new Tail(['--url', url, '--channels', 'llm_usage', '--tiers', 'critical'], env)
    tails.push(json, human)
    await json.waitFor(() => json.stderr.includes('subscribed'), 'subscription')
    await human.waitFor(() => human.stderr.includes('subscribed'), 'subscription')

    // One trace: the case and the first sentinel share a partition, so they reach the gateway in this order.
    const trace = `t-${randomUUID()}`
    const a1 = llm('agent-a', { trace })
    const b1 = llm('agent-b', { trace })
    const k1 = knowledge('agent-a', trace)
    const aFail = llm('agent-a', { failed: true, trace })
    await pipeline.kafka.produceEvents([a1, b1, k1, aFail])
    const sentinel = llm('agent-a', { trace })
    await pipeline.kafka.produceEvents([sentinel])
    await json.waitFor(() => json.stdout.includes(sentinel.event_id), 'sentinel event')
    await json.waitFor(() => json.stdout.includes(a1.event_id) && json.stdout.includes(aFail.event_id), 'the selected events')
    await human.waitFor(() => human.stdout.includes('agent-a'), 'critical event')
    // Absence, proven by sentinels rather than by waiting. The sentinel above shows every case event reached the
    // gateway; the tails' filters admit no analytical event (and the human one only critical ones), so a witness
    // connection takes an analytical sentinel produced now: its batch's deadline (its enrichment time + 450 ms) is
    // later than that of any batch holding a case event (its arrival + at most 450 ms), and the gateway fires its
    // flush timers in deadline order. A critical sentinel produced after the witness got it is written to each
    // tail's connection after any case event that tail wrongly took.
    const witness = await streamClient(url, { agent_ids: ['witness'] })
    const late = knowledge('witness')
    await pipeline.kafka.produceEvents([late])
    await waitUntil('the analytical sentinel on the witness connection', () => witness.ids.includes(late.event_id), { timeoutMs: 30_000 })
    witness.ws.terminate()
    const last = llm('agent-a', { failed: true, model: 'gpt-4o-mini' })
    await pipeline.kafka.produceEvents([last])
    await json.waitFor(() => json.stdout.includes(last.event_id), 'last sentinel')
    await human.waitFor(() => human.stdout.includes('gpt-4o-mini'), 'last sentinel')

    const events = json.lines().map((l) => JSON.parse(l) as { event_id: string; event_type: string; source_agent: { id: string }; tier: string; cost_usd: number | null })
    expect(events.map((e) => e.event_id).sort()).toEqual([a1.event_id, aFail.event_id, sentinel.event_id, last.event_id].sort())
    for (const e of events) expect(e).toMatchObject({ event_type: 'llm_call_completed', source_agent: { id: 'agent-a' } })
    expect(events.find((e) => e.event_id === a1.event_id)?.tier).toBe('operational')

    // Human lines: only the critical LLM calls (the failed one, then the last sentinel), compact.
    expect(human.lines()).toHaveLength(2)
    expect(human.lines()[0]).toMatch(/^\d{4}-\d\d-\d\dT\S+Z critical\s+llm_call_completed\s+agent-a gpt-4o in=\d+ out=\d+.* error timeout$/)
    expect(human.lines()[1]).toMatch(/^\d{4}-\d\d-\d\dT\S+Z critical\s+llm_call_completed\s+agent-a gpt-4o-mini in=\d+ out=\d+.* error timeout$/)

    json.child.kill('SIGINT')
    human.child.kill('SIGINT')
    expect(await json.exited).toBe(0)
    expect(await human.exited).toBe(0)
  })

  it('exits non-zero with a clear message on a bad token, a refused subscription or no token', async () => {
    const forged = new Tail(['--url', url, '--json'], { AUREN_TOKEN: await token('ops', ['admin'], randomBytes(32).toString('base64')) })
    tails.push(forged)
    expect(await forged.exited).toBe(1)
    expect(forged.stderr).toMatch(/connection closed 4401: .*unauthorized/)
    expect(forged.stdout).toBe('')

    const unknown = new Tail(['--url', url, '--token', await token('ops', ['operator']), '--channels', 'gossip'])
    tails.push(unknown)
    expect(await unknown.exited).toBe(2)
    expect(unknown.stderr).toContain('error UNKNOWN_CHANNEL')

    const none = new Tail(['--url', url], { AUREN_TOKEN: '' })
    tails.push(none)
    expect(await none.exited).toBe(2)
    expect(none.stderr).toContain('no token')
  })
})
