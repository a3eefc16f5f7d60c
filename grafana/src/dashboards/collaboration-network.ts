/** Collaboration network (seed 001 view 4): who works with whom, consensus, resolution time. */
import type { DashboardSpec } from '../board.ts'
import { grid, network, series } from '../panels.ts'
import { inRange, matches, prom, sel, sqlSeries, sqlTable, timeOf } from '../queries.ts'
import { RT } from '../../../schemas/rollup-tables.ts'

const EDGES = `FROM ${RT.edge} WHERE ${inRange()} AND (${matches('from_agent', 'agent')} OR ${matches('to_agent', 'agent')})`

export const collaborationNetwork: DashboardSpec = {
  uid: 'auren-collaboration-network',
  title: 'AUREN / Collaboration network',
  description: 'Node graph of collaboration and handoff edges with counts and consensus rate, and collaboration resolution time. Seed 001 view 4.',
  variables: ['agent'],
  panels: [
    network({ title: 'Who collaborates with and hands off to whom?', description: 'Nodes: agents with their edge count; edges: primary → partner (collaboration) and from → to (handoff) over the range, main stat = count, secondary = consensus rate (reached / known).', targets: [
      sqlTable(`SELECT a AS id, a AS title, sum(n) AS mainstat FROM (SELECT from_agent AS a, count AS n ${EDGES} UNION ALL SELECT to_agent AS a, count AS n ${EDGES}) x GROUP BY a`),
      sqlTable(`SELECT from_agent || '→' || to_agent || ':' || kind AS id, from_agent AS source, to_agent AS target, sum(count) AS mainstat, sum(consensus_reached)::float8 / NULLIF(sum(consensus_known), 0) AS secondarystat, kind AS detail__kind ${EDGES} GROUP BY from_agent, to_agent, kind`),
    ] }),
    grid({ title: 'Per edge: how often, how much consensus, how fast resolved?', description: 'Count, consensus rate (reached / edges that reported consensus; null when none did), mean resolution time (ms) and knowledge items shared per edge over the range.', w: 24, targets: [sqlTable(`SELECT from_agent AS "from", to_agent AS "to", kind, sum(count) AS count, sum(consensus_reached)::float8 / NULLIF(sum(consensus_known), 0) AS "consensus rate", sum(resolution_sum_ms) / NULLIF(sum(resolution_count), 0) AS "mean resolution ms", sum(knowledge_items_shared) AS "items shared" ${EDGES} GROUP BY 1, 2, 3 ORDER BY 4 DESC LIMIT 100`)] }),
    series({ title: 'How many collaborations reach consensus?', description: 'Collaboration edges per second by consensus (true, false, unknown) (auren_collaborations_total).', unit: 'reqps', stack: true, targets: [prom(`sum by (consensus) (rate(${sel('auren_collaborations_total', 'agent=~"$agent"')}[$__rate_interval]))`, '{{consensus}}')] }),
    series({ title: 'How many handoffs between agents?', description: 'Handoffs per second from agent to partner (auren_agent_handoffs_total).', unit: 'reqps', targets: [prom(`sum by (agent, partner) (rate(${sel('auren_agent_handoffs_total', 'agent=~"$agent"')}[$__rate_interval]))`, '{{agent}} → {{partner}}')] }),
    series({ title: 'How long do collaborations take to resolve?', description: `Mean resolution time per rollup window of event time (window_ms in ${RT.rollup_window}, 1 min by default) (${RT.edge}: resolution sum / count, ms).`, unit: 'ms', w: 24, targets: [sqlSeries(`SELECT ${timeOf()} AS time, 'mean resolution' AS metric, sum(resolution_sum_ms) / NULLIF(sum(resolution_count), 0) AS ms ${EDGES} AND resolution_count > 0 GROUP BY 1 ORDER BY 1`)] }),
  ],
}
