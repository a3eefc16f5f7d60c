/**
 * A store that accepts the upload and never answers fails the put (so the flush fails and the
 * runner re-reads the partition) instead of holding the partition's flush forever. A local
 * server that reads requests and never responds stands in for the hung store.
 */
import { createServer, type Server, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createObjectStore } from '../../../../processors/archival/io/s3-store.ts'

let server: Server
let port = 0
let requests = 0
const sockets = new Set<Socket>()
beforeAll(async () => {
  server = createServer((socket) => {
    requests++
    sockets.add(socket)
    socket.on('data', () => {}) // reads the request, never answers
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as { port: number }).port
})
afterAll(async () => {
  for (const s of sockets) s.destroy()
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

describe('object store request timeout', () => {
  it('rejects a put the store never answers once the request timeout passes', { timeout: 30_000 }, async () => {
    const store = createObjectStore({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', bucket: 'b', accessKeyId: 'k', secretAccessKey: 's', requestTimeoutMs: 300 })
    const t0 = Date.now()
    try {
      await expect(store.put('events/x.parquet', new Uint8Array([1, 2, 3]))).rejects.toThrow()
    } finally {
      store.close()
    }
    expect(requests).toBeGreaterThanOrEqual(1)
    expect(Date.now() - t0).toBeLessThan(20_000)
  })
})
