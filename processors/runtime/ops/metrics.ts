import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { registerMemoryLimitMetric } from './memory-limit.ts'

export { registerMemoryLimitMetric }

/**
 * Runner metrics every processor exposes (CONTRACTS.md section 4). Label `processor` on all;
 * never user_id, trace_id or event_id as a label.
 */
export interface RunnerMetrics {
  /** auren_records_consumed_total{processor,topic}: records read from the input topic. */
  consumed: Counter<'processor' | 'topic'>
  /** auren_records_produced_total{processor,topic}: records acknowledged on an output or DLQ topic. */
  produced: Counter<'processor' | 'topic'>
  /** auren_records_dead_lettered_total{processor,reason}: records sent to the DLQ, by reason. */
  deadLettered: Counter<'processor' | 'reason'>
  /** auren_records_skipped_total{processor,reason}: records deliberately not forwarded (e.g. duplicate). */
  skipped: Counter<'processor' | 'reason'>
  /** auren_processing_duration_seconds{processor}: decode + transform + produce + commit time of a batch, per record. */
  processingDuration: Histogram<'processor'>
  /** auren_event_lag_seconds{processor,tier}: event time to processed (acknowledged), seconds. */
  eventLag: Histogram<'processor' | 'tier'>
  /** auren_consumer_lag_records{processor,topic,partition}: log end offset minus next offset to process. */
  consumerLag: Gauge<'processor' | 'topic' | 'partition'>
  /** auren_rebalances_total{processor}: consumer group rebalances this instance took part in. */
  rebalances: Counter<'processor'>
  /** auren_commit_duration_seconds{processor}: time of one synchronous offset commit. */
  commitDuration: Histogram<'processor'>
}

/** Buckets of auren_processing_duration_seconds: 50 µs to 5 s. */
const PROCESSING_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
/** Buckets of auren_event_lag_seconds: 5 ms to 1 day (replays of old runs land in the top buckets). */
const LAG_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 86400]

/**
 * A registry with the process's default metrics (CPU, memory, event loop lag) and the runner
 * metrics registered on it.
 */
export function createRunnerRegistry(): { registry: Registry; metrics: RunnerMetrics } {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  registerMemoryLimitMetric(registry)
  const registers = [registry]
  return {
    registry,
    metrics: {
      consumed: new Counter({ name: 'auren_records_consumed_total', help: 'Records consumed from the input topic', labelNames: ['processor', 'topic'], registers }),
      produced: new Counter({ name: 'auren_records_produced_total', help: 'Records acknowledged by the broker on an output topic', labelNames: ['processor', 'topic'], registers }),
      deadLettered: new Counter({ name: 'auren_records_dead_lettered_total', help: 'Records sent to the dead-letter topic, by reason', labelNames: ['processor', 'reason'], registers }),
      skipped: new Counter({ name: 'auren_records_skipped_total', help: 'Records deliberately not forwarded, by reason', labelNames: ['processor', 'reason'], registers }),
      processingDuration: new Histogram({ name: 'auren_processing_duration_seconds', help: 'Processing time per record (decode, transform, produce, commit), seconds', labelNames: ['processor'], buckets: PROCESSING_BUCKETS, registers }),
      eventLag: new Histogram({ name: 'auren_event_lag_seconds', help: 'Event time to processed, seconds', labelNames: ['processor', 'tier'], buckets: LAG_BUCKETS, registers }),
      consumerLag: new Gauge({ name: 'auren_consumer_lag_records', help: 'Log end offset minus the next offset to process', labelNames: ['processor', 'topic', 'partition'], registers }),
      rebalances: new Counter({ name: 'auren_rebalances_total', help: 'Consumer group rebalances this instance took part in', labelNames: ['processor'], registers }),
      commitDuration: new Histogram({ name: 'auren_commit_duration_seconds', help: 'Offset commit time, seconds', labelNames: ['processor'], buckets: PROCESSING_BUCKETS, registers }),
    },
  }
}
