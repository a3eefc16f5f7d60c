/**
 * Runs one golden fixture of test/fixtures/enrichment through the enrichment transform.
 *
 * `<case>.input.json`: `{ description, now_ms, env?, source, prior?, event }` where `env` holds
 * AUREN_ENRICHMENT_* variables, `prior` lists earlier deliveries of the same event
 * (`{ source, now_ms }`, each must emit) and `event` is an AgentEvent in the domain shape.
 * `<case>.expected.json`: the Outcome, as JSON.
 */
import { join } from 'node:path'
import { goldenCaseNames, readGoldenCase } from '../../../helpers/golden-fixtures.ts'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import type { AgentEvent, EnrichedAgentEvent } from '../../../../schemas/index.ts'
import type { RecordCoordinates } from '../../../../processors/runtime/context.ts'
import type { Outcome } from '../../../../processors/runtime/outcome.ts'
import { parseEnrichmentConfig } from '../../../../processors/enrichment/config.ts'
import { createEnrichmentTransform, type EnrichmentContext } from '../../../../processors/enrichment/transform.ts'

export const FIXTURE_DIR = join(import.meta.dirname, '../../../fixtures/enrichment')

/** Shape of `<case>.input.json`. */
export interface FixtureInput {
  description: string
  now_ms: number
  env?: Record<string, string>
  source: RecordCoordinates
  prior?: { source: RecordCoordinates; now_ms: number }[]
  event: AgentEvent
}

/** Names of every case, sorted. */
export const fixtureNames = (): string[] => goldenCaseNames(FIXTURE_DIR)

/** One case's input and expected output. */
export const readFixture = (name: string): { input: FixtureInput; expected: unknown } => readGoldenCase<FixtureInput>(FIXTURE_DIR, name)

/** A context with a fixed clock, a silent logger and a fresh registry. */
export function fixedContext(nowMs: number, source: RecordCoordinates, registry = new Registry()): EnrichmentContext {
  return { log: pino({ level: 'silent' }), now: () => nowMs, source, registry }
}

/** Runs the priors (returning their outcomes) and then the case; returns the case's outcome. */
export function runFixture(input: FixtureInput): { priors: Outcome<EnrichedAgentEvent>[]; outcome: Outcome<EnrichedAgentEvent>; registry: Registry } {
  const registry = new Registry()
  const transform = createEnrichmentTransform(parseEnrichmentConfig(input.env ?? {}))
  // Notes are facts for the afterCommit metrics (tested there), not part of the golden outcome.
  const strip = ({ notes: _notes, ...outcome }: Outcome<EnrichedAgentEvent>) => outcome as Outcome<EnrichedAgentEvent>
  const priors = (input.prior ?? []).map((p) => strip(transform(input.event, fixedContext(p.now_ms, p.source, registry))))
  const outcome = strip(transform(input.event, fixedContext(input.now_ms, input.source, registry)))
  return { priors, outcome, registry }
}
