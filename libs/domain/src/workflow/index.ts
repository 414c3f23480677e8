export { compileWorkflow, type CompiledWorkflow } from './compiled-workflow';
export { availableTransitions, enabledTransitionIds } from './available-transitions';
