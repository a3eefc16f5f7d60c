import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ARCHIVE_COLUMNS } from '../../../schemas/archive-parquet.ts'

describe('schemas/archive-parquet.md', () => {
  it('documents every archive column with its type and nullability, in file order', () => {
    const md = readFileSync(new URL('../../../schemas/archive-parquet.md', import.meta.url), 'utf8')
    const rows = [...md.matchAll(/^\| `([a-z_]+)` \| ([^|]+) \| (yes|no) \|/gm)].map((m) => ({
      name: m[1],
      type: m[2]!.trim(),
      nullable: m[3] === 'yes',
    }))
    expect(rows).toEqual(ARCHIVE_COLUMNS.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable })))
  })
})
