import { type CreateToken, type FieldError, type TokenCreated, type TokenState } from '@cb/schemas';
import { DomainError, fail, ok, type Result, validationError } from '../errors';
import { type CompiledWorkflow } from '../workflow';
import { type DecideContext, eventBase } from './context';
import { type TokenStreamState } from './token-stream-state';
import { depthErrors, workflowNotFound, wrongDefinition } from './token-rules';

/**
 * CreateToken against the workflow's latest definition, which the token is pinned to. The id is
 * the client's or `ctx.newTokenId`; an id that ever existed (even deleted) is TOKEN_EXISTS.
 */
export function decideCreateToken(
  command: CreateToken,
  state: TokenStreamState,
  workflow: CompiledWorkflow | null,
  ctx: DecideContext,
): Result<TokenCreated> {
  const { workflowId } = command;
  if (workflow === null) return fail(workflowNotFound(workflowId));
  const mismatch = wrongDefinition(workflow, workflowId);
  if (mismatch !== null) return fail(mismatch);

  const tokenId = command.tokenId ?? ctx.newTokenId;
  if (state.status !== 'absent') {
    return fail(
      new DomainError('TOKEN_EXISTS', `token "${tokenId}" already exists`, { workflowId, tokenId }),
    );
  }

  const place = command.place ?? workflow.definition.initialPlace;
  const data = command.data ?? {};
  const metadata = command.metadata ?? {};
  const errors: FieldError[] = [];
  if (!workflow.hasPlace(place)) {
    errors.push({
      path: '/place',
      message: `"${place}" is not a place of workflow "${workflowId}"`,
    });
  }
  errors.push(...depthErrors({ data, metadata }));
  if (errors.length > 0) return fail(validationError('invalid token', errors));

  const token: TokenState = {
    id: tokenId,
    workflowId,
    definitionVersion: workflow.definition.version,
    place,
    data,
    metadata,
    createdAt: ctx.now,
    updatedAt: ctx.now,
    placeEnteredAt: ctx.now,
  };
  return ok({
    type: 'token.created.v1',
    ...eventBase(ctx),
    workflowId,
    tokenId,
    place,
    state: token,
  });
}
