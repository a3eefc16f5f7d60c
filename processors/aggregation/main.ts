/**
 * Aggregation app: `node --import tsx processors/aggregation/main.ts`. Runs the migrations,
 * then consumes the enriched topic into the PostgreSQL rollups (exactly-once), publishes closed
 * windows from the outbox to `auren.agent-metrics.v1` (at least once, key agent_id) and purges
 * old seen event ids. Configuration: runtime/config.ts plus ./config.ts (AUREN_AGGREGATION_*).
 */
import { runProcessorApp } from '../runtime/app.ts'
import { parseAggregationConfig } from './config.ts'
import { runMigrations } from './migrate.ts'
import { createAggregationSink, type AggregationSink } from './postgres-sink.ts'
import { createAggregationMetrics, recordAppliedBatch, type AggregationMetrics } from './metrics.ts'
import { aggregationDefinition, observeAggregation } from './definition.ts'
import { createSignalMetrics, recordSignalRows } from './signal-metrics.ts'

/** How often the outbox publisher and the seen-id purge run, ms. */
const PUBLISH_EVERY_MS = 1_000
const PURGE_EVERY_MS = 10 * 60_000

try {
  let sink: AggregationSink | undefined
  let metrics: AggregationMetrics | undefined
  await runProcessorApp({
    name: 'auren-aggregation',
    parseAppConfig: parseAggregationConfig,
    build: async ({ appConfig, registry, log }) => {
      const applied = await runMigrations(appConfig.databaseUrl, { schema: appConfig.dbSchema })
      log.info({ applied, schema: appConfig.dbSchema }, 'migrations up to date')
      const signals = createSignalMetrics(registry)
      sink = createAggregationSink(appConfig.databaseUrl, {
        windowMs: appConfig.windowMs,
        allowedLatenessMs: appConfig.allowedLatenessMs,
        expectedPartitions: appConfig.expectedPartitions,
        schema: appConfig.dbSchema,
        poolSize: appConfig.dbPoolSize,
        onCommitted: (batch) => {
          if (metrics) recordAppliedBatch(metrics, batch)
          recordSignalRows(signals, batch.merged)
        },
      })
      const s = sink
      metrics = createAggregationMetrics(registry, () => s.countActiveAgents(appConfig.activeWindowMs))
      return { definition: aggregationDefinition(s, appConfig.windowMs), observe: observeAggregation }
    },
    background: async ({ driver, serde, topics, log }) => {
      const s = sink!
      const config = parseAggregationConfig(process.env)
      const producer = await driver.producer()
      const schemaId = await serde.register(topics.agentMetrics, 'agent-metrics-window')
      let running = true
      const publish = async () => {
        while (running) {
          try {
            const n = await s.publishPending(500, (records) =>
              producer.send(records.map((r) => ({ topic: topics.agentMetrics, key: r.key, value: serde.encode(schemaId, 'agent-metrics-window', r.value) }))),
            )
            if (n === 0) await new Promise((r) => setTimeout(r, PUBLISH_EVERY_MS))
          } catch (err) {
            log.warn({ err }, 'outbox publish failed; retrying')
            await new Promise((r) => setTimeout(r, PUBLISH_EVERY_MS))
          }
        }
      }
      const publishing = publish()
      const purge = setInterval(() => {
        if (config.seenRetentionMs > 0) void s.purgeSeenEvents(config.seenRetentionMs).catch((err: unknown) => log.warn({ err }, 'purge of seen event ids failed'))
      }, PURGE_EVERY_MS)
      return async () => {
        running = false
        clearInterval(purge)
        await publishing
        await producer.disconnect()
      }
    },
  })
} catch (err) {
  console.error((err as Error).message)
  process.exit(1)
}
