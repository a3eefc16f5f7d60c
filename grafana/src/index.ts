/**
 * Every AUREN dashboard, in menu order. `npm run gen:dashboards` writes each to
 * `grafana/dashboards/<uid>.json`.
 */
import type { DashboardSpec } from './board.ts'
import { alerts } from './dashboards/alerts.ts'
import { agentPerformance } from './dashboards/agent-performance.ts'
import { bodySystem } from './dashboards/body-system.ts'
import { collaborationNetwork } from './dashboards/collaboration-network.ts'
import { dataQuality } from './dashboards/data-quality.ts'
import { gateway } from './dashboards/gateway.ts'
import { knowledgeHeatmap } from './dashboards/knowledge-heatmap.ts'
import { learningReasoning } from './dashboards/learning-reasoning.ts'
import { memoryTierFlow } from './dashboards/memory-tier-flow.ts'
import { pipelineHealth } from './dashboards/pipeline-health.ts'
import { tokenEconomics } from './dashboards/token-economics.ts'

export const DASHBOARDS: readonly DashboardSpec[] = [
  pipelineHealth, tokenEconomics, agentPerformance, memoryTierFlow, knowledgeHeatmap,
  collaborationNetwork, learningReasoning, bodySystem, gateway, alerts, dataQuality,
]
