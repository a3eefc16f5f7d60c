/**
 * The live page (`GET /live`) in a real browser against the real pipeline: the enrichment app
 * and the gateway run as processes on fresh topics; playwright-core drives Debian's Chromium
 * (/usr/bin/chromium, installed by scripts/test.sh when missing) to the page, which first shows
 * the protocol's 4401 for a forged token, then signs in with a real token (jose, HS256) and
 * subscribes; recorded ChatDev runs are then replayed into the input topic. The page must show
 * live events, a non-zero cost for 'Programmer' and collaboration edges with counts. A
 * screenshot goes to test/artifacts/live-page.png.
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { publishRuns } from '../../scripts/sources/publish.ts'
import { loadTraceRuns } from '../../scripts/sources/trace-files.ts'
import type { AppProcess } from '../helpers/processes.ts'
import { useRunningApp } from '../helpers/running-app.ts'
import { hs256Token, startStreamGateway } from '../helpers/stream-gateway.ts'
import { requirePath, requireRecordedRuns } from '../helpers/required-data.ts'
import { waitUntil } from '../helpers/wait-until.ts'

const ROOT = join(import.meta.dirname, '..', '..')
const TRACES = join(ROOT, '..', 'shared', 'data', 'agent-traces')
const CHROMIUM = '/usr/bin/chromium'
const SCREENSHOT = join(ROOT, 'test', 'artifacts', 'live-page.png')
const SECRET = randomBytes(32).toString('base64')

requirePath(CHROMIUM, "Debian's Chromium", 'scripts/test.sh installs it with apt-get as root')
requireRecordedRuns(TRACES)

const token = (sub: string, roles: string[], secret = SECRET) => hs256Token(secret, sub, roles)

describe('live page /live in Chromium', () => {
  const pipeline = useRunningApp('enrichment')
  let gateway: AppProcess
  let browser: Browser

  beforeAll(async () => {
    gateway = await startStreamGateway(pipeline.kafka.prefix, SECRET)
    // playwright starts Chromium with a new empty --user-data-dir of its own (it refuses the flag).
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
  })

  afterAll(async () => {
    await browser?.close()
    gateway?.kill('SIGTERM')
    await gateway?.exited
  })

  it('serves the page and its assets without auth', async () => {
    const page = await fetch(`http://${gateway.address}/live`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toContain('text/html')
    const html = await page.text()
    expect(html).toContain('/live/live.js')
    expect(html).not.toMatch(/https?:\/\//) // nothing from a CDN
    const js = await fetch(`http://${gateway.address}/live/live.js`)
    expect(js.headers.get('content-type')).toContain('javascript')
    expect((await fetch(`http://${gateway.address}/live/live.css`)).status).toBe(200)
  })

  it('signs in, subscribes and shows a ChatDev replay live: events, per-agent cost, graph', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } })
    const consoleErrors: string[] = []
    page.on('pageerror', (err) => consoleErrors.push(err.message))
    await page.goto(`http://${gateway.address}/live`)
    await expect.poll(() => page.getAttribute('#state', 'data-state')).toBe('disconnected')

    // A forged token: the protocol's close 4401 is shown.
    await page.fill('#token', await token('ops', ['operator'], randomBytes(32).toString('base64')))
    await page.click('#connect')
    await page.waitForSelector('#state[data-state="closed"]', { timeout: 20_000 })
    expect(await page.textContent('#errors')).toContain('4401')

    await page.fill('#token', await token('ops', ['operator']))
    await page.click('#connect')
    await page.waitForSelector('#state[data-state="live"]', { timeout: 20_000 })
    expect(await page.inputValue('#token')).toBe('') // the token is hidden once connected

    const found = loadTraceRuns(TRACES)
    const runs = found.runs.filter((r) => r.kind === 'chatdev')
    expect(runs.length).toBeGreaterThan(0)
    const k = pipeline.kafka
    // The fan-out reads from the latest offsets once it joined its group: replay until the page shows events.
    let sent = 0
    await waitUntil('the page to show an event', async () => {
      if ((await page.locator('#events li').count()) > 0) return true
      sent += await publishRuns(runs, { producer: k.producer, serde: k.serde, topic: k.topics.agentEvents, speed: 'max' })
      await page.waitForSelector('#events li', { timeout: 10_000 }).catch(() => undefined)
      return (await page.locator('#events li').count()) > 0
    }, { timeoutMs: 90_000, everyMs: 0 }).catch((err: unknown) => {
      throw new Error(`the page showed no event after ${sent} events produced (${(err as Error).message}):\n${gateway.output().slice(-3000)}`)
    })

    const programmerCost = page.locator('#agent-table tr[data-agent="Programmer"] td.cost')
    await expect.poll(async () => Number(await programmerCost.textContent().catch(() => '0')), { timeout: 60_000 }).toBeGreaterThan(0)
    await expect.poll(() => page.locator('#graph .edge-group').count(), { timeout: 30_000 }).toBeGreaterThan(0)
    const counts = await page.locator('#graph .edge-group').evaluateAll((gs) => gs.map((g) => Number(g.getAttribute('data-count'))))
    expect(Math.max(...counts)).toBeGreaterThanOrEqual(1)
    expect(await page.locator('#graph .edge-label').first().textContent()).toMatch(/^\d+$/)
    expect(await page.locator('#events li').count()).toBeLessThanOrEqual(200)
    expect(Number(await page.textContent('#total-cost'))).toBeGreaterThan(0)
    // rate-limit retries are failed attempts, not calls; the detail says so
    await expect.poll(async () => Number((await page.textContent('#total-failed'))?.replaceAll(',', '')), { timeout: 30_000 }).toBeGreaterThan(0)
    // newest first by event time within the page (the full ISO time is the time cell's title;
    // the cell shows the time of day, and recorded runs span several days)
    const times = await page.locator('#events li span.time').evaluateAll((spans) => spans.map((s) => s.getAttribute('title') ?? ''))
    expect(times.every((t) => /^\d{4}-\d{2}-\d{2}T/.test(t))).toBe(true)
    expect(times).toEqual([...times].sort().reverse())
    // agent names are readable: 'Chief Technology Officer' is not cut
    const names = page.locator('#events li span.agent')
    const clipped = await names.evaluateAll((spans) => spans.filter((s) => s.textContent!.length <= 24 && s.scrollWidth > s.clientWidth).map((s) => s.textContent))
    expect(clipped).toEqual([])

    // For the picture: the event list unchanged over half a second (the replay's batches arrived), else as it is after 15 s.
    let before = ''
    await waitUntil('the event list to settle', async () => before === (before = await page.locator('#events').innerHTML()), { timeoutMs: 15_000, everyMs: 500 }).catch(() => undefined)
    mkdirSync(join(ROOT, 'test', 'artifacts'), { recursive: true })
    await page.screenshot({ path: SCREENSHOT, fullPage: true })
    expect(consoleErrors).toEqual([])
    await page.close()
  })
})
