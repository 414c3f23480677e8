import { type TokenCommand, type TokenEvent } from '@cb/schemas';
import { type Result } from '../errors';
import { type CompiledWorkflow } from '../workflow';
import { type DecideContext } from './context';
import { type TokenStreamState } from './token-stream-state';
import { decideCreateToken } from './create-token';
import { decideDeleteToken } from './delete-token';
import { decideFireTransition } from './fire-transition';
import { decideUpdateToken } from './update-token';

/**
 * decide(command, state) → event | coded error, for one token stream. `workflow` is the
 * definition the command runs against (latest for CreateToken, the token's pinned version for
 * FireTransition); UpdateToken and DeleteToken do not need it and accept `null`.
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
