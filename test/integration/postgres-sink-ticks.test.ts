/**
 * The runtime's transactional PostgreSQL sink on the real PostgreSQL: a punctuation tick that
 * produced nothing and changed no state writes no transaction (the stored position, state and
 * row version stay as they are, `apply` is not called), while a tick with outputs or a changed
 * state is stored like a batch, so idle ticks of many partitions never queue for the pool's
 * connections ahead of the batches' writes.
 */
import { randomBytes } from 'node:crypto'
import type pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { createPostgresSink, POSITIONS_TABLE } from '../../processors/runtime/sinks/postgres.ts'
import type { SinkBatch, SinkContext } from '../../processors/runtime/sinks/sink.ts'
import { dropSchema, schemaPool } from '../bench/aggregation-workload.ts'

describe('postgres sink: punctuation ticks', () => {
  let pool: pg.Pool | undefined
  let schema: string | undefined
  afterEach(async () => {
    await pool?.end()
    if (schema) await dropSchema(schema)
    pool = schema = undefined
  })

  it('stores a tick only when it has outputs or a changed state', { timeout: 60_000 }, async () => {
    schema = `sink_ticks_${randomBytes(4).toString('hex')}`
    pool = schemaPool(schema, 2)
    await pool.query(`CREATE SCHEMA ${schema}`)
    const applied: number[] = []
    const sink = createPostgresSink<string>({ pool, apply: async (_c, batch) => void applied.push(batch.records.length) })
    await sink.start({} as SinkContext)
    const position = { groupId: 'g', topic: 't', partition: 0, nextOffset: '10' }
    const state = (json: string) => ({ json, changelogRecord: { topic: 'unused', key: 't:0', value: Buffer.from(json) } })
    const batch = (b: Partial<SinkBatch<string>>): SinkBatch<string> => ({ records: [], position, cause: 'records', nowMs: Date.now(), ...b })
    const row = async () => (await pool!.query<{ next_offset: string; state: unknown; xmin: string }>(`SELECT next_offset::text AS next_offset, state, xmin::text AS xmin FROM ${POSITIONS_TABLE}`)).rows

    await sink.write(batch({ records: [{ key: 'k', value: 'a', partition: 0, offset: '9' }], state: state('{"n":1}') }))
    const [afterBatch] = await row()
    expect(afterBatch).toMatchObject({ next_offset: '10', state: { n: 1 } })
    expect(applied).toEqual([1])

    // An idle tick: nothing to store, no transaction (the row version is unchanged).
    expect(await sink.write(batch({ cause: 'punctuation' }))).toEqual({ kind: 'acknowledged' })
    expect(await row()).toEqual([afterBatch])
    expect(applied).toEqual([1])

    // A tick that changed the state is stored with its position.
    await sink.write(batch({ cause: 'punctuation', state: state('{"n":2}') }))
    expect(await row()).toMatchObject([{ next_offset: '10', state: { n: 2 } }])
    expect(applied).toEqual([1, 0])
    // A tick with outputs goes through `apply` in its transaction.
    await sink.write(batch({ cause: 'punctuation', records: [{ key: 'k', value: 'b', partition: 0, offset: '9' }] }))
    expect(applied).toEqual([1, 0, 1])
    expect((await row())[0]!.xmin).not.toBe(afterBatch!.xmin)
  })
})
