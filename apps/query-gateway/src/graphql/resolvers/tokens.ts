import { decodeEvent } from '@cb/nats';
import type { SequencedEvent, Token } from '@cb/schemas';
import { ApiError } from '../../api-error';
import { maySee, type GraphqlContext } from '../context';
import { toGqlToken, type GqlToken } from '../mapping';

/** Events of one token a history field reads at most (REST's history page maximum). */
const MAX_HISTORY = 1000;

function notFound(tokenId: string): ApiError {
  return new ApiError('TOKEN_NOT_FOUND', `token ${tokenId} does not exist`);
}

/** A token in the original's shape: its subject is the token's real one, in the caller's tenant. */
export function gqlToken(ctx: GraphqlContext, token: Token): GqlToken {
  return toGqlToken(
    token,
    ctx.deps.naming.tokenSubject(ctx.principal.tenant, token.workflowId, token.id),
  );
}

/**
 * A token by id from the read model, whatever its workflow (ids are unique in a tenant), as
 * `GET /v1/tokens/:tokenId` reads it: a workflow the key may not see answers like a missing token.
 */
export async function readToken(
  ctx: GraphqlContext,
  tokenId: string,
  minSeq: number | undefined,
): Promise<Token> {
  const read = await ctx.deps.reads.token(ctx.principal.tenant, undefined, tokenId, minSeq);
  if (!maySee(ctx, read.value.workflowId)) throw notFound(tokenId);
  return read.value;
}

/**
 * A token by id straight from the stream (for writes: never behind a write just made): its
 * first event names its workflow, its last is its state.
 */
export async function strongToken(ctx: GraphqlContext, tokenId: string): Promise<Token> {
  const { store, naming, reads } = ctx.deps;
  const tenant = ctx.principal.tenant;
  const first = await store.nextOnSubject(naming.tokenSubjectAnyWorkflow(tenant, tokenId), 1);
  const decoded = first === null ? undefined : decodeEvent(first.data);
  if (!decoded?.ok || !('tokenId' in decoded.event) || decoded.event.tokenId !== tokenId) {
    throw notFound(tokenId);
  }
  const { workflowId } = decoded.event;
  if (!maySee(ctx, workflowId)) throw notFound(tokenId);
  return reads.strongToken(tenant, workflowId, tokenId);
}

/** The token's events, read once per request however many fields ask for them. */
export function tokenEvents(
  ctx: GraphqlContext,
  workflowId: string,
  tokenId: string,
): Promise<SequencedEvent[]> {
  const key = `${workflowId}/${tokenId}`;
  let events = ctx.memo.get(key) as Promise<SequencedEvent[]> | undefined;
  if (events === undefined) {
    events = ctx.deps.reads
      .history(ctx.principal.tenant, workflowId, tokenId, MAX_HISTORY)
      .then((page) => page.items)
      .catch((err: unknown) => {
        // A token with no events left (never the case for one just read): an empty history.
        if (err instanceof ApiError && err.code === 'TOKEN_NOT_FOUND') return [];
        throw err;
      });
    ctx.memo.set(key, events);
  }
  return events;
}
