/**
 * The alerting definition wakes its outbox publishers (processors/alerting/definition.ts
 * `committed`): after a committed batch or tick, the alert outbox's signal rings when the batch
 * wrote alert state changes, the repartition outbox's when it wrote repartition records, and
 * neither when it wrote nothing.
 */
import { describe, expect, it } from 'vitest'
import type { Alert, AlertPartial } from '../../../../schemas/index.ts'
import { alertingDefinition, type AlertingInput, type AlertingOutput } from '../../../../processors/alerting/definition.ts'
import type { CommittedBatch } from '../../../../processors/runtime/define-processor.ts'
import { emit } from '../../../../processors/runtime/outcome.ts'
import { OutboxSignal } from '../../../../processors/runtime/sinks/outbox.ts'
import type { AcknowledgingSink } from '../../../../processors/runtime/sinks/sink.ts'

const alert: Alert = {
  fingerprint: 'f', rule: 'r', severity: 'warning', status: 'firing', labels: { alertname: 'r' }, annotations: { summary: 's', description: '', runbook: null },
  value: 1, threshold: 1, starts_at: 1_000, ends_at: null, source_window: null,
}
const partial: AlertPartial = { source: 't:0', source_partitions: 1, seq: 0, watermark: 1_000, idle: false, buckets: [] }

function setup() {
  const rings = { alerts: 0, partials: 0 }
  const committed = { alerts: new OutboxSignal(), partials: new OutboxSignal() }
  committed.alerts.listen(() => (rings.alerts += 1))
  committed.partials.listen(() => (rings.partials += 1))
  const changes: Alert[] = []
  const def = alertingDefinition({} as AcknowledgingSink<AlertingOutput>, {
    rules: [], maxGroupsPerRule: 10, replayLagMs: 60_000, idleTimeoutMs: 0, allowedLatenessMs: 0, partitions: { enriched: 1, partials: 1 },
    committed, onCommitted: (alerts) => changes.push(...alerts),
  })
  const batch = (b: Partial<CommittedBatch<AlertingInput, AlertingOutput>>): CommittedBatch<AlertingInput, AlertingOutput> => ({
    partition: { input: 'enrichedEvents', topic: 't', partition: 0 }, cause: 'records', results: [], punctuated: [], nowMs: 0, ...b,
  })
  return { def, rings, changes, batch }
}

describe('alerting outbox signals', () => {
  it('rings the alert outbox after a batch that changed an alert state', () => {
    const { def, rings, changes, batch } = setup()
    def.afterCommit!(batch({ results: [{ input: { kind: 'partial', value: partial }, outcome: emit({ key: 'f', value: { kind: 'alert', alert } }) }] }))
    expect(rings).toEqual({ alerts: 1, partials: 0 })
    expect(changes).toEqual([alert])
  })

  it('rings the repartition outbox after a tick that sent repartition records, and the alert outbox when it also changed an alert', () => {
    const { def, rings, batch } = setup()
    const record = { key: 't:0|0', value: { kind: 'partial', record: { key: 't:0|0', partition: 0, value: partial } } as AlertingOutput }
    def.afterCommit!(batch({ cause: 'punctuation', punctuated: [record] }))
    expect(rings).toEqual({ alerts: 0, partials: 1 })
    def.afterCommit!(batch({ cause: 'punctuation', punctuated: [record, { key: 'f', value: { kind: 'alert', alert } }] }))
    expect(rings).toEqual({ alerts: 1, partials: 2 })
  })

  it('rings neither after a batch that wrote nothing to an outbox', () => {
    const { def, rings, changes, batch } = setup()
    def.afterCommit!(batch({ results: [{ input: { kind: 'partial', value: partial }, outcome: emit() }] }))
    def.afterCommit!(batch({ cause: 'punctuation' }))
    expect(rings).toEqual({ alerts: 0, partials: 0 })
    expect(changes).toEqual([])
  })
})
