import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { classifyTraceFile, loadTraceRuns } from '../../../../scripts/sources/trace-files.ts'

const FIXTURES = fileURLToPath(new URL('../../../fixtures/sources/', import.meta.url))

describe('classifyTraceFile', () => {
  it('recognizes the README layout and names everything else', () => {
    expect(classifyTraceFile('chatdev/WareHouse/Red Packet Rain - thu - α/Red Packet Rain - thu - α.log')).toEqual({ kind: 'chatdev' })
    expect(classifyTraceFile('who-and-when/Hand-Crafted/14.json')).toEqual({ kind: 'who-and-when' })
    expect(classifyTraceFile('chatdev/WareHouse/x/ChatChainConfig.json')).toEqual({ reason: 'chatdev run sidecar, not a log' })
    expect(classifyTraceFile('chatdev/WareHouse/x/meta.txt')).toEqual({ reason: 'chatdev run sidecar, not a log' })
    expect(classifyTraceFile('README.md')).toEqual({ reason: 'documentation or licence' })
    expect(classifyTraceFile('notes/summary.csv')).toEqual({ reason: 'unknown file type' })
  })
})

describe('loadTraceRuns', () => {
  const root = mkdtempSync(join(tmpdir(), 'auren-traces-'))
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  it('finds runs with spaces, double spaces and α in their names, and reports every other file', () => {
    const runs = ['MBBusinessCardGen_jc_  ModelBest1024_20231024154846', 'Red Packet Rain - thu - α', 'BMI Calculator_DefaultOrganization_20230918110521']
    for (const r of runs) {
      mkdirSync(join(root, 'chatdev', 'WareHouse', r), { recursive: true })
      copyFileSync(join(FIXTURES, 'chatdev-basic.input.txt'), join(root, 'chatdev', 'WareHouse', r, `${r}.log`))
      writeFileSync(join(root, 'chatdev', 'WareHouse', r, 'meta.txt'), 'x')
    }
    mkdirSync(join(root, 'who-and-when', 'Hand-Crafted'), { recursive: true })
    copyFileSync(join(FIXTURES, 'who-and-when-magentic.input.json'), join(root, 'who-and-when', 'Hand-Crafted', '1.json'))
    writeFileSync(join(root, 'who-and-when', 'Hand-Crafted', '2.json'), '{ not json')
    writeFileSync(join(root, 'empty.log'), 'no headers here\n')
    writeFileSync(join(root, 'stray.bin'), 'x')

    const found = loadTraceRuns(root, { userId: 'u-9' })
    expect(found.runs.map((r) => [r.kind, r.traceId])).toEqual([
      ['chatdev', 'chatdev:BMI Calculator_DefaultOrganization_20230918110521'],
      ['chatdev', 'chatdev:MBBusinessCardGen_jc_  ModelBest1024_20231024154846'],
      ['chatdev', 'chatdev:Red Packet Rain - thu - α'],
      ['who-and-when', 'who-and-when:Hand-Crafted/1'],
    ])
    expect(found.runs[2]!.events[0]!.attributes['auren.replay.file']).toBe('chatdev/WareHouse/Red Packet Rain - thu - α/Red Packet Rain - thu - α.log')
    expect(found.runs[2]!.events[0]!.session_id).toBe('20230918110521') // from [Preprocessing]: the folder has no id
    expect(found.runs.every((r) => r.events.every((e) => e.user_id === 'u-9'))).toBe(true)
    expect(found.runs[0]!.skipped).toMatchObject({ flask_noise: 8, 'no_event:preprocessing': 1 })
    expect(found.skipped.map((s) => [s.file, s.reason.replace(/:.*/, '')])).toEqual([
      ['chatdev/WareHouse/BMI Calculator_DefaultOrganization_20230918110521/meta.txt', 'chatdev run sidecar, not a log'],
      ['chatdev/WareHouse/MBBusinessCardGen_jc_  ModelBest1024_20231024154846/meta.txt', 'chatdev run sidecar, not a log'],
      ['chatdev/WareHouse/Red Packet Rain - thu - α/meta.txt', 'chatdev run sidecar, not a log'],
      ['empty.log', 'no ChatDev log entries'],
      ['stray.bin', 'unknown file type'],
      ['who-and-when/Hand-Crafted/2.json', 'invalid JSON'],
    ])
  })

  it('follows symbolic links to trace files and folders, and reports a link that leads nowhere', () => {
    const store = mkdtempSync(join(tmpdir(), 'auren-trace-store-'))
    const linked = mkdtempSync(join(tmpdir(), 'auren-traces-linked-'))
    try {
      mkdirSync(join(store, 'run-a'))
      copyFileSync(join(FIXTURES, 'chatdev-basic.input.txt'), join(store, 'run-a', 'Run A.log'))
      mkdirSync(join(store, 'ww'))
      copyFileSync(join(FIXTURES, 'who-and-when-magentic.input.json'), join(store, 'ww', '7.json'))
      // A file link inside a real folder, a folder link, a dangling link and a link back to the root.
      mkdirSync(join(linked, 'chatdev', 'WareHouse', 'run-a'), { recursive: true })
      symlinkSync(join(store, 'run-a', 'Run A.log'), join(linked, 'chatdev', 'WareHouse', 'run-a', 'Run A.log'))
      symlinkSync(join(store, 'ww'), join(linked, 'who-and-when'))
      symlinkSync(join(store, 'gone.log'), join(linked, 'gone.log'))
      symlinkSync(linked, join(linked, 'loop'))

      const found = loadTraceRuns(linked)
      expect(found.runs.map((r) => [r.kind, r.file, r.events.length > 0])).toEqual([
        ['chatdev', 'chatdev/WareHouse/run-a/Run A.log', true],
        ['who-and-when', 'who-and-when/7.json', true],
      ])
      expect(found.skipped).toEqual([
        { file: 'gone.log', reason: 'broken symbolic link (ENOENT)' },
        { file: 'loop', reason: 'symbolic link to a folder already read' },
      ])
    } finally {
      rmSync(store, { recursive: true, force: true })
      rmSync(linked, { recursive: true, force: true })
    }
  })
})
