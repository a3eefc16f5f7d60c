/**
 * A processor whose broker does not answer at start keeps running and says why it is not ready
 * (issue 10, defect 5); only AUREN_GIVE_UP_MS ends it; every fatal message is one pino JSON line
 * with the cause (defect 7).
 */
import net from 'node:net'
import { afterAll, describe, expect, it } from 'vitest'
import { startApp, type AppProcess } from '../helpers/processes.ts'
import { uniquePrefix } from '../helpers/kafka.ts'
import { waitUntil } from '../helpers/wait-until.ts'

/** A 127.0.0.1 port nothing listens on (connections refused). */
async function closedPort(): Promise<number> {
  const server = net.createServer()
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)))
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** The last JSON line of the output at level fatal (60), parsed. */
function fatalLine(output: string): { level: number; msg: string; err?: { message?: string } } | undefined {
  const lines = output.split('\n').filter((l) => l.startsWith('{'))
  const fatal = lines.map((l) => JSON.parse(l) as { level: number; msg: string; err?: { message?: string } }).filter((l) => l.level === 60)
  return fatal.at(-1)
}

describe('processor start with the broker unreachable', () => {
  const apps: AppProcess[] = []
  afterAll(async () => {
    for (const a of apps) if (a.alive()) a.kill('SIGKILL')
    await Promise.all(apps.map((a) => a.exited))
  })

  it('keeps running, not ready with the reason, and exits 0 on SIGTERM', { timeout: 120_000 }, async () => {
    const app = await startApp('enrichment', uniquePrefix(), { AUREN_KAFKA_BROKERS: `127.0.0.1:${await closedPort()}` })
    apps.push(app)
    let body: { status?: string; reason?: string } = {}
    const statuses = new Set<number>()
    await waitUntil('/readyz 503 naming the refused connection', async () => {
      if (!app.alive()) return true // asserted below with the output
      const res = await fetch(`http://${app.address}/readyz`).catch(() => undefined)
      if (!res) return false
      statuses.add(res.status)
      body = (await res.json()) as typeof body
      return /ECONNREFUSED|Connection error/i.test(body.reason ?? '') && app.output().includes('start failed, retrying with backoff')
    }, { timeoutMs: 90_000, everyMs: 250 })
    expect(app.alive(), app.output()).toBe(true)
    expect([...statuses]).toEqual([503])
    expect(body.reason).toMatch(/ECONNREFUSED|Connection error/i)
    expect(app.output().split('\n').filter((l) => /"level":(50|60)/.test(l))).toEqual([])
    app.kill('SIGTERM')
    expect(await app.exited).toBe(0)
  })

  it('gives up after AUREN_GIVE_UP_MS with one fatal JSON line naming the cause', { timeout: 120_000 }, async () => {
    const app = await startApp('enrichment', uniquePrefix(), { AUREN_KAFKA_BROKERS: `127.0.0.1:${await closedPort()}`, AUREN_GIVE_UP_MS: '2000' })
    apps.push(app)
    expect(await app.exited).toBe(1)
    const fatal = fatalLine(app.output())
    expect(fatal?.err?.message, app.output()).toMatch(/ECONNREFUSED|Connection error|connect/i)
  })

  it('reports invalid configuration as one fatal JSON line listing every problem', { timeout: 60_000 }, async () => {
    const app = await startApp('aggregation', uniquePrefix(), { AUREN_DATABASE_URL: 'mysql://nope', AUREN_HTTP_PORT: 'x' })
    apps.push(app)
    expect(await app.exited).toBe(1)
    const fatal = fatalLine(app.output())
    expect(fatal?.err?.message, app.output()).toMatch(/AUREN_ERR_CONFIG/)
    expect(fatal?.err?.message).toMatch(/AUREN_DATABASE_URL/)
    expect(fatal?.err?.message).toMatch(/AUREN_HTTP_PORT/)
    expect(app.output()).not.toMatch(/^invalid/m) // no bare console line
  })
})
