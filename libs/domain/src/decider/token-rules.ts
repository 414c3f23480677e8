import { type FieldError, type JsonObject, MAX_JSON_DEPTH, type TokenState } from '@cb/schemas';
import { DomainError, fail, ok, type Result, validationError } from '../errors';
import { jsonDepthExceeds, mergePatch } from '../json';
import { type CompiledWorkflow } from '../workflow';
import { type TokenStreamState } from './token-stream-state';

/**
 * The live token a command addresses. A deleted token, or one of another workflow, is
 * TOKEN_NOT_FOUND: a token id is only meaningful within its workflow.
 */
export function liveToken(
  state: TokenStreamState,
  address: { workflowId: string; tokenId: string },
): Result<TokenState> {
  const { workflowId, tokenId } = address;
  if (
    state.status === 'live' &&
    state.token.workflowId === workflowId &&
    state.token.id === tokenId
  ) {
    return ok(state.token);
  }
  return fail(
    new DomainError('TOKEN_NOT_FOUND', `token "${tokenId}" not found in workflow "${workflowId}"`, {
      workflowId,
      tokenId,
    }),
  );
}

/**
 * The caller must pass the definition the command runs against: the latest version for
 * CreateToken, the token's pinned version otherwise. Anything else is a bug in the caller,
 * reported as INTERNAL_ERROR rather than deciding against the wrong rules.
 */
export function wrongDefinition(
  workflow: CompiledWorkflow,
  workflowId: string,
  version?: number,
): DomainError | null {
  const { id, version: actual } = workflow.definition;
  if (id === workflowId && (version === undefined || version === actual)) return null;
  const wanted = version === undefined ? workflowId : `${workflowId} v${version}`;
  return new DomainError(
    'INTERNAL_ERROR',
    `decider given workflow ${id} v${actual}, needs ${wanted}`,
  );
}

export function workflowNotFound(workflowId: string): DomainError {
  return new DomainError('WORKFLOW_NOT_FOUND', `workflow "${workflowId}" not found`, {
    workflowId,
  });
}

/** Errors for `data`/`metadata` nested deeper than MAX_JSON_DEPTH, at `/data` or `/metadata`. */
export function depthErrors(fields: { data?: unknown; metadata?: unknown }): FieldError[] {
  const errors: FieldError[] = [];
  for (const key of ['data', 'metadata'] as const) {
    if (jsonDepthExceeds(fields[key], MAX_JSON_DEPTH)) {
      errors.push({
        path: `/${key}`,
        message: `${key} nests deeper than ${MAX_JSON_DEPTH} levels`,
      });
    }
  }
  return errors;
}

/**
 * The token's data and metadata with the command's merge patches applied (absent patch = no
 * change). VALIDATION_ERROR if a patch or its result nests too deep.
 */
export function applyPatches(
  token: TokenState,
  patches: { data?: JsonObject; metadata?: JsonObject },
): Result<{ data: JsonObject; metadata: JsonObject }> {
  const data =
    patches.data === undefined ? token.data : (mergePatch(token.data, patches.data) as JsonObject);
  const metadata =
    patches.metadata === undefined
      ? token.metadata
      : (mergePatch(token.metadata, patches.metadata) as JsonObject);
  const errors = uniqueByPath([...depthErrors(patches), ...depthErrors({ data, metadata })]);
  if (errors.length > 0) return fail(validationError('token data is nested too deeply', errors));
  return ok({ data, metadata });
}

function uniqueByPath(errors: FieldError[]): FieldError[] {
  return errors.filter((e, i) => errors.findIndex((o) => o.path === e.path) === i);
}
