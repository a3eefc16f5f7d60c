/** Gateway: WebSocket connections, frames, delivery latency against the tier budgets, drops, REST. */
import type { DashboardSpec } from '../board.ts'
import { series, single } from '../panels.ts'
import { prom, rangeTotal, sel } from '../queries.ts'
import { DELIVERY_BUDGET_STEPS, SLOW_CLIENT_DROP_STEPS, ZERO_IS_GOOD } from '../thresholds.ts'

export const gateway: DashboardSpec = {
  uid: 'auren-gateway',
  title: 'AUREN / Gateway',
  description: 'Connections, messages sent per type, delivery latency per tier against its budget (operational 100 ms, analytical 500 ms), drops and slow-client closes, REST requests.',
  variables: [],
  panels: [
    single({ title: 'How many WebSocket clients are connected?', description: 'Open /v1/stream connections, all gateway instances (auren_gateway_connections).', unit: 'short', targets: [prom(`sum(${sel('auren_gateway_connections')})`, 'connections', true)] }),
    single({ title: 'How many events were not delivered in the range?', description: 'Frames or events dropped over the range, all reasons (auren_gateway_dropped_messages_total); AurenGatewaySlowClients notes more than 100 slow-client drops in 5 minutes. Prometheus total = value now − value $__range ago, or the whole value of a series born inside the range (increase() would drop the first value of a born-filled series); assumes no process restart inside the range.', unit: 'short', thresholds: SLOW_CLIENT_DROP_STEPS, targets: [prom(rangeTotal(sel('auren_gateway_dropped_messages_total')), 'dropped', true)] }),
    series({ title: 'How many frames are written per type?', description: 'WebSocket frames written per second by server message type (auren_gateway_messages_sent_total).', unit: 'reqps', targets: [prom(`sum by (type) (rate(${sel('auren_gateway_messages_sent_total')}[$__rate_interval]))`, '{{type}}')] }),
    series({ title: 'Is delivery within the tier budget (p95)?', description: 'p95 of event time to frame written, per tier (auren_gateway_delivery_latency_seconds); lines at the operational (100 ms) and analytical (500 ms) budgets, CONTRACTS.md section 3.', unit: 's', thresholds: DELIVERY_BUDGET_STEPS, thresholdLines: true, targets: [prom(`histogram_quantile(0.95, sum by (le, tier) (rate(${sel('auren_gateway_delivery_latency_seconds_bucket')}[$__rate_interval])))`, '{{tier}} p95')] }),
    series({ title: 'What share of events is delivered within budget?', description: 'Per tier: events delivered within the tier budget / events delivered (histogram buckets le=0.1 for operational, le=0.5 for analytical and critical).', unit: 'percentunit', min: 0, max: 1, targets: [
      prom(`sum(rate(${sel('auren_gateway_delivery_latency_seconds_bucket', 'tier="operational"', 'le="0.1"')}[$__rate_interval])) / sum(rate(${sel('auren_gateway_delivery_latency_seconds_count', 'tier="operational"')}[$__rate_interval]))`, 'operational within 100 ms'),
      prom(`sum(rate(${sel('auren_gateway_delivery_latency_seconds_bucket', 'tier="analytical"', 'le="0.5"')}[$__rate_interval])) / sum(rate(${sel('auren_gateway_delivery_latency_seconds_count', 'tier="analytical"')}[$__rate_interval]))`, 'analytical within 500 ms'),
    ] }),
    series({ title: 'What is dropped, and why (slow clients, full buffers, undecodable records)?', description: 'Dropped frames or events per second by reason (auren_gateway_dropped_messages_total: slow_client, buffer_full, decode).', unit: 'reqps', thresholds: ZERO_IS_GOOD, targets: [prom(`sum by (reason) (rate(${sel('auren_gateway_dropped_messages_total')}[$__rate_interval]))`, '{{reason}}')] }),
    series({ title: 'How many REST requests per route and status?', description: 'REST requests answered per second (auren_gateway_http_requests_total).', unit: 'reqps', targets: [prom(`sum by (route, status) (rate(${sel('auren_gateway_http_requests_total')}[$__rate_interval]))`, '{{route}} {{status}}')] }),
    series({ title: 'How long do REST answers take (p95)?', description: 'p95 of the time to answer per route (auren_gateway_http_request_duration_seconds).', unit: 's', targets: [prom(`histogram_quantile(0.95, sum by (le, route) (rate(${sel('auren_gateway_http_request_duration_seconds_bucket')}[$__rate_interval])))`, '{{route}}')] }),
  ],
}
