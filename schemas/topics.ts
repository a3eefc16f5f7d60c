/**
 * Topic names of CONTRACTS.md section 1. The suffixes are the contract; a prefix from
 * configuration may stand before them (tests use a unique prefix per run).
 */
export const TOPIC_SUFFIXES = {
  agentEvents: 'auren.agent-events.v1',
  enrichedEvents: 'auren.agent-events.enriched.v1',
  deadLetter: 'auren.agent-events.dlq.v1',
  agentMetrics: 'auren.agent-metrics.v1',
  alerts: 'auren.alerts.v1',
  /** Internal: the alerting processor's repartition topic (processors/alerting/README.md "Co-location and scaling"). */
  alertPartials: 'auren.alert-partials.v1',
} as const

/** Logical topic name, e.g. `agentEvents`. */
export type TopicKey = keyof typeof TOPIC_SUFFIXES

/** Concrete topic names for one deployment. */
export type TopicNames = { readonly [K in TopicKey]: string }

/**
 * Topic names with an optional prefix: `topicNames('t1-')` gives `t1-auren.agent-events.v1`, ...
 * @param prefix prepended as is; '' (the default) gives the contract names.
 */
export function topicNames(prefix = ''): TopicNames {
  const out = {} as Record<TopicKey, string>
  for (const [key, suffix] of Object.entries(TOPIC_SUFFIXES)) out[key as TopicKey] = `${prefix}${suffix}`
  return Object.freeze(out)
}

/**
 * Partitions each topic is created with by `auren topics` / the demo. Six lets enrichment,
 * aggregation and archival each scale to six instances per consumer group.
 */
export const DEFAULT_PARTITIONS = 6

/** Subject of a topic's value schema under the TopicNameStrategy: `<topic>-value`. */
export function valueSubject(topic: string): string {
  return `${topic}-value`
}
