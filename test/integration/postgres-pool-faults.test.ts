/**
 * The runtime's PostgreSQL pool (processors/runtime/sinks/postgres.ts createPgPool) when the
 * server ends its connections (`pg_terminate_backend`: SQLSTATE 57P01, as every backend gets at a
 * fast shutdown), on the real PostgreSQL: whatever state a client is in — idle in the pool,
 * checked out and idle between queries, or connected in the very read that brings the server's
 * FATAL — the error is logged, never an unhandled 'error' event that ends the process; the
 * transaction fails retriably and the pool then works again.
 *
 * The last case is the event store's crash in a 20 s database outage: pg-pool removes its own
 * listener from a new client as it hands it out (pg-pool `_acquireClient`), and the caller can
 * add one only when its promise continuation runs, after the socket's read is processed; a
 * FATAL in that same read found no listener. A TCP relay reproduces it on demand: it holds the
 * new connection's ReadyForQuery until the backend was terminated, then delivers both in one write.
 */
import net from 'node:net'
import { Writable } from 'node:stream'
import pg from 'pg'
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createPgPool, inTransaction } from '../../processors/runtime/sinks/postgres.ts'
import { stackEnv } from '../helpers/stack.ts'
import { waitUntil } from '../helpers/wait-until.ts'

/** A connection the relay holds at its first ReadyForQuery. */
interface HeldConnection {
  /** Backend process id (from BackendKeyData). */
  readonly pid: number
  /** Waits until the backend closed its end, then writes everything held to the client in one write and closes it. */
  deliver(): Promise<void>
}

/** A TCP relay to PostgreSQL; `holdNext()` makes it hold the next connection at its first ReadyForQuery. */
async function createRelay(target: { host: string; port: number }) {
  const sockets = new Set<net.Socket>()
  let hold: ((held: HeldConnection) => void) | undefined
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host)
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('error', () => {}).on('close', () => sockets.delete(s))
    }
    client.on('close', () => upstream.destroy())
    client.pipe(upstream)
    const onHeld = hold
    hold = undefined
    if (!onHeld) {
      upstream.pipe(client)
      upstream.on('close', () => client.destroy())
      return
    }
    // Server messages are `type byte, int32 length (itself included), body`. Forward them up to
    // ReadyForQuery ('Z'); hold that one and whatever follows.
    let pending = Buffer.alloc(0)
    let held: Buffer[] | undefined
    let pid = 0
    const upstreamClosed = new Promise<void>((resolve) => upstream.on('close', () => resolve()))
    upstream.on('data', (chunk: Buffer) => {
      if (held) return void held.push(chunk)
      pending = Buffer.concat([pending, chunk])
      let at = 0
      for (let len: number; pending.length - at >= 5 && pending.length - at >= 1 + (len = pending.readInt32BE(at + 1)); at += 1 + len) {
        const type = String.fromCharCode(pending[at]!)
        if (type === 'K') pid = pending.readInt32BE(at + 5)
        if (type === 'Z') {
          const rest = [pending.subarray(at)]
          held = rest
          client.write(pending.subarray(0, at))
          onHeld({
            pid,
            async deliver() {
              await upstreamClosed
              client.end(Buffer.concat(rest))
            },
          })
          return
        }
      }
      client.write(pending.subarray(0, at))
      pending = pending.subarray(at)
    })
  })
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)))
  return {
    port,
    /** Resolves with the next new connection, held at its first ReadyForQuery. */
    holdNext: () => new Promise<HeldConnection>((resolve) => (hold = resolve)),
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

describe('createPgPool: connections ended by the server (57P01)', () => {
  const url = new URL(stackEnv().databaseUrl)
  const uncaught: unknown[] = []
  const onUncaught = (err: unknown) => void uncaught.push(err)
  const logged: { level: number; msg: string; sqlstate?: string }[] = []
  const log = pino({ level: 'debug' }, new Writable({ write: (line: Buffer, _enc, done) => done(void logged.push(JSON.parse(line.toString()))) }))
  let admin: pg.Client
  let relay: Awaited<ReturnType<typeof createRelay>>
  let pool: pg.Pool | undefined

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: url.href })
    await admin.connect()
    relay = await createRelay({ host: url.hostname, port: Number(url.port) })
  })
  afterAll(async () => {
    await admin?.end()
    await relay?.close()
  })
  beforeEach(() => {
    uncaught.length = logged.length = 0
    process.on('uncaughtException', onUncaught)
  })
  afterEach(async () => {
    process.off('uncaughtException', onUncaught)
    await pool?.end()
    pool = undefined
  })

  const terminate = async (pid: number) => expect((await admin.query<{ ok: boolean }>('SELECT pg_terminate_backend($1) AS ok', [pid])).rows[0]?.ok).toBe(true)
  const lost57P01 = () => logged.filter((l) => l.level >= 40 && l.sqlstate === '57P01')
  const one = async (p: pg.Pool) => (await inTransaction(p, 'probe', (c) => c.query<{ one: number }>('SELECT 1 AS one'))).rows[0]?.one

  it('a new client whose first ReadyForQuery and FATAL come in one read: the transaction fails retriably, no unhandled error, the pool recovers', async () => {
    const relayed = new URL(url.href)
    relayed.port = String(relay.port)
    pool = createPgPool({ url: relayed.href, max: 1, log })
    const heldConnection = relay.holdNext()
    const tx = inTransaction(pool, 'append', (c) => c.query('SELECT 1'))
    const held = await heldConnection
    await terminate(held.pid)
    await held.deliver()
    await expect(tx).rejects.toMatchObject({ code: 'AUREN_ERR_SINK_UNAVAILABLE', retriable: true })
    expect(uncaught).toEqual([])
    expect(lost57P01().length).toBe(1)
    expect(await one(pool)).toBe(1)
  })

  it('a client checked out and idle between queries: its next query fails, no unhandled error, the pool recovers', async () => {
    pool = createPgPool({ url: url.href, max: 1, log })
    const client = await pool.connect()
    let ended = false
    client.once('end', () => (ended = true))
    let err: Error | undefined
    try {
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
      await terminate(rows[0]!.pid)
      await waitUntil('the connection ended (or an unhandled error)', () => ended || uncaught.length > 0)
      expect(uncaught).toEqual([])
      err = await client.query('SELECT 1').then(() => undefined, (e: Error) => e)
      expect(err).toBeInstanceOf(Error)
    } finally {
      client.release(err ?? true)
    }
    expect(lost57P01().length).toBe(1)
    expect(await one(pool)).toBe(1)
  })

  it('a client idle in the pool: discarded, no unhandled error, the pool recovers', async () => {
    pool = createPgPool({ url: url.href, max: 1, log })
    const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
    await terminate(rows[0]!.pid)
    await waitUntil('the terminated client discarded', () => pool!.totalCount === 0)
    expect(uncaught).toEqual([])
    expect(lost57P01().length).toBe(1)
    expect(await one(pool)).toBe(1)
  })
})
