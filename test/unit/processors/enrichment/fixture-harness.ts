/**
 * Runs one golden fixture of test/fixtures/enrichment through the enrichment transform.
 *
 * `<case>.input.json`: `{ description, now_ms, env?, source, prior?, event }` where `env` holds
 * AUREN_ENRICHMENT_* variables, `prior` lists earlier deliveries of the same event
 * (`{ source, now_ms }`, each must emit) and `event` is an AgentEvent in the domain shape.
 * `<case>.expected.json`: the Outcome, as JSON.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import type { AgentEvent, EnrichedAgentEvent } from '../../../../schemas/index.ts'
import type { ProcessorContext, RecordCoordinates } from '../../../../processors/runtime/context.ts'
import type { Outcome } from '../../../../processors/runtime/outcome.ts'
import { parseEnrichmentConfig } from '../../../../processors/enrichment/config.ts'
import { createEnrichmentTransform } from '../../../../processors/enrichment/transform.ts'

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

/** Names of every case (files ending in .input.json), sorted. */
export function fixtureNames(): string[] {
  return readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith('.input.json'))
    .map((f) => f.slice(0, -'.input.json'.length))
    .sort()
}

export function readFixture(name: string): { input: FixtureInput; expected: unknown } {
  const input = JSON.parse(readFileSync(join(FIXTURE_DIR, `${name}.input.json`), 'utf8')) as FixtureInput
  const expected = JSON.parse(readFileSync(join(FIXTURE_DIR, `${name}.expected.json`), 'utf8')) as unknown
  return { input, expected }
}

/** A context with a fixed clock, a silent logger and a fresh registry. */
export function fixedContext(nowMs: number, source: RecordCoordinates, registry = new Registry()): ProcessorContext {
  return { log: pino({ level: 'silent' }), now: () => nowMs, source, registry }
}

/** Runs the priors (returning their outcomes) and then the case; returns the case's outcome. */
export function runFixture(input: FixtureInput): { priors: Outcome<EnrichedAgentEvent>[]; outcome: Outcome<EnrichedAgentEvent>; registry: Registry } {
  const registry = new Registry()
  const transform = createEnrichmentTransform(parseEnrichmentConfig(input.env ?? {}))
  const priors = (input.prior ?? []).map((p) => transform(input.event, fixedContext(p.now_ms, p.source, registry)))
  const outcome = transform(input.event, fixedContext(input.now_ms, input.source, registry))
  return { priors, outcome, registry }
}
