/**
 * `input_complexity` (CONTRACTS.md section 3): a coarse size class of an event's input.
 * - LLM calls (`llm_call_*`): `payload.input_tokens`;
 * - tool calls (`tool_usage_*`): `payload.input_size_bytes` (null when the producer omits it);
 * - every other event: null.
 *
 * `simple` below `medium`, `medium` from `medium` up to `complex` (exclusive), `complex` from
 * `complex` on. Default thresholds (config.ts) and where they come from:
 * - LLM: 1,000 and 4,096 input tokens. 1,000 is about the 30th percentile of the 364 parsed
 *   prompt sizes of the ChatDev sample (p50 1,262, p90 2,106, max 4,646; agent-traces README
 *   "Measured counts"); 4,096 is the context window of the original gpt-3.5-turbo, past which
 *   a call needs a long-context model (ChatDev used gpt-3.5-turbo-16k for that reason).
 * - Tools: 1 KiB and 16 KiB of input. The ChatDev code writes (`[Update Codes]` bodies) are
 *   p50 0.5 KiB and p90 1.5 KiB, so 1 KiB splits them; 16 KiB is a whole multi-file program.
 */
import type { AgentEvent, InputComplexity } from '../../schemas/index.ts'

/** Inclusive lower bounds of `medium` and `complex`; medium < complex. */
export interface Thresholds {
  readonly medium: number
  readonly complex: number
}

/** Thresholds per input kind (config.ts `complexity`). */
export interface ComplexityOptions {
  /** Input tokens of LLM calls. */
  readonly llmTokens: Thresholds
  /** Input bytes of tool calls. */
  readonly toolBytes: Thresholds
}

/** Size class of `size` under thresholds `t`. */
export function classify(size: number, t: Thresholds): InputComplexity {
  if (size >= t.complex) return 'complex'
  if (size >= t.medium) return 'medium'
  return 'simple'
}

/** Size class of the event's input, or null when the event has no measured input. */
export function inputComplexity(event: AgentEvent, opts: ComplexityOptions): InputComplexity | null {
  switch (event.event_type) {
    case 'llm_call_started':
    case 'llm_call_completed':
      return classify(event.payload.input_tokens, opts.llmTokens)
    case 'tool_usage_started':
    case 'tool_usage_completed':
      return event.payload.input_size_bytes === null ? null : classify(event.payload.input_size_bytes, opts.toolBytes)
    default:
      return null
  }
}
