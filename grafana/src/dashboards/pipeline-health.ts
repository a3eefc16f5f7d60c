/** Pipeline health, for data engineers: flow, dead letters, lag, durations, rebalances, backlog. */
import type { DashboardSpec } from '../board.ts'
import { series, single, grid } from '../panels.ts'
import { prom, rangeTotal, sel, sqlTable } from '../queries.ts'
import { CONSUMER_LAG_STEPS, EVENT_LAG_STEPS, REBALANCE_STEPS, ZERO_IS_GOOD } from '../thresholds.ts'
import { RT } from '../../../schemas/rollup-tables.ts'

const P = 'processor=~"$processor"'

export const pipelineHealth: DashboardSpec = {
  uid: 'auren-pipeline-health',
  title: 'AUREN / Pipeline health',
  description: 'Records in, out and dead-lettered per processor, consumer and event lag, processing duration, rebalances, outbox backlog, scrape targets up and alerts firing.',
  variables: ['processor'],
  panels: [
    single({ title: 'How many scrape targets are up?', description: 'Count of scrape targets whose last scrape succeeded (Prometheus `up`).', unit: 'short', targets: [prom(`sum(${sel('up')})`, 'up', true)] }),
    single({ title: 'How many records were dead-lettered in the range?', description: 'Records sent to the DLQ over the dashboard range, all processors (auren_records_dead_lettered_total; dead-lettered records never reach the rollups, so Prometheus counts them); 0 when the processors consumed records in the range but dead-lettered none (the counter series is born with the first one), no figure when they consumed nothing. Prometheus total = value now − value $__range ago, or the whole value of a series born inside the range (increase() would drop the first value of a born-filled series); assumes no process restart inside the range.', unit: 'short', thresholds: ZERO_IS_GOOD, targets: [prom(`${rangeTotal(sel('auren_records_dead_lettered_total', P))} or 0 * ${rangeTotal(sel('auren_records_consumed_total', P))}`, 'dead-lettered', true)] }),
    single({ title: 'How many alerts fire now, per severity?', description: 'Prometheus alerts in state firing per severity (ALERTS{alertstate="firing"}; rules in prometheus/rules/). No data: none fires. Details on the Alerts dashboard.', unit: 'short', thresholds: [{ value: null, color: 'red' }], targets: [prom('count by (severity) (ALERTS{alertstate="firing"})', '{{severity}}', true)] }),
    single({ title: 'How many rebalances in the range?', description: 'Consumer group joins of the instances over the range (auren_rebalances_total); AurenRebalanceStorm pages above 5 in 15 minutes. Prometheus total = value now − value $__range ago, or the whole value of a series born inside the range (increase() would drop the first value of a born-filled series); assumes no process restart inside the range.', unit: 'short', thresholds: REBALANCE_STEPS, targets: [prom(rangeTotal(sel('auren_rebalances_total', P), ['processor']), '{{processor}}', true)] }),
    single({ title: 'How many metric windows wait in the outbox?', description: `Rows of ${RT.outbox} not yet published to auren.agent-metrics.v1 (aggregation transactional outbox).`, unit: 'short', thresholds: ZERO_IS_GOOD, targets: [sqlTable(`SELECT count(*) AS "windows waiting" FROM ${RT.outbox} WHERE published_at IS NULL`)] }),
    series({ title: 'How many records does each processor read?', description: 'Records consumed per second, per processor and topic (rate of auren_records_consumed_total).', unit: 'reqps', targets: [prom(`sum by (processor, topic) (rate(${sel('auren_records_consumed_total', P)}[$__rate_interval]))`, '{{processor}} ← {{topic}}')] }),
    series({ title: 'How many records does each processor write?', description: 'Records acknowledged per second on output and DLQ topics, per processor and topic.', unit: 'reqps', targets: [prom(`sum by (processor, topic) (rate(${sel('auren_records_produced_total', P)}[$__rate_interval]))`, '{{processor}} → {{topic}}')] }),
    series({ title: 'What is dead-lettered, and why?', description: 'Records sent to the DLQ per second, per processor and reason (auren.dlq.reason).', unit: 'reqps', thresholds: ZERO_IS_GOOD, targets: [prom(`sum by (processor, reason) (rate(${sel('auren_records_dead_lettered_total', P)}[$__rate_interval]))`, '{{processor}} {{reason}}')] }),
    series({ title: 'How far behind is each consumer group, per partition?', description: 'Log end offset minus next offset to process (records), per processor, topic and partition.', unit: 'short', targets: [prom(`max by (processor, topic, partition) (${sel('auren_consumer_lag_records', P)})`, '{{processor}} {{topic}}[{{partition}}]')] }),
    series({ title: 'How far behind is each processor, per topic (what the lag alerts watch)?', description: 'Consumer lag summed per processor and topic (records); AurenConsumerLagHigh pages above 10,000 for 5 minutes, AurenConsumerLagGrowing when above 1,000 and growing.', unit: 'short', thresholds: CONSUMER_LAG_STEPS, thresholdLines: true, targets: [prom(`sum by (processor, topic) (${sel('auren_consumer_lag_records', P)})`, '{{processor}} {{topic}}')] }),
    series({ title: 'How old are events when processed, per tier (p99)?', description: 'p99 of event time to acknowledged output, per processor and delivery tier (auren_event_lag_seconds); AurenEventLagOverBudget pages over 1 s (critical), 5 s (operational), 30 s (analytical).', unit: 's', thresholds: EVENT_LAG_STEPS, thresholdLines: true, targets: [prom(`histogram_quantile(0.99, sum by (le, processor, tier) (rate(${sel('auren_event_lag_seconds_bucket', P)}[$__rate_interval])))`, '{{processor}} {{tier}}')] }),
    series({ title: 'How long does one record take (p50, p95, p99)?', description: 'Per-record processing duration (batch time / batch size): decode, transform, produce, commit.', unit: 's', targets: [
      prom(`histogram_quantile(0.5, sum by (le, processor) (rate(${sel('auren_processing_duration_seconds_bucket', P)}[$__rate_interval])))`, '{{processor}} p50'),
      prom(`histogram_quantile(0.95, sum by (le, processor) (rate(${sel('auren_processing_duration_seconds_bucket', P)}[$__rate_interval])))`, '{{processor}} p95'),
      prom(`histogram_quantile(0.99, sum by (le, processor) (rate(${sel('auren_processing_duration_seconds_bucket', P)}[$__rate_interval])))`, '{{processor}} p99'),
    ] }),
    series({ title: 'How long do offset commits take (p95)?', description: 'p95 of the synchronous offset commit time, per processor.', unit: 's', targets: [prom(`histogram_quantile(0.95, sum by (le, processor) (rate(${sel('auren_commit_duration_seconds_bucket', P)}[$__rate_interval])))`, '{{processor}}')] }),
    series({ title: 'Which events does enrichment emit, per tier?', description: 'Events enriched and emitted per second, by tier (auren_enrichment_events_total).', unit: 'reqps', stack: true, targets: [prom(`sum by (tier) (rate(${sel('auren_enrichment_events_total')}[$__rate_interval]))`, '{{tier}}')] }),
    grid({ title: 'Which instances are up, per target?', description: 'Every scrape target with its last `up` value (1 = scraped).', w: 24, h: 6, targets: [prom(`${sel('up')}`, '{{instance}}', true)] }),
  ],
}
