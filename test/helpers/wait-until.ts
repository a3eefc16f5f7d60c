/** Options of {@link waitUntil}. */
export interface WaitOptions<T = unknown> {
  /** Give up after this long, ms. Default 10 000. */
  readonly timeoutMs?: number
  /** Pause between two checks, ms. Default 20. */
  readonly everyMs?: number
  /** An error `check` throws for which this returns true ends the wait at once (rethrown), e.g. the process under test exited. */
  readonly stopOn?: (err: unknown) => boolean
  /**
   * Describes the last value `check` returned (undefined/false, or what it returned before
   * throwing) for the timeout message, e.g. `(n) => `${n} rows``; also called with undefined
   * when `check` never returned. Default: the value as JSON when it is neither undefined nor false.
   */
  readonly describe?: (last: T | undefined) => string
}

/** Resolves after `ms` milliseconds. For pacing a load or a schedule only, never to wait for an outcome: use {@link waitUntil}. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function shown(value: unknown): string {
  if (value === undefined || value === false) return ''
  try {
    return JSON.stringify(value)?.slice(0, 2_000) ?? String(value)
  } catch {
    return String(value)
  }
}

/**
 * The one polling helper of the tests: calls `check` until it returns a value other than
 * undefined/false (or stops throwing), then returns that value.
 * @throws Error naming `what`, the last failure and the last value (see {@link WaitOptions.describe})
 *   when `timeoutMs` passes first; the error itself when `stopOn` accepts it
 */
export async function waitUntil<T>(what: string, check: () => T | Promise<T>, opts: WaitOptions<T> = {}): Promise<Exclude<T, false | undefined>> {
  const timeoutMs = opts.timeoutMs ?? 10_000
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  let lastValue: T | undefined
  for (;;) {
    try {
      const v = await check()
      if (v !== undefined && v !== false) return v as Exclude<T, false | undefined>
      lastError = undefined
      lastValue = v
    } catch (err) {
      if (opts.stopOn?.(err)) throw err
      lastError = err
    }
    if (Date.now() > deadline) {
      const seen = opts.describe ? opts.describe(lastValue) : shown(lastValue)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}${seen ? `; last seen: ${seen}` : ''}`)
    }
    await pause(opts.everyMs ?? 20)
  }
}
