/** Polling for tests: wait for a condition instead of sleeping a fixed time. */

/** Options of {@link waitUntil}. */
export interface WaitOptions {
  /** Give up after this many ms (default 30 000). */
  timeoutMs?: number
  /** Pause between attempts, ms (default 200). */
  intervalMs?: number
  /** What is awaited, for the timeout message. */
  what: string
}

/**
 * Calls `probe` until it returns a truthy value, and returns that value.
 * @throws Error naming `what` (and the probe's last error, if it threw) after `timeoutMs`.
 */
export async function waitUntil<T>(probe: () => T | Promise<T>, options: WaitOptions): Promise<NonNullable<T>> {
  const { timeoutMs = 30_000, intervalMs = 200, what } = options
  const deadline = Date.now() + timeoutMs
  let lastError: unknown = null
  for (;;) {
    try {
      const value = await probe()
      if (value) return value as NonNullable<T>
      lastError = null
    } catch (err) {
      lastError = err
    }
    if (Date.now() >= deadline) {
      const cause = lastError instanceof Error ? `; last error: ${lastError.message}` : ''
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`)
    }
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}
