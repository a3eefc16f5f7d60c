/**
 * The partition counts the alerting processor's repartition needs (partial-buckets.ts): the
 * enriched topic's (how many sources a merge waits for) and the repartition topic's
 * `auren.alert-partials.v1` (where a source sends its watermark). The app creates no topic: `auren
 * topics` (the demo, the Helm chart's hook Job) creates every contract topic, this one included.
 * Waits out a broker that does not answer yet or a topic not created yet (backoff, one warning
 * per attempt), like the other start-up dependencies; /readyz answers 503 meanwhile.
 */
import type { Logger } from 'pino'
import type { TopicNames } from '../../schemas/index.ts'
import { createKafkaDriver } from '../runtime/kafka/kafka-client.ts'
import { backoffMs } from '../runtime/ops/backoff.ts'

/** Partitions of the enriched topic and of the repartition topic. */
export interface PartitionCounts {
  enriched: number
  partials: number
}

/** Reads the partition counts, waiting until both topics exist (module doc). */
export async function readPartitionCounts(opts: { brokers: readonly string[]; topics: TopicNames; log: Logger }): Promise<PartitionCounts> {
  const driver = createKafkaDriver({ brokers: opts.brokers, clientId: 'auren-alerting-topics', log: opts.log })
  for (let attempt = 0; ; attempt += 1) {
    try {
      const admin = await driver.admin()
      try {
        const enriched = (await admin.offsetRanges(opts.topics.enrichedEvents)).size
        const partials = (await admin.offsetRanges(opts.topics.alertPartials)).size
        if (enriched === 0 || partials === 0) throw new Error(`topics ${opts.topics.enrichedEvents} and ${opts.topics.alertPartials} must exist (\`auren topics\` creates them)`)
        opts.log.info({ enriched, partials }, 'partition counts of the repartition read')
        return { enriched, partials }
      } finally {
        await admin.disconnect()
      }
    } catch (err) {
      opts.log.warn({ err, attempt }, 'reading the partition counts of the enriched and repartition topics failed; retrying')
      await new Promise((resolve) => setTimeout(resolve, backoffMs(attempt)))
    }
  }
}
