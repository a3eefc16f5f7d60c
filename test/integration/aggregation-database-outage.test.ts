/**
 * Aggregation and PostgreSQL faults (issue 10, defects 3 and 4), with the real database behind
 * a TCP relay the test controls (so the shared database is never stopped):
 * - started while the database refuses connections, aggregation runs, `/readyz` answers 503
 *   with `database.state: unreachable` and the reason, and it proceeds once the database answers;
 * - its idle connections terminated by the server (`pg_terminate_backend`: SQLSTATE 57P01, as
 *   at a fast shutdown) are logged and discarded, no crash;
 * - every connection cut (ECONNRESET) and new ones refused for a while: batches are retried,
 *   `/readyz` says not ready, and afterwards every event is applied exactly once.
 */
import net from 'node:net'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestKafka, type TestKafka } from '../helpers/kafka.ts'
import { startApp, type AppProcess } from '../helpers/processes.ts'
import { stackEnv } from '../helpers/stack.ts'
import { dropSchema, enrichAll, produceEnriched, schemaForPrefix, schemaPool, simulatedEvents, waitStoredCaughtUp } from '../bench/aggregation-workload.ts'
import { waitUntil } from '../helpers/wait-until.ts'

/** A TCP relay to PostgreSQL that can be closed (connections refused) and can cut its connections. */
async function createRelay(target: { host: string; port: number }) {
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host)
    pairs.add([client, upstream])
    const drop = () => {
      client.destroy()
      upstream.destroy()
    }
    client.on('error', drop).on('close', drop)
    upstream.on('error', drop).on('close', drop)
    client.pipe(upstream).pipe(client)
  })
  const pairs = new Set<[net.Socket, net.Socket]>()
  // A port that refuses connections until open() is called.
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)))
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return {
    port,
    open: () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve())),
    /** Stops accepting and resets every relayed connection. */
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      for (const [a, b] of pairs) {
        a.resetAndDestroy()
        b.destroy()
      }
      pairs.clear()
      await closed
    },
    /** Local ports of the relay's upstream sockets (pg_stat_activity.client_port of the app's backends). */
    upstreamPorts: () => [...pairs].map(([, u]) => u.localPort).filter((p): p is number => p !== undefined),
  }
}

async function readyz(app: AppProcess): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://${app.address}/readyz`)
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

class AppExited extends Error {}

/** `check` polled through the shared waitUntil; ends at once when the app exits. @throws with the app's output */
async function waitForApp(what: string, check: () => Promise<boolean>, timeoutMs: number, app: AppProcess): Promise<void> {
  await waitUntil(what, async () => {
    if (!app.alive()) throw new AppExited(`aggregation exited while waiting for: ${what}`)
    return check()
  }, { timeoutMs, everyMs: 200, stopOn: (err) => err instanceof AppExited }).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}\n${app.output().slice(-4000)}`)
  })
}

describe('aggregation rides out PostgreSQL being down, restarted and cut off', () => {
  let kafka: TestKafka
  let schema = ''
  let app: AppProcess | undefined
  let relay: Awaited<ReturnType<typeof createRelay>> | undefined
  let pool: pg.Pool | undefined
  beforeAll(async () => {
    kafka = await createTestKafka(3)
    schema = schemaForPrefix('db', kafka.prefix)
  })
  afterAll(async () => {
    if (app?.alive()) app.kill('SIGKILL')
    await app?.exited
    await relay?.close().catch(() => undefined)
    await pool?.end().catch(() => undefined)
    if (schema) await dropSchema(schema)
    await kafka?.close()
  })

  it('starts without the database, reports it on /readyz, and applies every event exactly once through faults', { timeout: 300_000 }, async () => {
    const topic = kafka.topics.enrichedEvents
    const url = new URL(stackEnv().databaseUrl)
    relay = await createRelay({ host: url.hostname, port: Number(url.port) })
    const relayed = new URL(url)
    relayed.port = String(relay.port)
    const events = enrichAll(simulatedEvents(1500, 31, (Date.now() - 3_600_000) * 1000), Date.now())
    const third = Math.floor(events.length / 3)
    await produceEnriched(kafka, events.slice(0, third))

    // 1. Database refusing connections at start.
    const running = (app = await startApp('aggregation', kafka.prefix, {
      AUREN_DATABASE_URL: relayed.toString(),
      AUREN_AGGREGATION_DB_SCHEMA: schema,
      AUREN_AGGREGATION_EXPECTED_PARTITIONS: '3',
      AUREN_LOG_LEVEL: 'info',
    }))
    let since = ''
    await waitForApp(
      'readyz 503 with the database unreachable for 12 s',
      async () => {
        const r = await readyz(running)
        const db = r.body.database as { state?: string; reason?: string; since?: string } | undefined
        if (r.status !== 503 || db?.state !== 'unreachable' || !/ECONNREFUSED/.test(db.reason ?? '')) return false
        since = db.since ?? ''
        return Date.now() - Date.parse(since) > 12_000
      },
      60_000,
      running,
    )
    expect(running.alive()).toBe(true)

    // 2. The database answers: migrations, ready, events applied.
    await relay.open()
    await waitForApp('ready', async () => (await readyz(running)).status === 200, 90_000, running)
    expect((await readyz(running)).body.database).toMatchObject({ state: 'up' })
    pool = schemaPool(schema)
    await waitStoredCaughtUp(pool, kafka, topic, { timeoutMs: 60_000, pollMs: 200, alive: () => running.alive() })

    // 3. The server terminates the app's connections (57P01 on idle pooled clients).
    const admin = new pg.Client(stackEnv().databaseUrl)
    await admin.connect()
    try {
      const terminated = await admin.query<{ ok: boolean }>('SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE client_port = ANY($1::int[])', [relay.upstreamPorts()])
      expect(terminated.rows.length).toBeGreaterThan(0)
    } finally {
      await admin.end()
    }
    await produceEnriched(kafka, events.slice(third, 2 * third))
    await waitStoredCaughtUp(pool, kafka, topic, { timeoutMs: 60_000, pollMs: 200, alive: () => running.alive() })

    // 4. Every connection reset and new ones refused while events arrive.
    await relay.close()
    await produceEnriched(kafka, events.slice(2 * third))
    await waitForApp('readyz 503 with the database unreachable', async () => {
      const r = await readyz(running)
      return r.status === 503 && (r.body.database as { state?: string }).state === 'unreachable'
    }, 30_000, running)
    await relay.open()
    await waitStoredCaughtUp(pool, kafka, topic, { timeoutMs: 120_000, pollMs: 200, alive: () => running.alive() })
    await waitForApp('ready again', async () => (await readyz(running)).status === 200, 60_000, running)

    const seen = await pool.query<{ n: string }>('SELECT count(*)::text AS n FROM agg_seen_events')
    expect(Number(seen.rows[0]?.n)).toBe(events.length)
    const out = running.output()
    expect(out).not.toMatch(/Unhandled 'error' event/)
    expect(out.split('\n').filter((l) => /"level":(50|60)/.test(l))).toEqual([])
    running.kill('SIGTERM')
    expect(await running.exited).toBe(0)
  })
})
