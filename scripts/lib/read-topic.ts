import { randomUUID } from 'node:crypto'
import type { ConsumedRecord, KafkaDriver, TopicAdmin } from '../../processors/runtime/kafka/kafka-client.ts'

/**
 * Reads a topic from the beginning up to the log end offsets it has when called, with a
 * throwaway consumer group.
 * @throws Error when the end is not reached within timeoutMs
 */
export async function readTopicToEnd(driver: KafkaDriver, admin: TopicAdmin, topic: string, timeoutMs = 120_000): Promise<ConsumedRecord[]> {
  const ends = await admin.endOffsets(topic)
  const remaining = new Map([...ends].filter(([, end]) => end !== '0').map(([p, end]) => [p, BigInt(end)]))
  const records: ConsumedRecord[] = []
  if (remaining.size === 0) return records
  const consumer = driver.consumer({ groupId: `auren-reader-${randomUUID()}` })
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`reading ${topic}: end offsets not reached after ${timeoutMs} ms`)), timeoutMs)
      const reached = (partition: number, nextOffset: string) => {
        const end = remaining.get(partition)
        if (end !== undefined && BigInt(nextOffset) >= end) remaining.delete(partition)
        if (remaining.size === 0) {
          clearTimeout(timer)
          resolve()
        }
      }
      consumer
        .run({
          topics: [topic],
          fromBeginning: true,
          autoResolve: true,
          onBatch: async (batch) => {
            const end = remaining.get(batch.partition)
            if (end === undefined) return
            for (const r of batch.records) if (BigInt(r.offset) < end) records.push(r)
            reached(batch.partition, (BigInt(batch.lastOffset) + 1n).toString())
          },
          // Transactional topics end with commit markers, which are never handed out.
          onSkipped: ({ partition, nextOffset }) => reached(partition, nextOffset),
        })
        .catch(reject)
    })
  } finally {
    await consumer.disconnect()
  }
  return records
}

/** Waits until a consumer group has committed the log end offset of every partition of topic. */
export async function waitForGroupCaughtUp(admin: TopicAdmin, groupId: string, topic: string, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  const ends = await admin.endOffsets(topic)
  for (;;) {
    const committed = await admin.committedOffsets(groupId, topic)
    const behind = [...ends].filter(([p, end]) => end !== '0' && committed.get(p) !== end)
    if (behind.length === 0) return
    if (Date.now() > deadline) throw new Error(`group ${groupId} did not catch up on ${topic} within ${timeoutMs} ms (partitions behind: ${behind.map(([p]) => p).join(', ')})`)
    await new Promise((r) => setTimeout(r, 250))
  }
}
