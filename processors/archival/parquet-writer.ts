/**
 * Archive rows → Parquet bytes with apache-arrow (columns) and parquet-wasm (the Rust `parquet`
 * crate's writer compiled to WebAssembly): zstd, row groups of at most `rowGroupRows` rows,
 * column types from schemas/archive-parquet.ts.
 */
import * as pw from 'parquet-wasm'
import {
  Bool, Field, Float64, Int32, Int64, Map_, Struct, Table, TimeUnit, Timestamp, Utf8,
  makeData, makeVector, tableFromIPC, tableToIPC, vectorFromArray, type DataType, type Vector,
} from 'apache-arrow'
import { ARCHIVE_COLUMNS, type ArchiveColumnType } from '../../schemas/archive-parquet.ts'
import type { ArchiveRow } from './archive-row.ts'

/**
 * Default row group size: 64 Ki rows. DuckDB parallelises a scan per row group and its own
 * writer's default is 122 880 rows; pyarrow reads a row group at a time, so groups of this
 * size keep a reader's memory at a few tens of MB for our ~0.3–1 KiB rows.
 */
export const DEFAULT_ROW_GROUP_ROWS = 65_536

/** Options of {@link writeParquet}. */
export interface ParquetWriteOptions {
  /** Maximum rows per row group; default {@link DEFAULT_ROW_GROUP_ROWS}. */
  readonly rowGroupRows?: number
}

const utcMicros = new Timestamp(TimeUnit.MICROSECOND, 'UTC')
const mapType = new Map_(
  new Field('entries', new Struct<{ key: Utf8; value: Utf8 }>([new Field('key', new Utf8(), false), new Field('value', new Utf8(), true)]), false),
)

function timestampVector(values: readonly (number | null)[]): Vector {
  const data = new BigInt64Array(values.length)
  const nulls = values.some((v) => v === null)
  const bitmap = nulls ? new Uint8Array(Math.ceil(values.length / 8)) : undefined
  values.forEach((v, i) => {
    if (v === null) return
    data[i] = BigInt(Math.trunc(v))
    if (bitmap) bitmap[i >> 3]! |= 1 << (i & 7)
  })
  return makeVector(
    makeData({
      type: utcMicros,
      length: values.length,
      nullCount: values.filter((v) => v === null).length,
      // arrow's Timestamp data is declared as Int32Array pairs; the BigInt64 buffer has the same bytes
      data: data as unknown as Int32Array,
      nullBitmap: bitmap,
    }),
  )
}

function columnVector(type: ArchiveColumnType, values: unknown[]): Vector {
  const arrowType: Record<Exclude<ArchiveColumnType, 'TIMESTAMP(MICROS, UTC)'>, DataType> = {
    STRING: new Utf8(),
    INT32: new Int32(),
    INT64: new Int64(),
    DOUBLE: new Float64(),
    BOOLEAN: new Bool(),
    'MAP<STRING, STRING>': mapType,
  }
  if (type === 'TIMESTAMP(MICROS, UTC)') return timestampVector(values as (number | null)[])
  if (type === 'MAP<STRING, STRING>') {
    return vectorFromArray(values.map((v) => new Map(Object.entries(v as Record<string, string>))), mapType as never)
  }
  return vectorFromArray(values as never[], arrowType[type] as never)
}

/**
 * Encodes rows as one Parquet file.
 * @param rows at least one row
 * @returns the file's bytes
 * @throws Error when rows is empty (an empty object would be a listing without content)
 */
export function writeParquet(rows: readonly ArchiveRow[], options: ParquetWriteOptions = {}): Uint8Array {
  if (rows.length === 0) throw new Error('writeParquet: no rows')
  const columns: Record<string, Vector> = {}
  for (const col of ARCHIVE_COLUMNS) {
    columns[col.name] = columnVector(col.type, rows.map((r) => r[col.name as keyof ArchiveRow]))
  }
  return writeArrowTable(new Table(columns), options)
}

/** Encodes an Arrow table (e.g. archive objects merged by compaction) with the archive's writer settings. */
export function writeArrowTable(table: Table, options: ParquetWriteOptions = {}): Uint8Array {
  const props = new pw.WriterPropertiesBuilder()
    .setCompression(pw.Compression.ZSTD)
    .setMaxRowGroupSize(options.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS)
    .setCreatedBy('auren-archival (parquet-wasm)')
    // Unique per row: a dictionary would only cost time and bytes.
    .setColumnDictionaryEnabled('event_id', false)
    .setColumnDictionaryEnabled('payload', false)
    .setColumnDictionaryEnabled('trace_id', false)
    .setColumnDictionaryEnabled('parent_event_id', false)
    .setColumnDictionaryEnabled('source_offset', false)
    .build()
  return pw.writeParquet(pw.Table.fromIPCStream(tableToIPC(table, 'stream')), props)
}

/** Decodes a Parquet object into an Arrow table (used to merge objects). */
export function readArrowTable(bytes: Uint8Array): Table {
  return tableFromIPC(pw.readParquet(bytes).intoIPCStream())
}

/**
 * Merges archive objects into one Parquet file, rows in the order of `parts`.
 * @throws Error when parts is empty or their schemas differ
 */
export function mergeParquet(parts: readonly Uint8Array[], options: ParquetWriteOptions = {}): { bytes: Uint8Array; rows: number } {
  if (parts.length === 0) throw new Error('mergeParquet: nothing to merge')
  const tables = parts.map(readArrowTable)
  const merged = tables.slice(1).reduce((a, b) => a.concat(b), tables[0]!)
  return { bytes: writeArrowTable(merged, options), rows: merged.numRows }
}
