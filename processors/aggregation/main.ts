/**
 * Aggregation app: `node --import tsx processors/aggregation/main.ts`. Runs the migrations
 * (retried with backoff while the database does not answer; `/readyz` says why meanwhile and
 * always reports the database's state), then consumes the enriched topic into the PostgreSQL rollups (exactly-once), publishes closed
 * windows from the outbox to `auren.agent-metrics.v1` (at least once, key agent_id) and purges
 * old seen event ids. Configuration: runtime/config.ts plus ./config.ts (AUREN_AGGREGATION_*).
 */
import { runProcessorApp } from '../runtime/app.ts'
import { createEpisodeLog } from '../runtime/episode-log.ts'
import { reportFatal } from '../runtime/fatal.ts'
import { parseAggregationConfig } from './config.ts'
import { runMigrationsWithRetry } from './migrate.ts'
import { startDatabaseHealth, type DatabaseHealth } from './database-health.ts'
import { createAggregationSink, type AggregationSink } from './postgres-sink.ts'
import { createAggregationMetrics, recordAppliedBatch, type AggregationMetrics } from './metrics.ts'
import { aggregationDefinition, observeAggregation } from './definition.ts'

/** How often the outbox publisher and the seen-id purge run, ms. */
const PUBLISH_EVERY_MS = 1_000
const PURGE_EVERY_MS = 10 * 60_000

try {
  let sink: AggregationSink | undefined
  let metrics: AggregationMetrics | undefined
  let database: DatabaseHealth | undefined
  await runProcessorApp({
    name: 'auren-aggregation',
    parseAppConfig: parseAggregationConfig,
    build: async ({ appConfig, registry, log, addReadinessCheck }) => {
      const db = (database = startDatabaseHealth(appConfig.databaseUrl, log))
      addReadinessCheck('database', db.check)
      const applied = await runMigrationsWithRetry(appConfig.databaseUrl, { schema: appConfig.dbSchema }, { log, onFailure: db.report })
      await db.probe()
      log.info({ applied, schema: appConfig.dbSchema }, 'migrations up to date')
      sink = createAggregationSink(appConfig.databaseUrl, {
        log,
        windowMs: appConfig.windowMs,
        allowedLatenessMs: appConfig.allowedLatenessMs,
        expectedPartitions: appConfig.expectedPartitions,
        schema: appConfig.dbSchema,
        poolSize: appConfig.dbPoolSize,
        onCommitted: (batch) => metrics && recordAppliedBatch(metrics, batch),
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
      const failures = createEpisodeLog(log, 'outbox publish failed (retried)')
      const publish = async () => {
        while (running) {
          try {
            const n = await s.publishPending(500, (records) =>
              producer.send(records.map((r) => ({ topic: topics.agentMetrics, key: r.key, value: serde.encode(schemaId, 'agent-metrics-window', r.value) }))),
            )
            failures.ended()
            if (n === 0) await new Promise((r) => setTimeout(r, PUBLISH_EVERY_MS))
          } catch (err) {
            failures.occurred({ err }, (err as Error).message)
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
        await database?.stop()
      }
    },
  })
} catch (err) {
  reportFatal('auren-aggregation', err)
}
