/** One query on the stack's PostgreSQL with `schema` as the search_path, on a client of its own. */
import pg from 'pg'
import { stackEnv } from './stack.ts'

/** Runs `sql` in `schema`; returns its rows. @throws on connection or SQL errors */
export async function querySchema<R extends pg.QueryResultRow>(schema: string, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: stackEnv().databaseUrl, options: `-c search_path=${schema}` })
  await client.connect()
  try {
    return (await client.query<R>(sql)).rows
  } finally {
    await client.end()
  }
}
