/**
 * The runner's bookkeeping after a batch is acknowledged: the standard metrics
 * (CONTRACTS.md section 4) and the definition's `afterCommit` hook.
 */
import type { Logger } from 'pino'
import type { CommittedBatch, LagObservation, ProcessorDefinition } from './define-processor.ts'
import type { RunnerMetrics } from './ops/metrics.ts'

const labelCache = new Map<string, { processor: string; tier: string }>()

/** Adds acknowledged records per full topic name to auren_records_produced_total. */
export function countProduced(m: RunnerMetrics, processor: string, produced: ReadonlyMap<string, number> | undefined): void {
  if (!produced) return
  for (const [topic, n] of produced) if (n > 0) m.produced.inc({ processor, topic }, n)
}

/**
 * Records auren_event_lag_seconds for each observation (event time to `doneMs`) and
 * auren_processing_duration_seconds per record (batch time / records handled).
 */
export function observeBatch(m: RunnerMetrics, processor: string, lags: readonly LagObservation[], doneMs: number, startedNs: bigint, handled: number): void {
  for (const l of lags) {
    const k = `${processor}\u0000${l.tier}`
    let labels = labelCache.get(k)
    if (!labels) labelCache.set(k, (labels = { processor, tier: l.tier }))
    m.eventLag.observe(labels, Math.max(0, (doneMs - l.eventTimeMs) / 1000))
  }
  if (handled === 0) return
  const perRecordSeconds = Number(process.hrtime.bigint() - startedNs) / 1e9 / handled
  // prom-client has no public way to add n equal observations at once: one observe per record.
  const labels = { processor }
  for (let i = 0; i < handled; i++) m.processingDuration.observe(labels, perRecordSeconds)
}

/** Calls the definition's afterCommit hook; a throw is logged, never fails the committed batch. */
export function afterCommitSafely<In, Out, S>(def: ProcessorDefinition<In, Out, S>, log: Logger, batch: CommittedBatch<In, Out>): void {
  if (!def.afterCommit) return
  try {
    def.afterCommit(batch)
  } catch (err) {
    log.error({ err, topic: batch.partition.topic, partition: batch.partition.partition }, 'afterCommit threw; ignored')
  }
}
