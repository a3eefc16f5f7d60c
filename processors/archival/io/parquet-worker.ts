/**
 * Worker thread of io/parquet-encoder.ts: encodes archive rows as Parquet
 * (../parquet-writer.ts writeParquet) off the app's main thread, which meanwhile decodes the next
 * records. Message in: `{ id, rows, rowGroupRows }`; out: `{ id, bytes }` (the buffer
 * transferred) or `{ id, error }`.
 */
import { parentPort } from 'node:worker_threads'
import type { ArchiveRow } from '../archive-row.ts'
import { writeParquet } from '../parquet-writer.ts'

parentPort?.on('message', (m: { id: number; rows: ArchiveRow[]; rowGroupRows?: number }) => {
  try {
    const bytes = writeParquet(m.rows, { rowGroupRows: m.rowGroupRows })
    parentPort!.postMessage({ id: m.id, bytes }, [bytes.buffer as ArrayBuffer])
  } catch (err) {
    parentPort!.postMessage({ id: m.id, error: err instanceof Error ? err.message : String(err) })
  }
})
