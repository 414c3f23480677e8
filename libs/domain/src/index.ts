// Public surface of @cb/domain: pure decider, definitions, guards and read-model projections.
// No I/O, clock or randomness.
export { DomainError, type Result } from './errors';
export { mergePatch, jsonDepthExceeds } from './json';
export {
  analyzeDefinition,
  definitionShapeErrors,
  validateDefinition,
  type DefinitionGraph,
} from './definitions';
export {
  compileWorkflow,
  CompiledWorkflowCache,
  compiledWorkflowKey,
  COMPILED_WORKFLOW_CACHE_SIZE,
  availabilityGuardRequests,
  availableTransitions,
  type CompiledWorkflow,
} from './workflow';
export {
  compileGuards,
  evaluateGuards,
  evaluateOne,
  MAX_GUARD_BYTES,
  MAX_GUARD_DEPTH,
  MAX_GUARD_FAILURES,
  MAX_GUARD_PATHS,
  MAX_UNIQUE_ITEMS,
  type CodedFieldError,
  type CompiledGuards,
  type GuardCheck,
  type GuardInput,
  type GuardLimitCode,
  type GuardOutcome,
  type GuardRequest,
  type GuardVerdict,
  type GuardVerdicts,
} from './guards';
export {
  decideWorkflow,
  decideToken,
  decideTokenInProcess,
  guardRequestsFor,
  evolveToken,
  evolveWorkflow,
  toToken,
  type DecideContext,
  type TokenStreamState,
} from './decider';
export {
  planTokenWrites,
  applyStatsEvents,
  emptyStats,
  sumStats,
  hourKey,
  pruneHourly,
  HOURLY_WINDOW_HOURS,
  definitionKeysFor,
  isNewerDefinition,
  toTokenDoc,
  foldReadModels,
  type StoredTokenEvent,
  type TokenWritePlan,
  type FoldedReadModels,
} from './projections';
