/**
 * The alerting input reads enriched events through the projection FACTS_FIELDS (event-facts.ts):
 * for every event of the recorded runs and of the simulator (every event type), the facts the
 * rules see, the replay mark's lag and the event-lag observation's time and tier are the same as
 * from the full decode.
 */
import avro from 'avsc'
import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { AVSC_OPTIONS, AGENT_EVENT_TYPES, fromEnrichedRecord, loadSchema, toEnrichedRecord, type AgentEvent, type EnrichedAgentEvent, type EnrichedAgentEventRecord } from '../../../../schemas/index.ts'
import { projectSchema } from '../../../../schemas/projection.ts'
import { DEFAULT_ENRICHMENT_CONFIG } from '../../../../processors/enrichment/config.ts'
import { createEnrichmentTransform } from '../../../../processors/enrichment/transform.ts'
import { eventFacts, FACTS_FIELDS, type EnrichedEventView } from '../../../../processors/alerting/event-facts.ts'
import { createSimulator } from '../../../../scripts/sources/simulator.ts'
import { loadTraceRuns } from '../../../../scripts/sources/trace-files.ts'
import { requireRecordedRuns } from '../../../helpers/required-data.ts'

const ROOT = fileURLToPath(new URL('../../../../../shared/data/agent-traces/', import.meta.url))
requireRecordedRuns(ROOT)

function enrich(events: readonly AgentEvent[]): EnrichedAgentEvent[] {
  const transform = createEnrichmentTransform(DEFAULT_ENRICHMENT_CONFIG)
  const ctx = { log: pino({ level: 'silent' }), now: () => 1_800_000_000_000, registry: new Registry() }
  return events.flatMap((event, i) => {
    const outcome = transform(event, { ...ctx, source: { topic: 'in', partition: 0, offset: String(i) } })
    return outcome.kind === 'emit' ? outcome.records.map((r) => r.value) : []
  })
}

describe('the alerting projection of enriched events', () => {
  const sim = createSimulator({ seed: 3 })
  const simulated = Array.from({ length: 5_000 }, (_, i) => sim.next(1_700_000_000_000_000 + i * 50_000))
  const recorded = loadTraceRuns(ROOT).runs.flatMap((r) => r.events)
  const enriched = enrich([...recorded, ...simulated])
  const full = avro.Type.forSchema(loadSchema('enriched-agent-event'), { ...AVSC_OPTIONS })
  const projected = avro.Type.forSchema(projectSchema(loadSchema('enriched-agent-event'), FACTS_FIELDS), { ...AVSC_OPTIONS })
  const resolver = projected.createResolver(full)

  it('covers every event type', () => {
    expect(new Set(enriched.map((e) => e.event.event_type))).toEqual(new Set(AGENT_EVENT_TYPES))
    expect(recorded.length).toBeGreaterThan(1_000)
  })

  it('gives the same facts, lag, time and tier as the full decode, and skips the rest', () => {
    let differing = 0
    for (const e of enriched) {
      const bytes = full.toBuffer(toEnrichedRecord(e))
      const whole = fromEnrichedRecord(full.fromBuffer(bytes) as EnrichedAgentEventRecord)
      const view: EnrichedEventView = fromEnrichedRecord(projected.fromBuffer(bytes, resolver) as EnrichedAgentEventRecord)
      const same =
        JSON.stringify(eventFacts(view)) === JSON.stringify(eventFacts(whole)) &&
        view.ingest_lag_ms === whole.ingest_lag_ms &&
        view.event.timestamp === whole.event.timestamp &&
        view.tier === whole.tier
      if (!same) differing++
      expect(view).not.toHaveProperty('event.event_id')
      expect(view).not.toHaveProperty('event.attributes')
    }
    expect(differing).toBe(0)
  })
})
