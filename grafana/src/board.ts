/**
 * The frame every AUREN dashboard shares: uid, tags, refresh, time range, the template variables
 * (instance, processor, agent, model, tier, user) and links to every other dashboard (by tag,
 * keeping time and variables).
 */
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard'
import { POSTGRES, PROMETHEUS } from './datasources.ts'
import { layout, type SizedPanel } from './panels.ts'
import { RT } from '../../schemas/rollup-tables.ts'

/** Template variables a dashboard can use; `instance` is always there. */
export type VariableName = 'processor' | 'agent' | 'model' | 'tier' | 'user'

/** What a dashboard module exports. */
export interface DashboardSpec {
  /** Grafana uid, also the JSON file name (`grafana/dashboards/<uid>.json`). */
  uid: string
  title: string
  /** Who reads it and for what. */
  description: string
  variables: VariableName[]
  panels: SizedPanel[]
}

/** Tag shared by every AUREN dashboard: the links menu lists them all. */
export const AUREN_TAG = 'auren'

function promVariable(name: string, label: string, query: string): dashboard.QueryVariableBuilder {
  return new dashboard.QueryVariableBuilder(name).label(label).datasource(PROMETHEUS).query(query).definition(query)
    .multi(true).includeAll(true).allValue('.*').refresh(dashboard.VariableRefresh.OnTimeRangeChanged).sort(dashboard.VariableSort.AlphabeticalAsc)
    .current({ text: 'All', value: '$__all' })
}

const VARIABLES: Record<VariableName | 'instance', () => dashboard.QueryVariableBuilder> = {
  instance: () => promVariable('instance', 'Instance', 'label_values(up, instance)'),
  processor: () => promVariable('processor', 'Processor', 'label_values(auren_records_consumed_total{instance=~"$instance"}, processor)'),
  agent: () => promVariable('agent', 'Agent', 'label_values(auren_agent_executions_total{instance=~"$instance"}, agent)'),
  model: () => promVariable('model', 'Model', 'label_values(auren_llm_calls_total{instance=~"$instance"}, model)'),
  tier: () => promVariable('tier', 'Memory tier', 'label_values(auren_memory_tier_accesses_total{instance=~"$instance"}, tier)'),
  user: () => new dashboard.QueryVariableBuilder('user').label('User').datasource(POSTGRES)
    .query(`SELECT DISTINCT user_id FROM ${RT.user} WHERE user_id <> '' ORDER BY 1`).definition(`SELECT DISTINCT user_id FROM ${RT.user} WHERE user_id <> '' ORDER BY 1`)
    .multi(true).includeAll(true).allValue('.*').refresh(dashboard.VariableRefresh.OnTimeRangeChanged).current({ text: 'All', value: '$__all' }),
}

/** Builds the dashboard model of a spec. */
export function buildDashboard(spec: DashboardSpec): dashboard.Dashboard {
  const d = new dashboard.DashboardBuilder(spec.title).uid(spec.uid).description(spec.description).tags([AUREN_TAG])
    .refresh('30s').time({ from: 'now-6h', to: 'now' }).timezone('utc').editable()
    .link(new dashboard.DashboardLinkBuilder('AUREN dashboards').type(dashboard.DashboardLinkType.Dashboards).tags([AUREN_TAG])
      .asDropdown(true).includeVars(true).keepTime(true))
  d.withVariable(VARIABLES.instance())
  for (const v of spec.variables) d.withVariable(VARIABLES[v]())
  return layout(d, spec.panels).build()
}
