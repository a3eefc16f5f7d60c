/** Knowledge heatmap (seed 001 view 2): which knowledge each agent reads, when, and what is missing. */
import type { DashboardSpec } from '../board.ts'
import { bars, grid, heat } from '../panels.ts'
import { inRange, matches, sqlSeries, sqlTable, timeOf } from '../queries.ts'
import { RT } from '../../../schemas/rollup-tables.ts'

export const knowledgeHeatmap: DashboardSpec = {
  uid: 'auren-knowledge-heatmap',
  title: 'AUREN / Knowledge heatmap',
  description: 'Item × agent accesses, accesses by hour of day, knowledge gaps (items looked up and not found). Seed 001 view 2.',
  variables: ['agent'],
  panels: [
    heat({ title: 'Which knowledge domains are read, minute by minute?', description: `Accesses per domain per rollup window of event time (window_ms in ${RT.rollup_window}, 1 min by default) (${RT.knowledge}); each row a domain, color = accesses.`, unit: 'short', w: 24, targets: [sqlSeries(`SELECT ${timeOf()} AS time, domain AS metric, sum(accesses) AS accesses FROM ${RT.knowledge} WHERE ${inRange()} AND ${matches('agent_id', 'agent')} GROUP BY 1, 2 ORDER BY 1`)] }),
    grid({ title: 'Which agent reads which item (item × agent)?', description: `Accesses per knowledge item and agent over the range, most read first (${RT.knowledge}).`, unit: 'short', targets: [sqlTable(`SELECT item_id AS item, agent_id AS agent, sum(accesses) AS accesses, sum(found) AS found FROM ${RT.knowledge} WHERE ${inRange()} AND ${matches('agent_id', 'agent')} GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 100`)] }),
    bars({ title: 'At what hour of the day is knowledge read (UTC)?', description: 'Accesses per hour of day (UTC, event time) over the range.', unit: 'short', x: 'hour', targets: [sqlTable(`SELECT lpad(extract(hour FROM ${timeOf()} AT TIME ZONE 'UTC')::int::text, 2, '0') AS hour, sum(accesses) AS accesses FROM ${RT.knowledge} WHERE ${inRange()} AND ${matches('agent_id', 'agent')} GROUP BY 1 ORDER BY 1`)] }),
    grid({ title: 'Where are the knowledge gaps (looked up, not found)?', description: 'Items with lookups that found nothing over the range: not found = accesses − found; gap rate = not found / accesses.', unit: 'short', w: 24, targets: [sqlTable(`SELECT item_id AS item, domain, sum(accesses - found) AS "not found", sum(accesses) AS accesses, sum(accesses - found)::float8 / NULLIF(sum(accesses), 0) AS "gap rate" FROM ${RT.knowledge} WHERE ${inRange()} AND ${matches('agent_id', 'agent')} GROUP BY 1, 2 HAVING sum(accesses - found) > 0 ORDER BY 3 DESC LIMIT 50`)] }),
  ],
}
