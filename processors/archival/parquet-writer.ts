/**
 * Archive rows → Parquet bytes with apache-arrow (columns) and parquet-wasm (the Rust `parquet`
 * crate's writer compiled to WebAssembly): zstd, row groups of at most `rowGroupRows` rows,
 * column types from schemas/archive-parquet.ts.
 */
import * as pw from 'parquet-wasm'
import {
  Bool, Field, Float64, Int32, Int64, Map_, Struct, Table, TimeUnit, Timestamp, Utf8,
  makeData, makeVector, tableFromIPC, tableToIPC, type Data, type Vector,
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

/**
 * The column builders below fill Arrow buffers directly (typed arrays, one UTF-8 buffer per string
 * column written with Buffer#write) instead of apache-arrow's generic builders, which encode each
 * string with its own TextEncoder call and grow their buffers step by step: that was most of the
 * flush's CPU (bench profile, test/bench/archival-throughput.ts).
 */

/** Validity bitmap (Arrow: bit set = valid), or undefined when no value is null. */
function validity(values: readonly unknown[]): { bitmap: Uint8Array | undefined; nullCount: number } {
  let nullCount = 0
  for (const v of values) if (v === null || v === undefined) nullCount++
  if (nullCount === 0) return { bitmap: undefined, nullCount }
  const bitmap = new Uint8Array(Math.ceil(values.length / 8))
  values.forEach((v, i) => {
    if (v !== null && v !== undefined) bitmap[i >> 3]! |= 1 << (i & 7)
  })
  return { bitmap, nullCount }
}

/** UTF-8 data and offsets of a string column. */
function utf8Data(values: readonly (string | null)[]): Data<Utf8> {
  const { bitmap, nullCount } = validity(values)
  let chars = 0
  for (const v of values) if (v) chars += v.length
  const buf = Buffer.allocUnsafe(chars * 3) // a UTF-16 code unit is at most 3 UTF-8 bytes
  const offsets = new Int32Array(values.length + 1)
  let pos = 0
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (v) pos += buf.write(v, pos, 'utf8')
    offsets[i + 1] = pos
  }
  return makeData({ type: new Utf8(), length: values.length, nullCount, nullBitmap: bitmap, valueOffsets: offsets, data: buf.subarray(0, pos) })
}

function int64Vector(type: Int64 | Timestamp, values: readonly (bigint | number | null)[]): Vector {
  const { bitmap, nullCount } = validity(values)
  const data = new BigInt64Array(values.length)
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (v !== null && v !== undefined) data[i] = typeof v === 'bigint' ? v : BigInt(Math.trunc(v))
  }
  // arrow declares 64-bit data as Int32Array pairs; the BigInt64 buffer has the same bytes
  return makeVector(makeData({ type: type as Int64, length: values.length, nullCount, nullBitmap: bitmap, data: data as unknown as Int32Array }))
}

function float64Vector(values: readonly (number | null)[]): Vector {
  const { bitmap, nullCount } = validity(values)
  const data = new Float64Array(values.length)
  for (let i = 0; i < values.length; i++) data[i] = values[i] ?? 0
  return makeVector(makeData({ type: new Float64(), length: values.length, nullCount, nullBitmap: bitmap, data }))
}

function int32Vector(values: readonly (number | null)[]): Vector {
  const { bitmap, nullCount } = validity(values)
  const data = new Int32Array(values.length)
  for (let i = 0; i < values.length; i++) data[i] = values[i] ?? 0
  return makeVector(makeData({ type: new Int32(), length: values.length, nullCount, nullBitmap: bitmap, data }))
}

function boolVector(values: readonly (boolean | null)[]): Vector {
  const { bitmap, nullCount } = validity(values)
  const data = new Uint8Array(Math.ceil(values.length / 8))
  values.forEach((v, i) => {
    if (v) data[i >> 3]! |= 1 << (i & 7)
  })
  return makeVector(makeData({ type: new Bool(), length: values.length, nullCount, nullBitmap: bitmap, data }))
}

/** MAP<STRING, STRING> column: offsets into one struct child of keys and values. */
function mapVector(values: readonly Record<string, string>[]): Vector {
  const offsets = new Int32Array(values.length + 1)
  const keys: string[] = []
  const vals: (string | null)[] = []
  for (let i = 0; i < values.length; i++) {
    for (const [k, v] of Object.entries(values[i]!)) {
      keys.push(k)
      vals.push(v ?? null)
    }
    offsets[i + 1] = keys.length
  }
  const entries = makeData({ type: mapType.children[0]!.type, length: keys.length, nullCount: 0, children: [utf8Data(keys), utf8Data(vals)] })
  return makeVector(makeData({ type: mapType, length: values.length, nullCount: 0, valueOffsets: offsets, child: entries }))
}

function columnVector(type: ArchiveColumnType, values: unknown[]): Vector {
  switch (type) {
    case 'STRING':
      return makeVector(utf8Data(values as (string | null)[]))
    case 'INT32':
      return int32Vector(values as (number | null)[])
    case 'INT64':
      return int64Vector(new Int64(), values as (bigint | null)[])
    case 'DOUBLE':
      return float64Vector(values as (number | null)[])
    case 'BOOLEAN':
      return boolVector(values as (boolean | null)[])
    case 'TIMESTAMP(MICROS, UTC)':
      return int64Vector(utcMicros, values as (number | null)[])
    case 'MAP<STRING, STRING>':
      return mapVector(values as Record<string, string>[])
  }
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
    // JSON text: min/max statistics would never prune a read.
    .setColumnStatisticsEnabled('payload', pw.EnabledStatistics.None)
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
