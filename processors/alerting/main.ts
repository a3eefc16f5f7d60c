/**
 * Alerting app: `node --import tsx processors/alerting/main.ts`. Checks the stream rule file
 * (exit 2 listing every error), then evaluates the rules over the enriched events and the metric
 * windows; the rule states, the offsets and the state changes are stored in one PostgreSQL
 * transaction; the runtime publishes the changes to `auren.alerts.v1` (key fingerprint) and the
 * delivery loop sends them to the Alertmanager, both at least once from their outboxes.
 * Configuration: runtime/ops/config.ts plus ./config.ts.
 */
import { runProcessorApp } from '../runtime/app.ts'
import { OutboxSignal } from '../runtime/sinks/outbox.ts'
import { createPgPool } from '../runtime/sinks/postgres.ts'
import { topicNames } from '../../schemas/index.ts'
import { createAlertingSink, ensurePartialsTables, partialsEncoder, partialsOutboxTable } from './alerting-sink.ts'
import { parseAlertingConfig } from './config.ts'
import { alertingDefinition } from './definition.ts'
import { readPartitionCounts } from './partition-counts.ts'
import { createAlertingMetrics } from './metrics.ts'
import { alertOutboxTable, ensureAlertTables, firingCounts, startAlertDelivery, type AlertDelivery } from './notifiers/alert-delivery.ts'
import { DEFAULT_RULE_FILE, loadRuleFile } from './rule-file.ts'

const rulesFile = process.env.AUREN_ALERTING_RULES_FILE || DEFAULT_RULE_FILE
const rules = loadRuleFile(rulesFile)
if (!rules.ok) {
  process.stderr.write(`invalid stream rule file ${rulesFile} (${rules.errors.length} errors):\n${rules.errors.map((e) => `  - ${e}`).join('\n')}\n`)
  process.exit(2)
}

let startDelivery: (() => AlertDelivery) | undefined

await runProcessorApp({
  name: 'auren-alerting',
  parseAppConfig: parseAlertingConfig,
  build: async ({ appConfig: c, registry, log, config, serde }) => {
    const pool = createPgPool({ url: c.databaseUrl, max: c.dbPoolSize, schema: c.dbSchema, log })
    const encodePartials = partialsEncoder(serde, topicNames(config.topicPrefix).alertPartials)
    await pool.query(`CREATE SCHEMA IF NOT EXISTS ${c.dbSchema}`)
    await ensureAlertTables(pool)
    await ensurePartialsTables(pool, encodePartials)
    const onCommitted = createAlertingMetrics(registry, () => firingCounts(pool), rules.rules)
    const sink = createAlertingSink(pool, encodePartials)
    const partitions = await readPartitionCounts({ brokers: config.kafkaBrokers, topics: topicNames(config.topicPrefix), log })
    log.info({ rulesFile, rules: rules.rules.map((r) => r.id) }, 'stream rules loaded')
    startDelivery = () => startAlertDelivery({
      pool, target: { baseUrl: c.alertmanagerUrl, timeoutMs: 5_000 }, resendIntervalMs: c.resendIntervalMs, pollIntervalMs: c.deliveryPollMs,
      generatorBaseUrl: c.externalUrl ?? `http://${config.httpHost}:${config.httpPort}`, log, registry,
    })
    // Each publisher is woken by the commits that wrote its rows; its interval is the fallback.
    const committed = { alerts: new OutboxSignal(), partials: new OutboxSignal() }
    return {
      definition: alertingDefinition(sink, { rules: rules.rules, maxGroupsPerRule: c.maxGroupsPerRule, replayLagMs: c.replayLagMs, idleTimeoutMs: c.idleTimeoutMs, allowedLatenessMs: c.allowedLatenessMs, onCommitted, committed, partitions }),
      outboxes: [
        { from: alertOutboxTable(pool), topic: 'alerts', schema: 'alert', committed: committed.alerts },
        { from: partialsOutboxTable(pool), topic: 'alertPartials', schema: 'alert-partial', intervalMs: c.partialsPublishIntervalMs, committed: committed.partials },
      ],
    }
  },
  // The Alertmanager delivery runs beside the runner and stops before it.
  background: async () => {
    const delivery = startDelivery!()
    return () => delivery.stop()
  },
})
