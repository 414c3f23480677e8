import { type DeleteToken, type TokenDeleted } from '@cb/schemas';
import { ok, type Result } from '../errors';
import { type DecideContext, eventBase } from './context';
import { type TokenStreamState } from './token-stream-state';
import { elapsedMs } from './elapsed-ms';
import { liveToken } from './token-rules';

/** DeleteToken: the event keeps the last state, so history and metrics still see where it ended. */
export function decideDeleteToken(
  command: DeleteToken,
  state: TokenStreamState,
  ctx: DecideContext,
): Result<TokenDeleted> {
  const live = liveToken(state, command);
  if (!live.ok) return live;
  const token = live.value;
  return ok({
    type: 'token.deleted.v1',
    ...eventBase(ctx),
    workflowId: token.workflowId,
    tokenId: token.id,
    place: token.place,
    timeInPlaceMs: elapsedMs(token.placeEnteredAt, ctx.now),
    state: { ...token, updatedAt: ctx.now },
  });
}
