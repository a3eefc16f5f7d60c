import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { z } from 'zod'
import { describe, expect, it } from 'vitest'
import { defineEnvConfig } from '../../../../../processors/runtime/ops/env-config.ts'
import { databaseFields, httpFields } from '../../../../../processors/runtime/ops/config-fragments.ts'
import { describeBaseConfig } from '../../../../../processors/runtime/ops/config.ts'
import { hasCode } from '../../../../../processors/runtime/ops/errors.ts'

const probe = defineEnvConfig({
  name: 'probe',
  prefix: 'AUREN_PROBE_',
  fields: {
    ...databaseFields('AUREN_PROBE_', { url: 'database of the probe', schema: 'schema of the probe' }),
    ...httpFields('AUREN_PROBE_', 8081, 'the probe'),
    AUREN_PROBE_LIMITS: z.string().default('a,b').transform((s) => s.split(',')).meta({ unit: 'list', description: 'limits' }),
  },
  check: (v) => (v.AUREN_PROBE_HTTP_PORT === 1 ? ['AUREN_PROBE_HTTP_PORT: 1 is reserved'] : []),
  compile: (c) => ({ url: c.AUREN_DATABASE_URL, schema: c.AUREN_PROBE_DB_SCHEMA, port: c.AUREN_PROBE_HTTP_PORT, limits: c.AUREN_PROBE_LIMITS }),
})

describe('defineEnvConfig', () => {
  it('compiles, applies defaults, ignores other apps and freezes deeply', () => {
    const c = probe.parse({ AUREN_DATABASE_URL: ' postgres://h/db ', AUREN_OTHER_THING: 'x', AUREN_PROBE_DB_SCHEMA: '' })
    expect(c).toEqual({ url: 'postgres://h/db', schema: 'public', port: 8081, limits: ['a', 'b'] })
    expect(Object.isFrozen(c) && Object.isFrozen(c.limits)).toBe(true)
  })

  it('reports every problem in one AUREN_ERR_CONFIG error, one line per variable', () => {
    let err: unknown
    try {
      probe.parse({ AUREN_PROBE_HTTP_PORT: '1', AUREN_PROBE_DB_SCHEMA: 'Bad-Name', AUREN_PROBE_HTTP_PROT: '9' })
    } catch (e) {
      err = e
    }
    expect(hasCode(err, 'AUREN_ERR_CONFIG')).toBe(true)
    const lines = (err as Error).message.split('\n').slice(1).map((l) => l.trim())
    expect(lines).toHaveLength(4)
    expect(lines).toContain('AUREN_DATABASE_URL: required, not set')
    expect(lines).toContain('AUREN_PROBE_DB_SCHEMA: must be a lower-case SQL identifier')
    expect(lines).toContain('AUREN_PROBE_HTTP_PORT: 1 is reserved')
    expect(lines.find((l) => l.startsWith('AUREN_PROBE_HTTP_PROT: unknown variable'))).toBeDefined()
  })

  it('describes every variable with unit, default and description', () => {
    expect(probe.describe()).toEqual([
      { env: 'AUREN_DATABASE_URL', unit: 'URL', default: '(required)', description: 'database of the probe' },
      { env: 'AUREN_PROBE_DB_SCHEMA', unit: 'identifier', default: 'public', description: 'schema of the probe' },
      { env: 'AUREN_PROBE_HTTP_HOST', unit: 'address', default: '127.0.0.1', description: 'Listen address of the probe.' },
      { env: 'AUREN_PROBE_HTTP_PORT', unit: 'port', default: '8081', description: 'Listen port of the probe (0 = any free port).' },
      { env: 'AUREN_PROBE_LIMITS', unit: 'list', default: 'a,b', description: 'limits' },
    ])
  })

  it('the README table of the processors base configuration names every base variable with its default', () => {
    const readme = readFileSync(join(import.meta.dirname, '../../../../../README.md'), 'utf8')
    const section = readme.slice(readme.indexOf('### Configuration (every processor)'), readme.indexOf('### Metrics (every processor'))
    const rows = section.split('\n').filter((l) => l.startsWith('| `'))
    for (const row of describeBaseConfig().filter((r) => r.env !== 'AUREN_CLIENT_ID')) {
      const line = rows.find((l) => l.split(' | ')[0]!.includes(`\`${row.env}\``))
      expect(line, row.env).toBeDefined()
      if (row.default !== '(unset)') expect(line!.split(' | ')[1], row.env).toContain(row.default === '' ? "''" : row.default)
    }
  })
})
