/**
 * Alerts, for the on-call SRE: which Prometheus alerts are pending or firing (the `ALERTS` and
 * `ALERTS_FOR_STATE` series Prometheus writes when it evaluates prometheus/rules/), what the
 * Alertmanager delivers per channel (its own `alertmanager_*` metrics, scraped by the job
 * `alertmanager`), and, one panel per alert rule, the quantity the rule compares, with the rule's
 * threshold as the panel's threshold, so an SRE sees how close each alert is to paging.
 * test/unit/grafana/alert-coverage.test.ts checks every rule of prometheus/rules/ has its panel.
 */
import type { DashboardSpec } from '../board.ts'
import { grid, series, single } from '../panels.ts'
import { prom, rangeTotal, sel } from '../queries.ts'
import {
  ABOVE_ZERO_STEPS, CONSUMER_LAG_STEPS, CPU_STEPS, EVENT_LAG_STEPS, LLM_ERROR_RATIO_STEPS, LLM_LATENCY_STEPS, LLM_MIN_SAMPLE_STEPS,
  MEMORY_STEPS, OUTBOX_BACKLOG_STEPS, REBALANCE_STEPS, SLOW_CLIENT_DROP_STEPS, TARGET_DOWN_STEPS,
} from '../thresholds.ts'

/** Recording-rule series (prometheus/rules/auren-recording.yml) carry no instance label: filtered by the dashboard's variables only. */
const P = '{processor=~"$processor"}'
const A = '{agent=~"$agent"}'
const AM = '{job="alertmanager"}'
const NOTIFIED = rangeTotal(`alertmanager_notifications_total${AM}`, ['integration'])
const NOTIFY_FAILED = rangeTotal(`alertmanager_notifications_failed_total${AM}`, ['integration'])

