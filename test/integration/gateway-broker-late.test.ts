/**
 * The gateway started while its Kafka broker does not answer yet (a pod scheduled before the
 * broker, a broker restarting): it must not exit. The REST API listens at once (`/healthz` 200),
 * `/readyz` answers 503 with the stream consumer `starting`, and once the broker answers the
 * stream's consumer joins its group in the same process, with /readyz 200.
 *
 * The broker "appears" by opening a TCP forwarder on the bootstrap address the gateway was given
 * (127.0.0.1:<free port>, refused until then) to the stack's real broker; after the bootstrap
 * the client talks to the broker's advertised address directly. The shared broker is never
 * stopped.
 */
import { createServer, connect, type Server, type Socket } from 'node:net'
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDb, type TestDb } from '../helpers/aggregation-db.ts'
import { createTestKafka, type TestKafka } from '../helpers/kafka.ts'
import { freePort, startGateway, type AppProcess } from '../helpers/processes.ts'
import { stackEnv } from '../helpers/stack.ts'
import { waitUntil } from '../helpers/wait-until.ts'

interface Readyz { status?: string; stream?: { consumer?: string } }

/** A TCP forwarder from 127.0.0.1:`port` to `target` (host:port). */
function forward(port: number, target: string): Promise<Server> {
  const [host, targetPort] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))]
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    const upstream = connect(targetPort, host)
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
      s.on('error', () => { client.destroy(); upstream.destroy() })
    }
    client.pipe(upstream)
    upstream.pipe(client)
  })
  server.on('close', () => { for (const s of sockets) s.destroy() })
  return new Promise((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve(server)))
}

describe('gateway started before its broker answers', () => {
  let kafka: TestKafka
  let db: TestDb
  let gateway: AppProcess | undefined
  let forwarder: Server | undefined

  beforeAll(async () => {
    kafka = await createTestKafka()
    db = await createTestDb()
  }, 60_000)

  afterAll(async () => {
    gateway?.kill('SIGKILL')
    await new Promise((resolve) => (forwarder ? forwarder.close(resolve) : resolve(undefined)))
    await db?.drop()
    await kafka?.close()
  })

  it('serves its REST API, reports the stream as starting, and joins once the broker answers, in the same process', async () => {
    const port = await freePort()
    gateway = await startGateway({
      AUREN_KAFKA_BROKERS: `127.0.0.1:${port}`,
      AUREN_SCHEMA_REGISTRY_URL: stackEnv().schemaRegistryUrl,
      AUREN_TOPIC_PREFIX: kafka.prefix,
      AUREN_GATEWAY_DB_SCHEMA: db.schema,
      AUREN_GATEWAY_JWT_SECRET: randomBytes(32).toString('hex'),
    })
    const readyz = async () => {
      const res = await fetch(`http://${gateway!.address}/readyz`).catch(() => null)
      return res ? { code: res.status, body: (await res.json()) as Readyz } : null
    }
    // Listening while the broker refuses connections: liveness up, readiness down naming the stream.
    const waiting = await waitUntil('the gateway to answer /readyz while the broker is unreachable', async () => {
      if (gateway!.child.exitCode !== null) throw new Error(`gateway exited with ${gateway!.child.exitCode}:\n${gateway!.output().slice(-3000)}`)
      return (await readyz()) ?? undefined
    }, { timeoutMs: 60_000, everyMs: 200 })
    expect(waiting.code).toBe(503)
    expect(waiting.body.stream?.consumer).toBe('starting')
    expect((await fetch(`http://${gateway.address}/healthz`)).status).toBe(200)
    // A failed start (the Kafka client's own retries spent) used to end the process; now it is retried.
    await waitUntil('a failed stream start to be logged', () => (gateway!.output().match(/stream consumer start failed, retrying with backoff/g)?.length ?? 0) >= 1, { timeoutMs: 90_000, everyMs: 500 })
    expect(gateway.child.exitCode, gateway.output().slice(-3000)).toBeNull()
    const pid = gateway.child.pid

    forwarder = await forward(port, stackEnv().kafkaBrokers[0]!)
    const joined = await waitUntil('the stream consumer to join once the broker answers', async () => {
      if (gateway!.child.exitCode !== null) throw new Error(`gateway exited with ${gateway!.child.exitCode}:\n${gateway!.output().slice(-3000)}`)
      const r = await readyz()
      return r?.body.stream?.consumer === 'joined' ? r : undefined
    }, { timeoutMs: 90_000, everyMs: 500 })
    expect(joined.body.stream?.consumer).toBe('joined')
    expect(gateway.child.pid).toBe(pid)
    expect(gateway.child.exitCode).toBeNull()
  }, 240_000)
})
