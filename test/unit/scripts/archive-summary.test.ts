/**
 * The demo's archive lines: how many events, in how many objects and bytes, and the answer of its
 * DuckDB query (events and USD per tier and agent), run by a real in-memory DuckDB over an
 * `events` table of the archive's columns.
 */
import { DuckDBInstance } from '@duckdb/node-api'
import { describe, expect, it } from 'vitest'
import { DEMO_ARCHIVE_SQL, renderArchiveSummary } from '../../../scripts/demo/archive-summary.ts'

describe('demo archive summary', () => {
  it('prints events, objects and bytes, and events and USD per tier and agent from the DuckDB query', async () => {
    const db = await (await DuckDBInstance.create(':memory:')).connect()
    try {
      await db.run(`CREATE TABLE events (record_kind VARCHAR, tier VARCHAR, agent_id VARCHAR, cost_usd DOUBLE)`)
      await db.run(`INSERT INTO events VALUES
        ('event', 'critical', 'planner', 0.25), ('event', 'critical', 'planner', 0.5), ('event', 'critical', 'coder', NULL),
        ('event', 'analytical', 'coder', 0.125), ('alert', 'critical', 'planner', NULL)`)
      const rows = (await db.runAndReadAll(DEMO_ARCHIVE_SQL)).getRowObjectsJson()
      const text = renderArchiveSummary({
        bucket: 'auren-demo-x', events: 4, objects: 3, bytes: 12_345,
        by_tier_agent: rows.map((r) => ({ tier: String(r.tier), agent_id: (r.agent_id as string | null) ?? null, events: Number(r.events), usd: r.usd === null ? null : Number(r.usd) })),
      })
      const lines = text.split('\n')
      expect(lines[0]).toBe('archive: 4 events in 3 Parquet objects, 12345 bytes (bucket auren-demo-x, zstd)')
      expect(lines[1]).toBe('DuckDB over the archive: events and USD per tier and agent')
      expect(lines.slice(2).map((l) => l.trim().split(/\s+/))).toEqual([
        ['tier', 'agent', 'events', 'usd'],
        ['----------', '-------', '------', '--------'],
        ['analytical', 'coder', '1', '0.125000'],
        ['critical', 'planner', '2', '0.750000'],
        ['critical', 'coder', '1', 'n/a'], // nothing priced: no USD, not 0
      ])
    } finally {
      db.closeSync()
    }
  })
})
