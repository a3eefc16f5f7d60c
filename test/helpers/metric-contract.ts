/**
 * The aggregation metrics of CONTRACTS.md section 4: name → label names, exactly as there.
 * Written here by hand from the contract (not imported from the implementation), so tests that
 * use it check the implementation against the contract.
 */
export const AGGREGATION_METRICS_CONTRACT: Readonly<Record<string, readonly string[]>> = Object.freeze({
  auren_llm_calls_total: ['agent', 'model', 'status'],
  auren_llm_tokens_total: ['agent', 'model', 'direction'],
  auren_llm_cost_usd_total: ['agent', 'model'],
  auren_llm_call_duration_seconds: ['agent', 'model'],
  auren_agent_executions_total: ['agent', 'status'],
  auren_agent_execution_duration_seconds: ['agent'],
  auren_tool_calls_total: ['agent', 'tool', 'status'],
  auren_memory_tier_accesses_total: ['tier'],
  auren_memory_tier_latency_seconds: ['tier'],
  auren_collaborations_total: ['agent', 'partner', 'consensus'],
  auren_hypotheses_total: ['agent', 'status'],
  auren_agents_active: [],
})
