import type { RootSchemaName, TopicKey } from '../../schemas/index.ts'
import type { Outcome } from './outcome.ts'
import type { ProcessorContext } from './context.ts'
import type { TransactionalSink } from './sink.ts'

/** Names of the processor apps: consumer group suffix, metric label, logger name. */
export type ProcessorName = 'enrichment' | 'aggregation' | 'alerting' | 'archival'

/**
 * What a processor app supplies; the runner does the rest (consume, decode, transform, produce,
 * commit, dead-letter, metrics, shutdown). `In` is the decoded value of the input topic after
 * `decode`; `Out` is the value of the output topic before encoding.
 */
export interface ProcessorDefinition<In, Out> {
  /** Stable id of the app. */
  readonly name: ProcessorName
  /** Input topic and the schema family its values use. */
  readonly input: { readonly topic: TopicKey; readonly schema: RootSchemaName }
  /** Output topic and schema family; omitted for processors that write only to a sink. */
  readonly output?: { readonly topic: TopicKey; readonly schema: RootSchemaName }
  /**
   * Exactly-once sink that stores emitted values and the consumer offsets in one transaction
   * (sink.ts); emitted values go there instead of to an output topic.
   */
  readonly sink?: TransactionalSink<Out>
  /**
   * Maps the avsc-decoded value to In. Throwing here dead-letters the record as
   * VALIDATION_FAILED with the error's message (e.g. payload branch and event_type disagree).
   */
  readonly decode: (value: unknown) => In
  /** Maps Out to the value avsc encodes (e.g. wraps the payload union). */
  readonly encode: (value: Out) => unknown
  /**
   * Pure: must not perform I/O. Invalid input is a `dead-letter` outcome, not an exception.
   * Throw only an AurenError with retriable=true for a transient fault; any other throw
   * dead-letters the record as PROCESSING_FAILED.
   */
  readonly transform: (input: In, ctx: ProcessorContext) => Outcome<Out>
}

/** Identity helper that fixes the type parameters of a definition. */
export function defineProcessor<In, Out>(definition: ProcessorDefinition<In, Out>): ProcessorDefinition<In, Out> {
  return Object.freeze(definition)
}
