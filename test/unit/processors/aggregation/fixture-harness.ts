/**
 * Golden fixtures of the aggregation transform, test/fixtures/aggregation:
 * `<case>.input.json` = `{ description, window_ms?, event }` → `<case>.expected.json` = the
 * event's RollupDelta; or `{ description, window_ms?, events: [...] }` → the MergedDelta of
 * the events' deltas (a batch). Enriched events in the domain shape (payload unwrapped).
 */
import { join } from 'node:path'
import { goldenCaseNames, readGoldenCase } from '../../../helpers/golden-fixtures.ts'
import type { EnrichedAgentEvent } from '../../../../schemas/index.ts'
import { mergeDeltas, type MergedDelta, type RollupDelta } from '../../../../processors/aggregation/rollup-delta.ts'
import { toRollupDelta } from '../../../../processors/aggregation/transform.ts'

export const FIXTURE_DIR = join(import.meta.dirname, '../../../fixtures/aggregation')

/** Shape of `<case>.input.json`. */
export interface FixtureInput {
  description: string
  window_ms?: number
  event?: EnrichedAgentEvent
  events?: EnrichedAgentEvent[]
}

/** Names of every case, sorted. */
export const fixtureNames = (): string[] => goldenCaseNames(FIXTURE_DIR)

/** One case's input and expected output. */
export const readFixture = (name: string): { input: FixtureInput; expected: unknown } => readGoldenCase<FixtureInput>(FIXTURE_DIR, name)

/** The delta of `event`, or the merged delta of `events`. */
export function runFixture(input: FixtureInput): RollupDelta | MergedDelta {
  if (input.event) return toRollupDelta(input.event, input.window_ms)
  return mergeDeltas((input.events ?? []).map((e) => toRollupDelta(e, input.window_ms)))
}
