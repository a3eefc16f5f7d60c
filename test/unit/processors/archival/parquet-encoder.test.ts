/**
 * The worker-thread Parquet encoder of the archival flush (processors/archival/io/parquet-encoder.ts):
 * the same bytes as writeParquet on the calling thread, jobs answered by id, empty input refused.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { eventRow, type ArchiveRow } from '../../../../processors/archival/archive-row.ts'
import { createParquetEncoder } from '../../../../processors/archival/io/parquet-encoder.ts'
import { readArrowTable, writeParquet } from '../../../../processors/archival/parquet-writer.ts'
import { enrichedEvent } from '../../../helpers/archive.ts'

const encoder = createParquetEncoder()
afterAll(() => encoder.close())

const rows = (n: number, from: number): ArchiveRow[] =>
  Array.from({ length: n }, (_, i) => ({ ...eventRow(enrichedEvent({ timestampUs: 1_735_689_600_000_000 + (from + i) * 1_000_000, tier: 'critical' })), source_topic: 't', source_partition: 2, source_offset: BigInt(from + i) }))

describe('Parquet encoder worker', () => {
  it('encodes concurrent jobs to the same bytes as writeParquet, each answered with its own rows', { timeout: 60_000 }, async () => {
    const jobs = [rows(300, 0), rows(5, 300), rows(1_000, 305)]
    const out = await Promise.all(jobs.map((r) => encoder.encode(r, { rowGroupRows: 256 })))
    out.forEach((bytes, i) => {
      expect(Buffer.from(bytes).equals(Buffer.from(writeParquet(jobs[i]!, { rowGroupRows: 256 })))).toBe(true)
      const table = readArrowTable(bytes)
      expect(table.numRows).toBe(jobs[i]!.length)
      expect(table.getChild('source_offset')!.get(0)).toBe(jobs[i]![0]!.source_offset)
    })
  })

  it('refuses an empty job, and keeps encoding after it', { timeout: 60_000 }, async () => {
    await expect(encoder.encode([])).rejects.toThrow(/no rows/)
    expect(readArrowTable(await encoder.encode(rows(2, 0))).numRows).toBe(2)
  })
})
