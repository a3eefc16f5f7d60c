/**
 * Aggregation app: `node --import tsx processors/aggregation/main.ts`. Runs the migrations (retried
 * while PostgreSQL does not answer; `/readyz` reports the database), then consumes the enriched
 * topic into the PostgreSQL rollups (exactly-once); the runtime publishes closed windows from the
 * outbox to `auren.agent-metrics.v1` (at least once, key agent_id).
 * Configuration: runtime/ops/config.ts plus ./config.ts (AUREN_AGGREGATION_*).
 */
import { runProcessorApp } from '../runtime/app.ts'
import { parseAggregationConfig } from './config.ts'
import { runMigrationsWithRetry } from './migrate.ts'
import { startDatabaseHealth } from './database-health.ts'
import { createAggregationSink } from './postgres-sink.ts'
import { createAggregationMetrics, recordAppliedBatch } from './metrics.ts'
import { aggregationDefinition } from './definition.ts'
import { createSignalMetrics, recordSignalRows } from './signal-metrics.ts'

await runProcessorApp({
  name: 'auren-aggregation',
  parseAppConfig: parseAggregationConfig,
  build: async ({ appConfig: c, registry, log, addReadinessCheck }) => {
    const signals = createSignalMetrics(registry)
    const db = startDatabaseHealth(c.databaseUrl, log)
    addReadinessCheck('database', db.check)
    log.info({ applied: await runMigrationsWithRetry(c.databaseUrl, { schema: c.dbSchema }, { log, onFailure: db.report }), schema: c.dbSchema }, 'migrations up to date')
    const sink = createAggregationSink(c.databaseUrl, {
      windowMs: c.windowMs, allowedLatenessMs: c.allowedLatenessMs, idleTimeoutMs: c.idleTimeoutMs, expectedPartitions: c.expectedPartitions,
      schema: c.dbSchema, poolSize: c.dbPoolSize, seenRetentionMs: c.seenRetentionMs, log, onCommitted: (batch) => {
        recordAppliedBatch(metrics, batch)
        recordSignalRows(signals, batch.merged)
      },
    })
    const metrics = createAggregationMetrics(registry, () => sink.countActiveAgents(c.activeWindowMs))
    return {
      definition: aggregationDefinition(sink, c.windowMs),
      outboxes: [{ from: sink.outbox, topic: 'agentMetrics', schema: 'agent-metrics-window' }],
      closers: [db.stop],
    }
  },
})
