/**
 * The rollup tables contract (schemas/rollup-tables.ts) is the only place readers and the writer
 * take table names from: no reader or writer source spells a contract table's name in its code
 * (comments may), so renaming a table in the contract (and a migration) renames it everywhere.
 * The migrations are checked against the contract in test/integration/rollup-tables-contract.test.ts.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { contractColumns, ROLLUP_TABLES, RT, STATE_TABLES } from '../../../schemas/rollup-tables.ts'

const ROOT = join(import.meta.dirname, '..', '..', '..')
const READERS = ['gateway', 'grafana/src', 'processors/aggregation', 'scripts']

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) return name === 'node_modules' ? [] : tsFiles(p)
    return p.endsWith('.ts') ? [p] : []
  })
}
/** Lines of code, comments dropped (TSDoc, block and line comments). */
function codeLines(text: string): string[] {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').split('\n').map((l) => l.replace(/(^|\s)\/\/.*$/, ''))
}

describe('rollup tables contract', () => {
  it('gives every table one distinct name, and RT names each of them', () => {
    const names = [...Object.values(ROLLUP_TABLES), ...Object.values(STATE_TABLES)].map((t) => t.table)
    expect(new Set(names).size).toBe(names.length)
    expect(Object.values(RT).sort()).toEqual([...names].sort())
    expect(Object.keys(contractColumns()).sort()).toEqual([...names].sort())
  })

  it('no table name claims a window size: windowed tables end in _window', () => {
    for (const spec of Object.values(ROLLUP_TABLES)) {
      if (spec.table !== RT.histogram) expect(spec.table).toMatch(/^agg_[a-z_]+_window$/)
      expect(spec.table).not.toMatch(/minute|hour|second/)
    }
  })

  it('the gateway, the dashboards, aggregation and the scripts name contract tables only through schemas/rollup-tables.ts', () => {
    const names = Object.values(RT)
    const offenders: string[] = []
    for (const dir of READERS) {
      for (const file of tsFiles(join(ROOT, dir))) {
        codeLines(readFileSync(file, 'utf8')).forEach((line, i) => {
          for (const n of names) if (new RegExp(`\\b${n}\\b`).test(line)) offenders.push(`${relative(ROOT, file)}:${i + 1}: ${n}`)
          if (/\bagg_[a-z_]+_minute\b/.test(line)) offenders.push(`${relative(ROOT, file)}:${i + 1}: old table name`)
        })
      }
    }
    expect(offenders).toEqual([])
  })
})
