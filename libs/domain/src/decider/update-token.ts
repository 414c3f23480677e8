import { type TokenUpdated, type UpdateToken } from '@cb/schemas';
import { fail, ok, type Result, validationError } from '../errors';
import { type DecideContext, eventBase } from './context';
import { type TokenStreamState } from './token-stream-state';
import { applyPatches, liveToken } from './token-rules';

/** UpdateToken: merge-patch data and/or metadata in place; the place and its clock are untouched. */
export function decideUpdateToken(
  command: UpdateToken,
  state: TokenStreamState,
  ctx: DecideContext,
): Result<TokenUpdated> {
  const live = liveToken(state, command);
  if (!live.ok) return live;
  const token = live.value;
  if (command.data === undefined && command.metadata === undefined) {
    return fail(
      validationError('nothing to update', [
        { path: '/', message: 'give data and/or metadata to update' },
      ]),
    );
  }

  const patched = applyPatches(token, command);
  if (!patched.ok) return patched;
  return ok({
    type: 'token.updated.v1',
    ...eventBase(ctx),
    workflowId: token.workflowId,
    tokenId: token.id,
    ...(command.data !== undefined && { dataPatch: command.data }),
    ...(command.metadata !== undefined && { metadataPatch: command.metadata }),
    state: { ...token, ...patched.value, updatedAt: ctx.now },
  });
}
