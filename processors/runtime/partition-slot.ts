/**
 * The runner's book of one assigned input partition: its state (partition-state.ts), the
 * position the sink stored or acknowledged, the processing time of its last record, and a queue
 * that runs its batches and ticks one at a time.
 */
import type { PartitionRef } from './context.ts'
import type { ProduceRecord } from './kafka/kafka-client.ts'
import { jsonCodec, type PartitionState, type StateCodec, type StateSpec } from './partition-state.ts'

/** One assigned partition (module doc). */
export class PartitionSlot<S> {
  readonly ref: PartitionRef
  /** Assignment generation this slot belongs to; a slot of an older generation is stale. */
  readonly generation: number
  /** Loaded: stored offset read and state restored. */
  loaded = false
  /** Next offset stored in the sink (`offsets: 'sink'` sinks; the group's committed offset, read after the sink settled the partition's transactions, for `in-transaction` ones); undefined when none stored. */
  stored: bigint | undefined
  /** Positioned on the stored offset since the assignment: sought once, or a batch processed (position.ts). */
  positioned = false
  /** Next offset of the last batch handed to the sink (the position of a tick); undefined before any. */
  position: string | undefined
  /** Processing time (epoch ms) of the last record handled on this partition since assignment. */
  lastRecordAtMs: number | null = null
  /** Records left to read as last measured since assignment (after a batch, or by the lag monitor); null before any (context.ts `PunctuationContext.lagRecords`). */
  lagRecords: number | null = null
  /** A tick is queued or running. */
  tickQueued = false
  /**
   * Batches answered `pending` by the sink, waiting for its acknowledgement, in position order,
   * with the dead letters held until then (acknowledgement.ts).
   */
  readonly pendingAcks: { nextOffset: bigint; done: () => void; deadLetters?: readonly ProduceRecord[] }[] = []
  private chain: Promise<unknown> = Promise.resolve()
  private value: S
  private savedJson: string | undefined
  private dirty = false
  private readonly codec: StateCodec<S> | undefined
  private readonly spec: StateSpec<S> | undefined

  constructor(ref: PartitionRef, generation: number, spec: StateSpec<S> | undefined) {
    this.ref = ref
    this.generation = generation
    this.spec = spec
    this.codec = spec ? (spec.codec ?? jsonCodec<S>()) : undefined
    this.value = (spec ? spec.initial() : undefined) as S
  }

  /** Runs `work` after every batch and tick queued before it on this partition. */
  serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.chain.then(work, work)
    this.chain = run.catch(() => undefined)
    return run
  }

  /** Restores the state from stored JSON (undefined: the initial state). @throws what the codec's decode throws */
  restore(json: string | undefined): void {
    if (!this.spec || !this.codec) return
    this.value = json === undefined ? this.spec.initial() : this.codec.decode(json)
    this.savedJson = json
    this.dirty = false
  }

  /** The holder handed to transform and punctuate. */
  readonly state: PartitionState<S> = {
    get: () => this.value,
    set: (next: S) => {
      this.value = next
      this.dirty = true
    },
  }

  /** JSON of the state when it changed since the last save, else undefined. */
  changedJson(): string | undefined {
    return this.dirty && this.codec ? this.codec.encode(this.value) : undefined
  }

  /** The change was made durable with its batch. */
  saved(json: string | undefined): void {
    if (json === undefined) return
    this.savedJson = json
    this.dirty = false
  }

  /** The batch failed: back to the last saved state, so the redelivered batch starts from it. */
  rollback(): void {
    if (!this.dirty) return
    this.restore(this.savedJson)
  }
}
