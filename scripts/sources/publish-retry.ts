/**
 * Producing through a broker outage, for `auren replay` and `auren simulate`: a send that fails
 * (the Kafka client gave up after its own retries, ~21 s) is tried again with backoff until it is
 * acknowledged or the give-up time has passed; then the command stops with how many events were
 * acknowledged, so it can be resumed with `--skip <n>`.
 *
 * Records are sent in requests of at most MAX_REQUEST_RECORDS, each retried alone, so the count of
 * acknowledged events is exact. A request that failed after the broker wrote it is written again
 * when retried (the idempotent producer only covers retries inside one attempt): such a copy has
 * the same `event_id`, which enrichment's dedup recognises (processors/enrichment/dedup.ts).
 */
import { MAX_REQUEST_RECORDS, type ProduceRecord, type RecordProducer } from '../../processors/runtime/kafka/kafka-client.ts'

/** How long to keep trying, and whom to tell. */
export interface RetryPolicy {
  /** Stop after the broker refused sends for this long, in ms (counted from the first failure of a request). Default 300 000. */
  readonly giveUpAfterMs?: number
  /** First pause after a failed attempt, ms; doubles up to maxBackoffMs. Default 1 000. */
  readonly initialBackoffMs?: number
  /** Longest pause between attempts, ms. Default 10 000. */
  readonly maxBackoffMs?: number
  /** Called after each failed attempt, before the pause. */
  readonly onRetry?: (info: { attempt: number; error: Error; failingForMs: number; nextInMs: number }) => void
  /** Aborting ends the pause and the retries (the command stops with what was sent). */
  readonly signal?: AbortSignal
  /** Clock and timer, replaceable in unit tests. */
  readonly now?: () => number
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
}

/** Thrown when the broker did not take a request within the give-up time (or the run was aborted). */
export class PublishInterruptedError extends Error {
  constructor(
    /** Events acknowledged by the broker before the stop (the count `--skip` resumes after). */
    readonly sent: number,
    /** The last error of the Kafka client. */
    readonly lastError: Error,
    /** How long the failing request was retried, ms. */
    readonly failingForMs: number,
  ) {
    super(`broker did not take events for ${Math.round(failingForMs / 1000)} s (last error: ${lastError.message}); ${sent} events were acknowledged`)
    this.name = 'PublishInterruptedError'
  }
}

const defaultSleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })

/**
 * Sends `records` in order, in requests of at most MAX_REQUEST_RECORDS, retrying each request
 * through broker outages.
 * @param sentBefore events acknowledged before this call (for the count in the error)
 * @param onAck called with the number of records of each acknowledged request
 * @throws PublishInterruptedError when one request kept failing for `giveUpAfterMs` or the signal
 *   was aborted while retrying; `sent` is sentBefore plus what this call got acknowledged
 */
export async function sendRetrying(producer: RecordProducer, records: readonly ProduceRecord[], policy: RetryPolicy = {}, sentBefore = 0, onAck?: (n: number) => void): Promise<void> {
  const now = policy.now ?? Date.now
  const sleep = policy.sleep ?? defaultSleep
  const giveUpAfterMs = policy.giveUpAfterMs ?? 300_000
  let sent = sentBefore
  for (let i = 0; i < records.length; i += MAX_REQUEST_RECORDS) {
    const request = records.slice(i, i + MAX_REQUEST_RECORDS)
    let firstFailure: number | null = null
    let backoff = policy.initialBackoffMs ?? 1_000
    for (let attempt = 1; ; attempt++) {
      try {
        await producer.send(request)
        break
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err))
        firstFailure ??= now()
        const failingForMs = now() - firstFailure
        if (failingForMs >= giveUpAfterMs || policy.signal?.aborted) throw new PublishInterruptedError(sent, error, failingForMs)
        const nextInMs = Math.min(backoff, policy.maxBackoffMs ?? 10_000)
        policy.onRetry?.({ attempt, error, failingForMs, nextInMs })
        await sleep(nextInMs, policy.signal)
        if (policy.signal?.aborted) throw new PublishInterruptedError(sent, error, now() - firstFailure)
        backoff *= 2
      }
    }
    sent += request.length
    onAck?.(request.length)
  }
}
