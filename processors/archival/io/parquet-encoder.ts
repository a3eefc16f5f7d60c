/**
 * Parquet encoding on a worker thread (io/parquet-worker.ts): the archival flush hands each
 * object's rows to it and awaits the bytes, so the main thread decodes and buffers the next
 * records meanwhile instead of spending the flush's largest CPU share (the bench profile,
 * test/bench/archival-throughput.ts) itself. One worker, jobs in arrival order; a worker that
 * dies fails its jobs (the flush fails and the runner re-reads the partition) and is replaced
 * by the next job.
 */
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { ArchiveRow } from '../archive-row.ts'
import type { ParquetWriteOptions } from '../parquet-writer.ts'

/** Encodes rows as one Parquet file; rejects when encoding fails or the worker died. */
export type ParquetEncode = (rows: readonly ArchiveRow[], options?: ParquetWriteOptions) => Promise<Uint8Array>

/** A worker-backed {@link ParquetEncode} and its shutdown. */
export interface ParquetEncoder {
  readonly encode: ParquetEncode
  /** Terminates the worker; jobs in flight reject. */
  close(): Promise<void>
}

const WORKER_URL = new URL('./parquet-worker.ts', import.meta.url)

/**
 * The worker's entry: the app runs its TypeScript through tsx, whose loader a worker thread does
 * not inherit, so a small ES module registers tsx's loader in the worker, then imports the worker.
 */
function workerEntry(): URL {
  // import.meta.resolve where the host has it (node); under vitest, the ES module beside the
  // package's CommonJS entry.
  const tsx = typeof import.meta.resolve === 'function'
    ? import.meta.resolve('tsx/esm/api')
    : pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href
  const boot = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(WORKER_URL.href)});`
  return new URL(`data:text/javascript,${encodeURIComponent(boot)}`)
}

/** Starts the encoder and its worker (module doc); a dead worker is replaced by the next job. */
export function createParquetEncoder(): ParquetEncoder {
  let worker: Worker | undefined
  let nextId = 0
  const pending = new Map<number, { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }>()

  function failAll(err: Error): void {
    for (const p of pending.values()) p.reject(err)
    pending.clear()
  }

  function start(): Worker {
    const w = new Worker(workerEntry())
    w.unref() // never keeps the process alive by itself
    w.on('message', (m: { id: number; bytes?: Uint8Array; error?: string }) => {
      const p = pending.get(m.id)
      if (!p) return
      pending.delete(m.id)
      if (m.bytes) p.resolve(m.bytes)
      else p.reject(new Error(`Parquet encoding failed: ${m.error ?? 'unknown error'}`))
    })
    w.on('error', (err) => {
      if (worker === w) worker = undefined
      failAll(err)
    })
    w.on('exit', (code) => {
      if (worker === w) worker = undefined
      failAll(new Error(`Parquet encoder worker exited (code ${code})`))
    })
    return w
  }

  worker = start() // ready (tsx and parquet-wasm loaded) before the first flush
  return {
    encode(rows, options = {}) {
      if (rows.length === 0) return Promise.reject(new Error('writeParquet: no rows'))
      worker ??= start()
      const id = nextId++
      const w = worker
      return new Promise<Uint8Array>((resolve, reject) => {
        pending.set(id, { resolve, reject })
        w.postMessage({ id, rows, rowGroupRows: options.rowGroupRows })
      })
    },
    async close() {
      const w = worker
      worker = undefined
      if (w) await w.terminate()
      failAll(new Error('Parquet encoder closed'))
    },
  }
}
