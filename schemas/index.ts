export * from './agent-event.ts'
export * from './topics.ts'
export * from './headers.ts'
export * from './avro-options.ts'
export * from './schema-files.ts'
export * from './latency-histogram.ts'
export type {
  AgentRef,
  PerformanceMetrics,
  AgentExecutionPayload,
  LlmCallPayload,
  ToolUsagePayload,
  CollaborationPayload,
  HandoffPayload,
  DecisionPayload,
  HypothesisPayload,
  KnowledgeAccessPayload,
  MemoryTierAccessPayload,
  MemoryOperationPayload,
  BiometricAnalysisPayload,
  ConversationTurnPayload,
  SystemHealthPayload,
  PerformanceMetricPayload,
  Tier,
  CostSource,
  InputComplexity,
  MemoryTier,
  AgentMetricsWindow,
  LatencySummary,
  Alert,
  AlertPartial,
  PartialBucket,
} from './generated/types.ts'
export { TIER_SYMBOLS, COST_SOURCE_SYMBOLS, MEMORY_TIER_SYMBOLS } from './generated/types.ts'
