/**
 * Suites that stand on data or tools outside the repository (the recorded runs in
 * `../shared/data/agent-traces`, Debian's Chromium) fail with a clear message when it is missing:
 * a suite that skipped itself would count as green without having run.
 */
import { existsSync } from 'node:fs'

/**
 * Throws when `path` does not exist; call it at the top of a test file so the file fails at once.
 * @param what what the path holds, for the message (e.g. "recorded runs")
 * @param hint how to get it
 * @throws Error naming the path, what it should hold and how to get it
 */
export function requirePath(path: string, what: string, hint: string): void {
  if (!existsSync(path)) throw new Error(`${what} missing at ${path}: this suite needs them and does not skip (${hint})`)
}

/** The recorded runs every replay suite reads: fails the file when they are missing. */
export function requireRecordedRuns(path: string): void {
  requirePath(path, 'recorded runs', 'see ../shared/data/agent-traces/README.md; AUREN_DEMO_TRACES points the demo tests at another folder')
}
