/** Body and system (seed 000/002 event types): biometrics, component health, performance metrics. */
import type { DashboardSpec } from '../board.ts'
import { grid, series, states } from '../panels.ts'
import { inRange, matches, prom, sel, sqlSeries, sqlTable, timeOf } from '../queries.ts'
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard'
import { RT } from '../../../schemas/rollup-tables.ts'

const HEALTH_MAPPINGS: dashboard.ValueMapping[] = [{
  type: dashboard.MappingType.ValueToText,
  options: { 0: { text: 'healthy', color: 'green' }, 1: { text: 'degraded', color: 'orange' }, 2: { text: 'unhealthy', color: 'red' } },
}]

export const bodySystem: DashboardSpec = {
  uid: 'auren-body-system',
  title: 'AUREN / Body and system',
  description: 'Biometric values and anomalies per metric, system_health status per component over time, performance metrics, conversation turns.',
  variables: ['agent', 'user'],
  panels: [
    series({ title: 'What do the biometrics read, minute by minute?', description: `Mean value per metric and unit per rollup window of event time (window_ms in ${RT.rollup_window}, 1 min by default): value sum / samples (${RT.biometric}).`, unit: 'short', w: 24, targets: [sqlSeries(`SELECT ${timeOf()} AS time, metric || ' (' || unit || ')' AS metric, sum(value_sum) / NULLIF(sum(samples), 0) AS value FROM ${RT.biometric} WHERE ${inRange()} AND ${matches('user_id', 'user')} GROUP BY 1, 2 ORDER BY 1`)] }),
    series({ title: 'How many biometric readings are anomalous?', description: 'Anomalous biometric readings per second per metric (auren_biometric_readings_total{anomaly="true"}).', unit: 'reqps', targets: [prom(`sum by (metric) (rate(${sel('auren_biometric_readings_total', 'anomaly="true"')}[$__rate_interval]))`, '{{metric}}')] }),
    grid({ title: 'Per biometric over the range: samples, mean, anomalies', description: `${RT.biometric}: samples, mean value (sum / samples), anomalies and anomaly rate (anomalies / samples).`, targets: [sqlTable(`SELECT metric, unit, sum(samples) AS samples, sum(value_sum) / NULLIF(sum(samples), 0) AS mean, sum(anomalies) AS anomalies, sum(anomalies)::float8 / NULLIF(sum(samples), 0) AS "anomaly rate" FROM ${RT.biometric} WHERE ${inRange()} AND ${matches('user_id', 'user')} GROUP BY 1, 2 ORDER BY 1`)] }),
    states({ title: 'Is each component healthy, minute by minute?', description: `Worst system_health status reported per component per rollup window of event time (window_ms in ${RT.rollup_window}, 1 min by default) (0 healthy, 1 degraded, 2 unhealthy; ${RT.system_health}).`, mappings: HEALTH_MAPPINGS, w: 24, targets: [sqlSeries(`SELECT ${timeOf()} AS time, component AS metric, max(CASE status WHEN 'unhealthy' THEN 2 WHEN 'degraded' THEN 1 ELSE 0 END) AS status FROM ${RT.system_health} WHERE ${inRange()} GROUP BY 1, 2 ORDER BY 1`)] }),
    series({ title: 'How often does each component report each status?', description: 'system_health reports per second by component and status (auren_system_health_reports_total).', unit: 'reqps', targets: [prom(`sum by (component, status) (rate(${sel('auren_system_health_reports_total')}[$__rate_interval]))`, '{{component}} {{status}}')] }),
    grid({ title: 'Performance metrics over the range', description: `performance_metric events per agent, name and unit: samples and mean value (sum / samples; ${RT.performance_metric}).`, targets: [sqlTable(`SELECT NULLIF(agent_id, '') AS agent, name, unit, sum(samples) AS samples, sum(value_sum) / NULLIF(sum(samples), 0) AS mean FROM ${RT.performance_metric} WHERE ${inRange()} AND ${matches('agent_id', 'agent')} GROUP BY 1, 2, 3 ORDER BY 2`)] }),
    series({ title: 'How many performance samples arrive per metric?', description: 'performance_metric events per second by name and unit (auren_performance_metric_samples_total).', unit: 'reqps', targets: [prom(`sum by (name, unit) (rate(${sel('auren_performance_metric_samples_total')}[$__rate_interval]))`, '{{name}} ({{unit}})')] }),
    series({ title: 'How many conversation turns per agent?', description: 'conversation_turn events per second per agent (auren_conversation_turns_total).', unit: 'reqps', targets: [prom(`sum by (agent) (rate(${sel('auren_conversation_turns_total', 'agent=~"$agent"')}[$__rate_interval]))`, '{{agent}}')] }),
  ],
}