export const alerts: DashboardSpec = {
  uid: 'auren-alerts',
  title: 'AUREN / Alerts',
  description: 'Prometheus alerts pending and firing by rule and severity, Alertmanager notifications by channel (integration) and status, and for every alert rule the quantity it compares with the rule\'s threshold.',
  variables: ['processor', 'agent'],
  panels: [
    // What fires now.
    single({ title: 'How many alerts fire now, per severity?', description: 'Prometheus alerts in state firing, counted per severity (ALERTS{alertstate="firing"}). No data: no alert fires.', unit: 'short', thresholds: [{ value: null, color: 'red' }], targets: [prom('count by (severity) (ALERTS{alertstate="firing"})', '{{severity}}', true)] }),
    single({ title: 'How many alerts does the Alertmanager hold, per state?', description: 'Alerts the Alertmanager holds now by state (active, suppressed by a silence or inhibition, unprocessed): alertmanager_alerts.', unit: 'short', targets: [prom(`sum by (state) (alertmanager_alerts${AM})`, '{{state}}', true)] }),
    grid({ title: 'Which alerts are pending or firing, by rule and severity?', description: 'Alerts per rule (alertname), severity and state now (ALERTS: pending while the rule\'s `for` runs, then firing).', w: 12, targets: [prom('count by (alertname, severity, alertstate) (ALERTS)', '{{alertname}} {{severity}} {{alertstate}}', true)] }),
    grid({ title: 'Since when has each alert been active?', description: 'Now minus the time each alert became active (ALERTS_FOR_STATE holds its activeAt, epoch seconds), longest per rule and severity.', unit: 's', w: 12, targets: [prom('max by (alertname, severity) (time() - ALERTS_FOR_STATE)', '{{alertname}} {{severity}}', true)] }),
    series({ title: 'Which alerts fired, by rule and severity, over time?', description: 'Alerts in state firing per rule and severity (count of ALERTS{alertstate="firing"} series: one per label set of the rule).', unit: 'short', w: 24, targets: [prom('count by (alertname, severity) (ALERTS{alertstate="firing"})', '{{alertname}} {{severity}}')] }),
    // Notifications.
    series({ title: 'How many notifications does each channel attempt, and how many fail?', description: 'Notification attempts and failed attempts per second per integration (Alertmanager: alertmanager_notifications_total counts every attempt, alertmanager_notifications_failed_total the failed ones).', unit: 'reqps', targets: [
      prom(`sum by (integration) (rate(alertmanager_notifications_total${AM}[$__rate_interval]))`, '{{integration}} attempted'),
      prom(`sum by (integration) (rate(alertmanager_notifications_failed_total${AM}[$__rate_interval]))`, '{{integration}} failed'),
    ] }),
    grid({ title: 'How many notifications were delivered and failed per channel in the range?', description: 'Per integration over the range: delivered = attempts − failed attempts, and failed attempts (alertmanager_notifications_total, alertmanager_notifications_failed_total). Prometheus total = value now − value $__range ago, or the whole value of a series born inside the range (increase() would drop the first value of a born-filled series); assumes no process restart inside the range.', unit: 'short', targets: [
      prom(`${NOTIFIED} - (${NOTIFY_FAILED} or ${NOTIFIED} * 0)`, '{{integration}} delivered', true),
      prom(NOTIFY_FAILED, '{{integration}} failed', true),
    ] }),
    // What each alert rule compares, with its threshold (prometheus/rules/auren-alerts.yml).
    series({ title: 'Is any processor down? (AurenProcessorDown: up == 0 for 1 minute)', description: 'Last scrape of each processor target (up{job="auren"}): 1 scraped, 0 failed. The alert pages (critical) at 0 for 1 minute.', unit: 'short', min: 0, max: 1, thresholds: TARGET_DOWN_STEPS, thresholdLines: true, targets: [prom(sel('up', 'job="auren"'), '{{auren_target}} {{instance}}')] }),
    series({ title: 'How many records behind is each processor? (AurenConsumerLagHigh > 10,000, AurenConsumerLagGrowing > 1,000)', description: 'Consumer lag summed per processor and topic, records (recording rule processor_topic:auren_consumer_lag_records:sum). High: above 10,000 for 5 minutes; growing: above 1,000 and rising for 10 minutes.', unit: 'short', thresholds: CONSUMER_LAG_STEPS, thresholdLines: true, targets: [prom(`processor_topic:auren_consumer_lag_records:sum${P}`, '{{processor}} {{topic}}')] }),
    series({ title: 'Is the lag growing? (AurenConsumerLagGrowing: derivative > 0)', description: 'Slope of the consumer lag over 10 minutes, records per second (deriv of processor_topic:auren_consumer_lag_records:sum). Pages when above 0 with the lag above 1,000, for 10 minutes.', unit: 'short', thresholds: ABOVE_ZERO_STEPS, thresholdLines: true, targets: [prom(`deriv(processor_topic:auren_consumer_lag_records:sum${P}[10m])`, '{{processor}} {{topic}}')] }),
    series({ title: 'How many records were dead-lettered in the last 5 minutes? (AurenRecordsDeadLettered > 0)', description: 'Records sent to the DLQ over 5 minutes, per processor and reason (processor_reason:auren_records_dead_lettered:increase5m). Any above 0 alerts.', unit: 'short', thresholds: ABOVE_ZERO_STEPS, thresholdLines: true, targets: [prom(`processor_reason:auren_records_dead_lettered:increase5m${P}`, '{{processor}} {{reason}}')] }),
    series({ title: 'How many rebalances in the last 15 minutes? (AurenRebalanceStorm > 5)', description: 'Consumer group joins over 15 minutes per processor (processor:auren_rebalances:increase15m). Above 5 alerts.', unit: 'short', thresholds: REBALANCE_STEPS, thresholdLines: true, targets: [prom(`processor:auren_rebalances:increase15m${P}`, '{{processor}}')] }),
    series({ title: 'How old are events when processed, p99 over 5 minutes? (AurenEventLagOverBudget: critical > 1 s, operational > 5 s, analytical > 30 s)', description: 'Event time to processed, 99th percentile over 5 minutes per processor and tier (processor_tier:auren_event_lag_seconds:p99_5m), one query per tier with its budget; over budget for 5 minutes alerts.', unit: 's', w: 24, thresholds: EVENT_LAG_STEPS, thresholdLines: true, targets: [
      prom('processor_tier:auren_event_lag_seconds:p99_5m{tier="critical", processor=~"$processor"}', '{{processor}} critical (budget 1 s)'),
      prom('processor_tier:auren_event_lag_seconds:p99_5m{tier="operational", processor=~"$processor"}', '{{processor}} operational (budget 5 s)'),
      prom('processor_tier:auren_event_lag_seconds:p99_5m{tier="analytical", processor=~"$processor"}', '{{processor}} analytical (budget 30 s)'),
    ] }),
    series({ title: 'How many outbox records wait to be published? (AurenOutboxBacklogHigh > 1,000)', description: 'Unpublished transactional-outbox records, most of any instance per processor and topic (auren_outbox_pending_records, read from the table at scrape time). Above 1,000 (seed 002) for 5 minutes alerts.', unit: 'short', thresholds: OUTBOX_BACKLOG_STEPS, thresholdLines: true, targets: [prom(`max by (processor, topic) (${sel('auren_outbox_pending_records', 'processor=~"$processor"')})`, '{{processor}} → {{topic}}')] }),
    series({ title: 'How much of a core does each process use? (AurenProcessCpuHigh > 80 %)', description: 'CPU seconds per second of each processor process over 1 minute (instance:process_cpu_seconds:rate1m; 1 = one core, where a Node.js process runs its JavaScript). Above 0.8 (seed 000) for 5 minutes alerts.', unit: 'percentunit', thresholds: CPU_STEPS, thresholdLines: true, targets: [prom('instance:process_cpu_seconds:rate1m{instance=~"$instance", job="auren"}', '{{auren_target}} {{instance}}')] }),
    series({ title: 'How much of its memory limit does each process use? (AurenProcessMemoryHigh > 85 %)', description: 'Resident memory / the process\'s memory limit (instance:process_resident_memory:ratio; limit from auren_process_memory_limit_bytes: cgroup or machine). Above 0.85 (seed 000) for 5 minutes alerts.', unit: 'percentunit', thresholds: MEMORY_STEPS, thresholdLines: true, targets: [prom('instance:process_resident_memory:ratio{instance=~"$instance", job="auren"}', '{{auren_target}} {{instance}}')] }),
    series({ title: 'Does the gateway drop messages for reasons other than slow clients? (AurenGatewayDroppingMessages > 0)', description: 'Dropped frames or events per second over 5 minutes by reason, slow clients excepted (auren_gateway_dropped_messages_total). Above 0 for 5 minutes alerts.', unit: 'reqps', thresholds: ABOVE_ZERO_STEPS, thresholdLines: true, targets: [prom(`sum by (reason) (rate(${sel('auren_gateway_dropped_messages_total', 'reason!="slow_client"')}[5m]))`, '{{reason}}')] }),
    series({ title: 'How many messages were dropped for slow clients in 5 minutes? (AurenGatewaySlowClients > 100)', description: 'Analytical batches dropped because the client read too slowly, over 5 minutes, all gateway instances (auren_gateway_dropped_messages_total{reason="slow_client"}). Above 100 alerts (info).', unit: 'short', thresholds: SLOW_CLIENT_DROP_STEPS, thresholdLines: true, targets: [prom(`sum(increase(${sel('auren_gateway_dropped_messages_total', 'reason="slow_client"')}[5m]))`, 'slow-client drops')] }),
    series({ title: 'What share of LLM attempts fail, per agent? (AurenLlmErrorRateHigh > 5 %)', description: 'Failed attempts (answered with an error, or unanswered) / all attempts over 5 minutes per agent (agent:auren_llm_error_ratio:rate5m; denominator agent:auren_llm_attempts:rate5m). Above 0.05 (seed 000) with at least 20 attempts, for 5 minutes, alerts.', unit: 'percentunit', thresholds: LLM_ERROR_RATIO_STEPS, thresholdLines: true, targets: [prom(`agent:auren_llm_error_ratio:rate5m${A}`, '{{agent}}')] }),
    series({ title: 'Enough LLM attempts for the error-rate alert? (AurenLlmErrorRateHigh needs ≥ 20 in 5 minutes)', description: 'LLM attempts (answered calls + failed attempts without an answer) over 5 minutes per agent (agent:auren_llm_attempts:increase5m). The error-rate alert needs at least 20.', unit: 'short', thresholds: LLM_MIN_SAMPLE_STEPS, thresholdLines: true, targets: [prom(`agent:auren_llm_attempts:increase5m${A}`, '{{agent}}')] }),
    series({ title: 'How slow are answered LLM calls, p95 over 5 minutes? (AurenLlmLatencyP95High > 5 s)', description: '95th percentile of the duration of answered LLM calls over 5 minutes per agent (agent:auren_llm_call_duration_seconds:p95_5m). Above 5 s (seed 000) for 5 minutes alerts.', unit: 's', thresholds: LLM_LATENCY_STEPS, thresholdLines: true, targets: [prom(`agent:auren_llm_call_duration_seconds:p95_5m${A}`, '{{agent}}')] }),
    series({ title: 'Does the alerting app refuse new alert groups? (AurenAlertGroupsRefused > 0)', description: 'New groups (fingerprints) of stream rules refused over 15 minutes because a rule held AUREN_ALERTING_MAX_GROUPS_PER_RULE groups on a partition, every one pending or firing (auren_alert_groups_dropped_total{reason="refused"}): their alerts are missed. Any above 0 alerts.', unit: 'short', thresholds: ABOVE_ZERO_STEPS, thresholdLines: true, targets: [prom(`sum by (job) (increase(${sel('auren_alert_groups_dropped_total', 'reason="refused"')}[15m]))`, 'refused {{job}}')] }),
    series({ title: 'How often does the alerting app evaluate each stream rule?', description: 'Condition evaluations per second of each stream rule (prometheus/auren-stream-rules.yml) in committed batches and ticks: on events, merged buckets, metric windows and timers (auren_alert_rule_evaluations_total). A rule that never evaluates selects nothing.', unit: 'ops', w: 24, targets: [prom(`sum by (rule) (rate(${sel('auren_alert_rule_evaluations_total')}[$__rate_interval]))`, '{{rule}}')] }),
    series({ title: 'Do notifications fail, per channel? (AurenNotificationsFailing > 0)', description: 'Failed notification attempts per second over 5 minutes per integration (alertmanager_notifications_failed_total, all Alertmanagers). Above 0 for 10 minutes pages (critical): alerts may reach nobody.', unit: 'reqps', thresholds: ABOVE_ZERO_STEPS, thresholdLines: true, targets: [prom('sum by (integration) (rate(alertmanager_notifications_failed_total[5m]))', '{{integration}}')] }),
  ],
}
