/**
 * `auren query` and `auren archive …` as a user runs them (child processes), on a bucket and
 * schema of the test's own.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventRow } from '../../processors/archival/archive-row.ts'
import { createArchiveWriter } from '../../processors/archival/io/archive-writer.ts'
import { archivalEnv, createArchiveTestEnv, enrichedEvent, type ArchiveTestEnv } from '../helpers/archive.ts'

const run = promisify(execFile)
let env: ArchiveTestEnv
const BASE_US = Date.parse('2026-11-29T10:00:00Z') * 1000

async function auren(...args: string[]): Promise<string> {
  const { stdout } = await run('npx', ['tsx', 'scripts/auren.ts', ...args], { env: { ...process.env, ...archivalEnv(env) }, cwd: new URL('../..', import.meta.url).pathname })
  return stdout
}

beforeAll(async () => {
  env = await createArchiveTestEnv()
  const writer = createArchiveWriter({ pool: env.pool, store: env.store })
  const events = [
    ...Array.from({ length: 4 }, (_, i) => enrichedEvent({ tier: 'critical', agent: 'sleep', cost: 0.25, timestampUs: BASE_US + i })),
    ...Array.from({ length: 6 }, (_, i) => enrichedEvent({ tier: 'analytical', agent: 'recovery', cost: 0.5, timestampUs: BASE_US + i })),
  ]
  await writer.flush('auren.agent-events.enriched.v1', 0, events.map((e, i) => ({ value: { row: eventRow(e) }, offset: String(i) })))
})
afterAll(async () => {
  await env?.drop()
})

describe('auren query / archive', () => {
  it('answers SQL over the events view of the archive', async () => {
    const out = await auren('query', '--json', 'SELECT tier, agent_id, count(*)::INT AS events, sum(cost_usd) AS usd, min(hour) AS hour FROM events GROUP BY ALL ORDER BY tier')
    expect(JSON.parse(out)).toEqual([
      { tier: 'analytical', agent_id: 'recovery', events: 6, usd: 3, hour: 10 },
      { tier: 'critical', agent_id: 'sleep', events: 4, usd: 1, hour: 10 },
    ])
    const table = await auren('query', 'SELECT count(*) AS n FROM events')
    expect(table).toMatch(/^n\s*\n-+\s*\n10\s*\n\(1 rows; archive of 2 objects\)/m)
  })

  it('lists archived ranges, and a dry-run sweep with a short retention names only that tier', async () => {
    expect(await auren('archive', 'ranges')).toMatch(/auren\.agent-events\.enriched\.v1\s+0\s+0\s+10\s+10/)
    const out = await run('npx', ['tsx', 'scripts/auren.ts', 'archive', 'sweep', '--dry-run'], {
      env: { ...process.env, ...archivalEnv(env), AUREN_ARCHIVAL_RETENTION_ANALYTICAL_MS: '3600000', AUREN_ARCHIVAL_RETENTION_CRITICAL_MS: String(3650 * 86_400_000) },
      cwd: new URL('../..', import.meta.url).pathname,
    })
    expect(out.stdout).toMatch(/would delete events\/date=2026-11-29\/hour=10\/tier=analytical\/.*\(retention, \d+ bytes\)\n1 objects would be deleted/)
    expect((await env.store.list('events/')).length).toBe(2)
  })
})
