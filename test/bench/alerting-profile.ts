/**
 * A CPU profile of the alerting app over the alerting phase's timed catch-up (not counted in any
 * figure: the profiler slows the app down): `npx tsx test/bench/alerting-profile.ts [--events N]
 * [--partitions P] [--extra-rules N] [--out FILE]`. Needs the stack (`AUREN_STACK_DIR`). Writes a V8 `.cpuprofile`
 * (default test/artifacts/bench-alerting.cpuprofile) and prints its summary by component and the
 * top functions by self time (cpu-profile.ts).
 */
import { parseArgs } from 'node:util'
import { join } from 'node:path'
import { deleteGroups } from './broker-ceiling.ts'
import { prepareAlertingThroughput } from './alerting-throughput.ts'
import { summarizeProfile } from './cpu-profile.ts'

const { values } = parseArgs({ options: { events: { type: 'string', default: '10000' }, partitions: { type: 'string', default: '3' }, 'extra-rules': { type: 'string' }, out: { type: 'string' } } })
const repoRoot = join(import.meta.dirname, '..', '..')
const out = values.out ?? join(repoRoot, 'test', 'artifacts', 'bench-alerting.cpuprofile')
const groups: string[] = []
const log = (line: string) => process.stderr.write(`[alerting-profile] ${line}\n`)
const session = await prepareAlertingThroughput({ events: Number(values.events), partitions: Number(values.partitions), seed: 1, extraRules: values['extra-rules'] === undefined ? undefined : Number(values['extra-rules']), log, trackGroup: (g) => groups.push(g), timeoutMs: 600_000 })
try {
  const run = await session.run(0, out)
  log(`${Math.round(run.eventsPerSec)} events/s under the profiler, ${run.stateChanges} state changes`)
  if (!run.cpuProfile) throw new Error('no CPU profile written')
  console.log(JSON.stringify(summarizeProfile(run.cpuProfile, repoRoot), null, 1))
} finally {
  await session.close()
  await deleteGroups(groups).catch((err: unknown) => log(`could not delete every group: ${(err as Error).message.split('\n')[0]}`))
}
