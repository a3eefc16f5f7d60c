import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { waitUntil } from '../../helpers/wait-until.ts'

describe('waitUntil', () => {
  it('returns the first value that is neither undefined nor false, retrying through errors', async () => {
    let n = 0
    const got = await waitUntil('the third try', () => {
      n += 1
      if (n === 1) throw new Error('not yet')
      return n === 3 ? { n } : undefined
    }, { everyMs: 1 })
    expect(got).toEqual({ n: 3 })
  })

  it('on timeout names what it waited for, the last error and the last value seen', async () => {
    let n = 0
    await expect(waitUntil('five rows', () => (n += 1) >= 1_000_000 && n, { timeoutMs: 30, everyMs: 5, describe: () => `${n} rows` })).rejects.toThrow(/^timed out after 30 ms waiting for five rows; last seen: \d+ rows$/)
    await expect(waitUntil('a value', () => { throw new Error('refused') }, { timeoutMs: 10, everyMs: 5 })).rejects.toThrow('timed out after 10 ms waiting for a value: refused')
    await expect(waitUntil('a count of 3', () => (n > 0 ? undefined : 1), { timeoutMs: 10, everyMs: 5 })).rejects.toThrow(/waiting for a count of 3$/)
  })

  it('rethrows at once an error that stopOn accepts', async () => {
    const started = Date.now()
    await expect(waitUntil('a process', () => { throw new Error('exited (1)') }, { timeoutMs: 5_000, stopOn: (e) => (e as Error).message.startsWith('exited') })).rejects.toThrow('exited (1)')
    expect(Date.now() - started).toBeLessThan(1_000)
  })
})

describe('the lint rule against sleeping in tests (eslint.config.js)', () => {
  it('refuses a bare sleep under test/ and accepts waitUntil and pause', async () => {
    const { ESLint } = await import('eslint')
    const eslint = new ESLint({ cwd: join(import.meta.dirname, '..', '..', '..') })
    const messages = async (code: string) => (await eslint.lintText(code, { filePath: 'test/integration/sleep-probe.test.ts' }))[0]!.messages.map((m) => m.ruleId)
    expect(await messages('export async function f(): Promise<void> {\n  await new Promise((r) => setTimeout(r, 700))\n}\n')).toEqual(['no-restricted-syntax'])
    expect(await messages('declare function sleep(ms: number): Promise<void>\nexport async function f(): Promise<void> {\n  await sleep(700)\n}\n')).toEqual(['no-restricted-syntax'])
    expect(await messages("import { pause, waitUntil } from '../helpers/wait-until.ts'\nexport async function f(): Promise<void> {\n  await pause(10)\n  await waitUntil('x', () => true)\n}\n")).toEqual([])
  }, 30_000)
})
