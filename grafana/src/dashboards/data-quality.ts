/** Data quality: what enrichment rejects, dedups, warns about and prices. */
import type { DashboardSpec } from '../board.ts'
import { series, single } from '../panels.ts'
import { prom, rangeTotal, sel } from '../queries.ts'
import { ZERO_IS_GOOD } from '../thresholds.ts'

export const dataQuality: DashboardSpec = {
  uid: 'auren-data-quality',
  title: 'AUREN / Data quality',
  description: 'Validation failures per rule, duplicates and redeliveries, quality warnings, how costs were priced, late and duplicate events in aggregation.',
  variables: [],
  panels: [
    single({ title: 'How many LLM calls had no price in the range?', description: 'Completed LLM calls priced unknown_model over the range (auren_enrichment_unpriced_llm_calls_total). Prometheus total = value now − value $__range ago, or the whole value of a series born inside the range (increase() would drop the first value of a born-filled series); assumes no process restart inside the range.', unit: 'short', thresholds: ZERO_IS_GOOD, targets: [prom(rangeTotal(sel('auren_enrichment_unpriced_llm_calls_total')), 'unpriced', true)] }),
    single({ title: 'How many event ids does the dedup window hold?', description: 'Ids held by the enrichment dedup window (auren_enrichment_dedup_window_entries).', unit: 'short', targets: [prom(`sum(${sel('auren_enrichment_dedup_window_entries')})`, 'ids', true)] }),
    series({ title: 'Which validation rules reject events?', description: 'Violations of dead-lettered events per second by rule (auren_enrichment_validation_failures_total).', unit: 'reqps', thresholds: ZERO_IS_GOOD, targets: [prom(`sum by (rule) (rate(${sel('auren_enrichment_validation_failures_total')}[$__rate_interval]))`, '{{rule}}')] }),
    series({ title: 'Where does the cost figure come from?', description: 'USD attached per second by source: reported by the producer or computed from the price table (auren_enrichment_cost_usd_total).', unit: 'currencyUSD', targets: [prom(`sum by (source) (rate(${sel('auren_enrichment_cost_usd_total')}[$__rate_interval]))`, '{{source}}')] }),
    series({ title: 'How many duplicates and redeliveries arrive?', description: 'Per second: enrichment duplicates (same event_id at other coordinates), redeliveries (same record again), aggregation duplicates (event_id applied before).', unit: 'reqps', targets: [
      prom(`sum(rate(${sel('auren_enrichment_duplicates_total')}[$__rate_interval]))`, 'enrichment duplicates'),
      prom(`sum(rate(${sel('auren_enrichment_redeliveries_total')}[$__rate_interval]))`, 'enrichment redeliveries'),
      prom(`sum(rate(${sel('auren_aggregation_duplicate_events_total')}[$__rate_interval]))`, 'aggregation duplicates'),
    ] }),
    series({ title: 'How many events arrive after their window closed?', description: 'Late events applied per second (auren_aggregation_late_events_total) and windows published per reason (auren_aggregation_windows_emitted_total).', unit: 'reqps', targets: [
      prom(`sum(rate(${sel('auren_aggregation_late_events_total')}[$__rate_interval]))`, 'late events'),
      prom(`sum by (reason) (rate(${sel('auren_aggregation_windows_emitted_total')}[$__rate_interval]))`, 'windows {{reason}}'),
    ] }),
  ],
}
