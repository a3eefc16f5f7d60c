/**
 * The gateway's strict query-string parser: what fast-querystring would keep as literal text
 * (malformed escapes, bytes that are not UTF-8) or pass on to PostgreSQL (NUL, control
 * characters) is recorded as a problem naming the parameter.
 */
import { describe, expect, it } from 'vitest'
import { describeQueryProblems, MAX_NAME_CHARS, parseQueryString, queryProblems, textProblem } from '../../../gateway/query-string.ts'

describe('parseQueryString', () => {
  it('parses values, repeated names as arrays, + as space, a bare name as empty', () => {
    const q = parseQueryString('a=1&b=x+y&a=2&c&d=%C3%A9%F0%9F%98%80&&')
    expect({ ...q }).toEqual({ a: ['1', '2'], b: 'x y', c: '', d: 'é😀' })
    expect(queryProblems(q)).toEqual([])
  })

  it('records NUL, control characters and DEL by parameter, with the code point', () => {
    const q = parseQueryString('agent_id=%00&user_id=a%0Ab&x=%7F&ok=1')
    expect({ ...q }).toEqual({ ok: '1' })
    expect(queryProblems(q)).toEqual([
      { name: 'agent_id', reason: 'must not contain a NUL byte (U+0000 at character 1)' },
      { name: 'user_id', reason: 'must not contain a control character (U+000A at character 2)' },
      { name: 'x', reason: 'must not contain a control character (U+007F at character 1)' },
    ])
    expect(describeQueryProblems(queryProblems(q))).toBe(
      "query parameter 'agent_id' must not contain a NUL byte (U+0000 at character 1); query parameter 'user_id' must not contain a control character (U+000A at character 2); query parameter 'x' must not contain a control character (U+007F at character 1)",
    )
  })

  it('records byte sequences that are not UTF-8: stray bytes, overlong forms, surrogates, past U+10FFFF, bad escapes', () => {
    for (const raw of ['%FF', '%80', '%C0%80', '%E0%80%AF', '%ED%A0%80', '%F4%90%80%80', '%E2%82', '%', '%ZZ', 'a%2']) {
      const q = parseQueryString(`agent_id=${raw}`)
      expect(Object.keys(q), raw).toEqual([])
      expect(queryProblems(q), raw).toEqual([{ name: 'agent_id', reason: expect.stringMatching(/not percent-encoded UTF-8/) }])
    }
  })

  it('records names that do not decode, hold controls or are too long; __proto__ is a plain key', () => {
    const long = 'n'.repeat(MAX_NAME_CHARS + 1)
    const q = parseQueryString(`%FF=1&a%00=2&${long}=3&__proto__=4`)
    expect(queryProblems(q).map((p) => p.reason)).toEqual([
      'has a name that is not percent-encoded UTF-8',
      'has a name that must not contain a NUL byte (U+0000 at character 2)',
      `has a name longer than ${MAX_NAME_CHARS} characters`,
    ])
    expect(Object.keys(q)).toEqual(['__proto__'])
    expect(Object.getPrototypeOf(q)).toBe(Object.prototype)
  })

  it('textProblem: unpaired surrogates are refused, pairs are fine', () => {
    expect(textProblem('\ud800')).toMatch(/surrogate/)
    expect(textProblem('a\udc00')).toMatch(/surrogate/)
    expect(textProblem('😀')).toBeNull()
    expect(textProblem('plain text, with spaces')).toBeNull()
  })
})
