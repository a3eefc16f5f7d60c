/**
 * The one retry backoff of every app: a retried batch, a consumer restart, a start that waits
 * for the broker, registry or database (processors' runner, the gateway's stream consumer).
 */

/** Wait before retry number `attempt` (0-based), ms: 250 ms doubling to 10 s. */
export const backoffMs = (attempt: number): number => Math.min(10_000, 250 * 2 ** Math.min(attempt, 6))
