export { type DecideContext } from './context';
export { type TokenStreamState } from './token-stream-state';
export { decideWorkflow } from './decide-workflow';
export { decideToken, decideTokenInProcess, guardRequestsFor } from './decide-token';
export { evolveToken, evolveWorkflow, toToken } from './evolve';
