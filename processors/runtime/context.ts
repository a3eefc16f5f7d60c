import type { Logger } from 'pino'
import type { Registry } from 'prom-client'

/** Where an input record came from. `offset` is Kafka's decimal string. */
export interface RecordCoordinates {
  topic: string
  partition: number
  offset: string
}

/**
 * What the runner hands a transform with each record (STYLE.md principle 5: dependencies are
 * injected). Transforms must not perform I/O; `now()` is the clock (tests pass a fixed one).
 */
export interface ProcessorContext {
  /** Child logger bound to processor, topic and partition. */
  readonly log: Logger
  /** Clock: epoch milliseconds. */
  readonly now: () => number
  /** Source coordinates of the record being transformed. */
  readonly source: RecordCoordinates
  /** Registry where the processor's domain metrics live. */
  readonly registry: Registry
}
