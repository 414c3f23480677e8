import { type TokenCommand, type TokenEvent } from '@cb/schemas';
import { type Result } from '../errors';
import { compileGuards, evaluateGuards, type CompiledGuards, type GuardRequest } from '../guards';
import { type CompiledWorkflow } from '../workflow';
import { type DecideContext } from './context';
import { type TokenStreamState } from './token-stream-state';
import { decideCreateToken } from './create-token';
import { decideDeleteToken } from './delete-token';
import { decideFireTransition, fireTransitionGuardRequests } from './fire-transition';
import { decideUpdateToken } from './update-token';

/**
 * decide(command, state) → event | coded error, for one token stream. `workflow` is the
 * definition the command runs against (latest for CreateToken, the token's pinned version for
 * FireTransition); UpdateToken and DeleteToken do not need it and accept `null`. The verdicts of
 * the guards named by `guardRequestsFor` arrive in `ctx.guardVerdicts`.
 */
export function decideToken(
  command: TokenCommand,
  state: TokenStreamState,
  workflow: CompiledWorkflow | null,
  ctx: DecideContext,
): Result<TokenEvent> {
  switch (command.type) {
    case 'CreateToken':
      return decideCreateToken(command, state, workflow, ctx);
    case 'FireTransition':
      return decideFireTransition(command, state, workflow, ctx);
    case 'UpdateToken':
      return decideUpdateToken(command, state, ctx);
    case 'DeleteToken':
      return decideDeleteToken(command, state, ctx);
    default: {
      const unhandled: never = command;
      throw new Error(`unhandled token command ${JSON.stringify(unhandled)}`);
    }
  }
}

/** The guards `decideToken` needs evaluated for this command and state (often none). */
export function guardRequestsFor(
  command: TokenCommand,
  state: TokenStreamState,
  workflow: CompiledWorkflow | null,
): GuardRequest[] {
  switch (command.type) {
    case 'FireTransition':
      return fireTransitionGuardRequests(command, state, workflow);
    case 'CreateToken':
    case 'UpdateToken':
    case 'DeleteToken':
      return [];
    default: {
      const unhandled: never = command;
      throw new Error(`unhandled token command ${JSON.stringify(unhandled)}`);
    }
  }
}

const inProcess = new WeakMap<CompiledWorkflow, CompiledGuards>();

/**
 * `decideToken` with the guards evaluated on this thread, with no time budget: for tests and
 * tools that generate events. The services evaluate guards in a worker pool under a budget.
 */
export function decideTokenInProcess(
  command: TokenCommand,
  state: TokenStreamState,
  workflow: CompiledWorkflow | null,
  ctx: DecideContext,
): Result<TokenEvent> {
  const requests = guardRequestsFor(command, state, workflow);
  if (requests.length === 0 || workflow === null) return decideToken(command, state, workflow, ctx);
  let guards = inProcess.get(workflow);
  if (guards === undefined) {
    guards = compileGuards(workflow.definition.transitions);
    inProcess.set(workflow, guards);
  }
  return decideToken(command, state, workflow, {
    ...ctx,
    guardVerdicts: evaluateGuards(guards, requests),
  });
}
