/** Options of {@link waitUntil}. */
export interface WaitOptions {
  /** Give up after this long, ms. Default 10 000. */
  readonly timeoutMs?: number
  /** Pause between two checks, ms. Default 20. */
  readonly everyMs?: number
  /** An error `check` throws for which this returns true ends the wait at once (rethrown), e.g. the process under test exited. */
  readonly stopOn?: (err: unknown) => boolean
}

/**
 * The one polling helper of the tests: calls `check` until it returns a value other than
 * undefined/false (or stops throwing), then returns that value.
 * @throws Error naming `what` and the last failure when `timeoutMs` passes first; the error
 *   itself when `stopOn` accepts it
 */
export async function waitUntil<T>(what: string, check: () => T | Promise<T>, opts: WaitOptions = {}): Promise<Exclude<T, false | undefined>> {
  const timeoutMs = opts.timeoutMs ?? 10_000
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const v = await check()
      if (v !== undefined && v !== false) return v as Exclude<T, false | undefined>
      last = undefined
    } catch (err) {
      if (opts.stopOn?.(err)) throw err
      last = err
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`)
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 20))
  }
}
