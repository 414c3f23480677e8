export { compileWorkflow, type CompiledWorkflow } from './compiled-workflow';
export {
  availabilityGuardRequests,
  availableTransitions,
  enabledGuardRequests,
  enabledTransitionIds,
  verdictOf,
} from './available-transitions';
