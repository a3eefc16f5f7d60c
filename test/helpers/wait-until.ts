/**
 * The one polling helper of the tests: calls `check` until it returns a value other than
 * undefined/false (or stops throwing), then returns that value.
 * @throws Error naming `what` and the last failure when `timeoutMs` passes first
 */
export async function waitUntil<T>(what: string, check: () => T | Promise<T>, opts: { timeoutMs?: number; everyMs?: number } = {}): Promise<Exclude<T, false | undefined>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000)
  let last: unknown
  for (;;) {
    try {
      const v = await check()
      if (v !== undefined && v !== false) return v as Exclude<T, false | undefined>
      last = undefined
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`)
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 20))
  }
}
