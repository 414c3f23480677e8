// Public surface of @cb/domain: pure decider, definitions, guards and read-model projections.
// No I/O, clock or randomness.
export { DomainError, type Result } from './errors';
export { mergePatch, jsonDepthExceeds } from './json';
export { analyzeDefinition, validateDefinition, type DefinitionGraph } from './definitions';
export { compileWorkflow, availableTransitions, type CompiledWorkflow } from './workflow';
export {
  decideWorkflow,
  decideToken,
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
