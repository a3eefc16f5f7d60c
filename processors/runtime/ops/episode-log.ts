import type { Logger } from 'pino'

/**
 * Logging of a transient, retried condition (broker unreachable, "The coordinator is loading",
 * database down) as an episode instead of one error line per retry: the first occurrence is a
 * warning, later ones are counted; while the episode lasts a warning with the count so far is
 * written every `remindMs`; when it ends (explicitly, or after `quietMs` without an occurrence)
 * one info line gives the count, the duration and the distinct messages seen.
 */
export interface EpisodeLog {
  /** Records one occurrence (`fields` go to the first line of the episode only). */
  occurred(fields: Record<string, unknown>, message: string): void
  /** Ends the episode now (the condition cleared), logging its summary; no-op outside one. */
  ended(): void
  /** True while an episode is open. */
  readonly active: boolean
  /** Occurrences in the open episode (0 outside one). */
  readonly count: number
}

/** Distinct messages kept in an episode's summary. */
const MAX_MESSAGES = 5

/**
 * Creates an episode logger.
 * @param what what the episode is, e.g. 'transient Kafka client errors (retried)'
 * @param opts quietMs: an episode ends after this long without an occurrence (default 30 000 ms);
 *   remindMs: period of the "still going on" warning (default 60 000 ms); now: clock, epoch ms
 */
export function createEpisodeLog(log: Logger, what: string, opts: { quietMs?: number; remindMs?: number; now?: () => number } = {}): EpisodeLog {
  const quietMs = opts.quietMs ?? 30_000
  const remindMs = opts.remindMs ?? 60_000
  const now = opts.now ?? Date.now
  let count = 0
  let startedAt = 0
  let lastAt = 0
  let remindedAt = 0
  let messages = new Set<string>()
  let quietTimer: NodeJS.Timeout | undefined

  const end = () => {
    if (count === 0) return
    clearTimeout(quietTimer)
    quietTimer = undefined
    log.info({ episode: what, count, durationMs: lastAt - startedAt, messages: [...messages] }, `${what}: episode over after ${count} occurrence(s)`)
    count = 0
    messages = new Set()
  }
  const armQuiet = () => {
    clearTimeout(quietTimer)
    quietTimer = setTimeout(end, quietMs)
    quietTimer.unref()
  }

  return {
    occurred(fields, message) {
      const t = now()
      if (messages.size < MAX_MESSAGES) messages.add(message)
      lastAt = t
      if (count++ === 0) {
        startedAt = remindedAt = t
        log.warn({ ...fields, episode: what, count: 1 }, `${what}: ${message}`)
      } else if (t - remindedAt >= remindMs) {
        remindedAt = t
        log.warn({ episode: what, count, sinceMs: t - startedAt, last: message }, `${what}: still going on`)
      }
      armQuiet()
    },
    ended: end,
    get active() {
      return count > 0
    },
    get count() {
      return count
    },
  }
}
