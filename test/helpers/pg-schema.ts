/**
 * A PostgreSQL schema of a test's own on the stack's database (test/helpers/stack.ts), with a
 * pool whose search_path is that schema, so tests share the database without seeing each
 * other's tables.
 */
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { stackEnv } from './stack.ts'
import { schemaPool } from '../bench/aggregation-workload.ts'

/** A test's schema and its pool. */
export interface TestSchema {
  /** Schema name: the tag and 12 random hex digits. */
  readonly schema: string
  /** Pool whose connections have `search_path` set to the schema. */
  readonly pool: pg.Pool
  /** Drops the schema with everything in it and ends the pool. */
  drop(): Promise<void>
}

/**
 * Creates a fresh schema and its pool.
 * @param tag start of the schema name (lowercase letters, digits and `_`)
 * @param max most connections of the pool
 * @throws when the stack's PostgreSQL cannot be reached
 */
export async function createTestSchema(tag: string, max = 2): Promise<TestSchema> {
  const schema = `${tag}_${randomUUID().replace(/-/g, '').slice(0, 12)}`
  const admin = new pg.Client({ connectionString: stackEnv().databaseUrl })
  await admin.connect()
  try {
    await admin.query(`CREATE SCHEMA ${schema}`)
  } finally {
    await admin.end()
  }
  const pool = schemaPool(schema, max)
  return {
    schema,
    pool,
    async drop() {
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      await pool.end()
    },
  }
}
