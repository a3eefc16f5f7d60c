/**
 * Waiting for a running app's /metrics to show what a test expects.
 *
 * The runner moves its counters only after a batch's offsets are committed, which follows the
 * broker ack that already made the records visible to a test's consumer; reading /metrics right
 * after seeing the records therefore races that commit.
 */
import type { AppProcess } from './processes.ts'
import { waitUntil } from './wait-until.ts'

/** A pattern the /metrics text must match, or a named check on the whole text. */
export type MetricsCondition = RegExp | { name: string; test: (text: string) => boolean }

/**
 * Polls `app.metrics()` every 100 ms until every condition holds, and returns that text.
 * @throws Error naming the conditions still unmet after `timeoutMs` (default 15 000 ms).
 */
export async function waitForMetrics(app: Pick<AppProcess, 'metrics'>, conditions: readonly MetricsCondition[], timeoutMs = 15_000): Promise<string> {
  return waitUntil('metrics', async () => {
    const text = await app.metrics().catch(() => '')
    const missing = conditions.filter((c) => !c.test(text)).map((c) => (c instanceof RegExp ? String(c) : c.name))
    if (missing.length > 0) throw new Error(`not reached within ${timeoutMs} ms: ${missing.join(', ')}\n${text}`)
    return text
  }, { timeoutMs, everyMs: 100 })
}
