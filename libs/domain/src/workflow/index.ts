export { compileWorkflow, type CompiledWorkflow } from './compiled-workflow';
export {
  COMPILED_WORKFLOW_CACHE_SIZE,
  CompiledWorkflowCache,
  compiledWorkflowKey,
} from './compiled-workflow-cache';
export {
  availabilityGuardRequests,
  availableTransitions,
  enabledGuardRequests,
  enabledTransitionIds,
  verdictOf,
} from './available-transitions';
