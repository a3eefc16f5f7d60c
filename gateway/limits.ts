/**
 * Per-connection limits (pure; the caller passes `nowMs` and the socket's `bufferedAmount`).
 *
 * - {@link TokenBucket}: client messages per connection. A message over the limit is answered
 *   `error` RATE_LIMITED; `maxStrikes` refusals in a row (no accepted message between them) close
 *   the connection with 4429.
 * - {@link slowClientAction}: what to do with a frame given the bytes still queued on the socket:
 *   above `dropAnalyticalBytes` analytical batches are dropped (counted), above `closeBytes` the
 *   client is too slow and is closed with 1013.
 */

export interface RateLimit {
  /** Messages refilled per second. */
  readonly perSecond: number
  /** Bucket size: messages allowed in a burst. */
  readonly burst: number
  /** Refusals in a row that close the connection (4429). */
  readonly maxStrikes: number
}

export type RateDecision = 'accept' | 'refuse' | 'close'

export class TokenBucket {
  private tokens: number
  private lastMs: number
  private strikes = 0

  constructor(
    private readonly limit: RateLimit,
    nowMs: number,
  ) {
    this.tokens = limit.burst
    this.lastMs = nowMs
  }

  /** Takes one token for a message received at `nowMs`. */
  take(nowMs: number): RateDecision {
    this.tokens = Math.min(this.limit.burst, this.tokens + ((nowMs - this.lastMs) / 1000) * this.limit.perSecond)
    this.lastMs = nowMs
    if (this.tokens >= 1) {
      this.tokens -= 1
      this.strikes = 0
      return 'accept'
    }
    this.strikes++
    return this.strikes >= this.limit.maxStrikes ? 'close' : 'refuse'
  }
}

export interface SlowClientPolicy {
  /** Queued bytes above which analytical batches are dropped. */
  readonly dropAnalyticalBytes: number
  /** Queued bytes above which the client is closed (1013). */
  readonly closeBytes: number
}

/**
 * @param tier the frame's tier (null: not an event frame)
 * @param bufferedBytes the socket's `bufferedAmount`, bytes
 */
export function slowClientAction(policy: SlowClientPolicy, tier: string | null, bufferedBytes: number): 'send' | 'drop' | 'close' {
  if (bufferedBytes > policy.closeBytes) return 'close'
  if (bufferedBytes > policy.dropAnalyticalBytes && tier === 'analytical') return 'drop'
  return 'send'
}
