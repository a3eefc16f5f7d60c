/**
 * The rollup tables contract (schemas/rollup-tables.ts) against real PostgreSQL:
 * - the aggregation migrations create exactly the declared tables, columns, types and primary
 *   keys, and the rename migration keeps rows written under the old `agg_*_minute` names;
 * - the gateway answers every REST route from a schema built from the contract alone (no
 *   migrations), so a query naming a table or column the contract does not declare fails here;
 * - the window size aggregation stores is what the gateway reports and groups by: a 30 s
 *   aggregation gives `rollup_window_ms` 30000 and a `window=rollup` timeline 30 s apart, and an
 *   aggregation configured with another size is refused on that schema.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { SignJWT } from 'jose'
import pg from 'pg'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { contractColumns, ROLLUP_TABLES, RT, type AdditiveTableSpec } from '../../schemas/rollup-tables.ts'
import { ALERT_TABLES } from '../../schemas/alert-tables.ts'
import { MIGRATION_LOCK_ID, MIGRATIONS_DIR, MIGRATIONS_TABLE, runMigrations } from '../../processors/aggregation/migrate.ts'
import { applySqlMigrations } from '../../processors/runtime/sinks/sql-migrations.ts'
import { toRollupDelta } from '../../processors/aggregation/transform.ts'
import { buildGateway } from '../../gateway/app.ts'
import { createAuthenticator } from '../../gateway/auth.ts'
import { DEFAULT_API_CONFIG } from '../../gateway/config.ts'
import { DATASET_NAMES } from '../../gateway/queries/export.ts'
import { API_ROUTES } from '../../gateway/routes.ts'
import { createTestDb, type TestDb } from '../helpers/aggregation-db.ts'
import { agentEvent, enriched, llmPayload } from '../helpers/aggregation-events.ts'
import { stackEnv } from '../helpers/stack.ts'

const url = () => stackEnv().databaseUrl
const schemaName = (p: string) => `${p}_${randomUUID().replace(/-/g, '').slice(0, 12)}`
const T0_MS = Date.parse('2026-03-02T10:00:00Z')
const secret = randomBytes(48).toString('base64url')
const operatorToken = () =>
  new SignJWT({ roles: ['operator'] }).setProtectedHeader({ alg: 'HS256' }).setSubject('ops-1').setIssuedAt().setExpirationTime('10m').sign(new TextEncoder().encode(secret))

async function withClient<T>(schema: string | null, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url(), ...(schema ? { options: `-c search_path=${schema}` } : {}) })
  await c.connect()
  try {
    return await work(c)
  } finally {
    await c.end()
  }
}
const dropSchema = (schema: string) => withClient(null, (c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`))

function gatewayOn(schema: string): { app: FastifyInstance; pool: pg.Pool } {
  const pool = new pg.Pool({ connectionString: url(), max: 4, options: `-c search_path=${schema}` })
  pool.on('error', () => {})
  const app = buildGateway({ db: pool, auth: createAuthenticator({ mode: 'hs256', secret, clockToleranceS: 0 }), registry: new Registry(), api: DEFAULT_API_CONFIG })
  return { app, pool }
}

describe('the aggregation migrations create the contract tables', () => {
  const schemas: string[] = []
  afterAll(async () => {
    for (const s of schemas) await dropSchema(s)
  })

  it('every declared table with exactly its columns, types and primary key', async () => {
    const schema = schemaName('rt_m')
    schemas.push(schema)
    await runMigrations(url(), { schema })
    const contract = contractColumns()
    const found = await withClient(null, async (c) => {
      const cols = await c.query<{ table_name: string; column_name: string; data_type: string; numeric_precision: number | null; numeric_scale: number | null }>(
        'SELECT table_name, column_name, data_type, numeric_precision, numeric_scale FROM information_schema.columns WHERE table_schema = $1', [schema])
      const pks = await c.query<{ table_name: string; cols: string[] }>(
        'SELECT tc.table_name, array_agg(k.column_name::text ORDER BY k.ordinal_position) AS cols FROM information_schema.table_constraints tc ' +
        'JOIN information_schema.key_column_usage k ON k.constraint_name = tc.constraint_name AND k.table_schema = tc.table_schema ' +
        "WHERE tc.table_schema = $1 AND tc.constraint_type = 'PRIMARY KEY' GROUP BY tc.table_name", [schema])
      return { cols: cols.rows, pks: new Map(pks.rows.map((r) => [r.table_name, r.cols])) }
    })
    for (const [table, columns] of Object.entries(contract)) {
      const got = Object.fromEntries(found.cols.filter((r) => r.table_name === table).map((r) => [r.column_name, r.data_type]))
      expect(got, table).toEqual(columns)
    }
    for (const spec of Object.values(ROLLUP_TABLES) as AdditiveTableSpec[]) {
      expect(found.pks.get(spec.table), spec.table).toEqual(spec.keys)
      for (const [c, kind] of Object.entries(spec.counters)) {
        const col = found.cols.find((r) => r.table_name === spec.table && r.column_name === c)!
        if (kind === 'dec') expect([col.numeric_precision, col.numeric_scale], `${spec.table}.${c}`).toEqual([38, 18])
      }
    }
    // no rollup table left under a name that claims one window size
    const names = new Set(found.cols.map((r) => r.table_name))
    expect([...names].filter((t) => /_minute$/.test(t))).toEqual([])
    for (const t of Object.values(RT)) expect(names.has(t), t).toBe(true)
  })

  it('the rename migration keeps the rows of a schema migrated before it; no window size is recorded before aggregation writes', async () => {
    const schema = schemaName('rt_u')
    schemas.push(schema)
    const files = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).sort()
    const older = mkdtempSync(join(tmpdir(), 'agg-migrations-'))
    try {
      for (const f of files.filter((f) => f < '1767571200000')) cpSync(join(MIGRATIONS_DIR, f), join(older, f))
      await applySqlMigrations(url(), { dir: older, table: MIGRATIONS_TABLE, lockId: MIGRATION_LOCK_ID }, schema)
    } finally {
      rmSync(older, { recursive: true, force: true })
    }
    await withClient(schema, (c) => c.query("INSERT INTO agg_agent_minute (window_start_us, agent_id, events) VALUES ($1, 'sleep', 7)", [T0_MS * 1000]))
    expect(await runMigrations(url(), { schema })).toEqual(['1767571200000_window-named-rollups'])
    const rows = await withClient(schema, async (c) => ({
      agent: (await c.query(`SELECT agent_id, events::int FROM ${RT.agent}`)).rows,
      window: (await c.query(`SELECT window_ms FROM ${RT.rollup_window}`)).rows,
    }))
    expect(rows).toEqual({ agent: [{ agent_id: 'sleep', events: 7 }], window: [] })
  })
})

describe('the gateway reads only what the contract declares', () => {
  const schema = schemaName('rt_c')
  let gw: { app: FastifyInstance; pool: pg.Pool }

  beforeAll(async () => {
    // Tables from the contract alone: a gateway query naming anything else fails with 500.
    const w = T0_MS * 1000
    const valueOf = (table: string, column: string, type: string): string => {
      if (column === 'window_start_us' || column.endsWith('_seen_us') || column === 'status_time_us') return String(w)
      if (table === RT.rollup_window) return column === 'window_ms' ? '60000' : column === 'single' ? 'true' : 'now()'
      if (column === 'bucket') return '10'
      switch (type) {
        case 'bigint': case 'integer': case 'numeric': return '3'
        case 'uuid': return `'${randomUUID()}'`
        case 'boolean': return 'true'
        case 'jsonb': return "'{}'"
        case 'timestamp with time zone': return column === 'published_at' ? 'NULL' : 'now()'
        default: return column === 'metric' ? "'collaboration_resolution'" : column === 'status' ? "'validated'" : column === 'kind' ? "'collaboration'" : "'agent-a'"
      }
    }
    await withClient(null, async (c) => {
      await c.query(`CREATE SCHEMA ${schema}`)
      for (const [table, columns] of Object.entries(contractColumns())) {
        await c.query(`CREATE TABLE ${schema}.${table} (${Object.entries(columns).map(([n, t]) => `"${n}" ${t}`).join(', ')})`)
        await c.query(`INSERT INTO ${schema}.${table} (${Object.keys(columns).map((n) => `"${n}"`).join(', ')}) VALUES (${Object.entries(columns).map(([n, t]) => valueOf(table, n, t)).join(', ')})`)
      }
      for (const metric of ['execution', 'llm', 'memory_tier']) {
        await c.query(`INSERT INTO ${schema}.${RT.histogram} (window_start_us, metric, agent_id, dim, bucket, count) VALUES ($1, $2, 'agent-a', 'agent-a', 10, 3)`, [w, metric])
      }
      // The alert tables from their contract (schemas/alert-tables.ts), a firing and a resolved Alert in them.
      for (const { table, columns } of Object.values(ALERT_TABLES)) {
        await c.query(`CREATE TABLE ${schema}.${table} (${Object.entries(columns).map(([n, t]) => `"${n}" ${t === 'bigint' ? 'bigserial' : t}`).join(', ')})`)
      }
      const alert = (status: 'firing' | 'resolved') => JSON.stringify({
        fingerprint: 'fp-1', rule: 'r', severity: 'warning', status, labels: { agent: 'agent-a' }, annotations: { summary: 's', description: '', runbook: null },
        value: 1, threshold: 1, starts_at: w, ends_at: status === 'resolved' ? w + 60_000_000 : null, source_window: null,
      })
      await c.query(`INSERT INTO ${schema}.${ALERT_TABLES.active.table} (fingerprint, payload, updated_at) VALUES ('fp-1', $1, now())`, [alert('firing')])
      await c.query(`INSERT INTO ${schema}.${ALERT_TABLES.changes.table} (fingerprint, payload, created_at) VALUES ('fp-1', $1, now()), ('fp-1', $2, now())`, [alert('firing'), alert('resolved')])
    })
    gw = gatewayOn(schema)
    await gw.app.ready()
  })
  afterAll(async () => {
    await gw?.app.close()
    await gw?.pool.end()
    await dropSchema(schema)
  })

  it('every REST route answers 200 with data in every table', async () => {
    const token = await operatorToken()
    const range = `from=${new Date(T0_MS - 3_600_000).toISOString()}&to=${new Date(T0_MS + 3_600_000).toISOString()}`
    const paths = API_ROUTES.flatMap((r) => r.path === 'export/analytics'
      ? DATASET_NAMES.flatMap((d) => ['rollup', 'minute'].map((win) => `${r.path}?${range}&dataset=${d}&window=${win}&format=json`))
      : [`${r.path}?${range}`])
    paths.push(`overview?${range}&window=rollup`, `overview?${range}&user_id=agent-a`, `costs?${range}&group_by=model`, `costs?${range}&group_by=user`, `costs?${range}&group_by=hour`)
    expect(paths.length).toBeGreaterThan(API_ROUTES.length)
    for (const p of paths) {
      const res = await gw.app.inject({ method: 'GET', url: `/api/v2/${p}`, headers: { authorization: `Bearer ${token}` } })
      expect(res.statusCode, `${p}: ${res.body.slice(0, 300)}`).toBe(200)
    }
  })
})

describe('the window size is stored with the rollups and the gateway reads it', () => {
  let db: TestDb
  let gw: { app: FastifyInstance; pool: pg.Pool }
  const WINDOW_MS = 30_000
  // 40 answered LLM calls 7 s apart from T0: five minutes, so both halves of each minute hold calls
  const events = Array.from({ length: 40 }, (_, i) =>
    enriched(agentEvent('llm_call_completed', llmPayload(), { id: randomUUID(), timestampUs: (T0_MS + i * 7_000) * 1000, agent: i % 2 === 0 ? 'sleep' : 'recovery', trace: `t-${i}` })))
  const expected = new Map<number, number>()
  for (const e of events) {
    const start = e.event.timestamp - (e.event.timestamp % (WINDOW_MS * 1000))
    expected.set(start, (expected.get(start) ?? 0) + 1)
  }

  beforeAll(async () => {
    db = await createTestDb()
    const sink = db.sink({ windowMs: WINDOW_MS, allowedLatenessMs: 0 })
    const records = events.map((e, i) => ({ value: toRollupDelta(e, WINDOW_MS), partition: 0, offset: String(i) }))
    await sink.writeBatch(records, { groupId: 'g', topic: 'in', partition: 0, nextOffset: String(records.length) })
    gw = gatewayOn(db.schema)
    await gw.app.ready()
  })
  afterAll(async () => {
    await gw?.app.close()
    await gw?.pool.end()
    await db?.drop()
  })

  const get = async (path: string) => {
    const res = await gw.app.inject({ method: 'GET', url: `/api/v2/${path}`, headers: { authorization: `Bearer ${await operatorToken()}` } })
    expect(res.statusCode, res.body).toBe(200)
    return res.json()
  }
  const range = `from=${new Date(T0_MS).toISOString()}&to=${new Date(T0_MS + 300_000).toISOString()}`

  it('a 30 s aggregation: the overview reports rollup_window_ms 30000 and a window=rollup timeline 30 s apart with each window\'s calls', async () => {
    const body = await get(`overview?${range}&window=rollup`)
    expect(body.rollup_window_ms).toBe(WINDOW_MS)
    const starts = (body.timeline as { start: string }[]).map((p) => Date.parse(p.start))
    expect(starts).toHaveLength(10)
    expect(starts.slice(1).map((s, i) => s - starts[i]!)).toEqual(Array(9).fill(WINDOW_MS))
    const got = new Map((body.timeline as { start: string; llm_calls: number }[]).map((p) => [Date.parse(p.start) * 1000, p.llm_calls]))
    expect(got).toEqual(expected)
    expect(body.totals.llm_calls).toBe(events.length)
    // a fixed window still groups by UTC minute
    const minutes = await get(`overview?${range}&window=minute`)
    expect(minutes.rollup_window_ms).toBe(WINDOW_MS)
    expect(minutes.timeline).toHaveLength(5)
  })

  it('projections step by the stored window: basis.window_ms 30000, two basis windows per minute', async () => {
    const body = await get(`analytics/projections?${range}&basis_minutes=5`)
    expect(body.basis.window_ms).toBe(WINDOW_MS)
    expect(body.basis.windows).toBe(10)
    expect(body.basis.windows_with_tokens).toBe(10)
    expect(body.basis.llm_calls).toBe(events.length)
  })

  it('an aggregation configured with another window size is refused on the schema and writes nothing', async () => {
    const other = db.sink({ windowMs: 60_000 })
    const e = enriched(agentEvent('llm_call_completed', llmPayload(), { id: randomUUID(), timestampUs: (T0_MS + 1_000) * 1000, agent: 'sleep' }))
    await expect(other.writeBatch([{ value: toRollupDelta(e, 60_000), partition: 1, offset: '0' }], { groupId: 'g', topic: 'in', partition: 1, nextOffset: '1' }))
      .rejects.toMatchObject({ code: 'AUREN_ERR_CONFIG', retriable: false })
    const pool = db.pool(1)
    const stored = await pool.query(`SELECT window_ms::int AS w FROM ${RT.rollup_window}`)
    const seen = await pool.query('SELECT count(*)::int AS n FROM agg_seen_events WHERE event_id = $1', [e.event.event_id])
    expect([stored.rows, seen.rows[0].n]).toEqual([[{ w: WINDOW_MS }], 0])
  })
})
