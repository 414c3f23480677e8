import { type FireTransition, type LastTransition, type TokenTransitioned } from '@cb/schemas';
import { DomainError, fail, ok, type Result } from '../errors';
import { type CompiledWorkflow, enabledTransitionIds } from '../workflow';
import { type DecideContext, eventBase } from './context';
import { type TokenStreamState } from './token-stream-state';
import { elapsedMs } from './elapsed-ms';
import { applyPatches, liveToken, workflowNotFound, wrongDefinition } from './token-rules';

/**
 * FireTransition against the token's pinned definition. The patches are applied before the
 * guard runs, so a client can supply the data a guard requires in the same request.
 */
export function decideFireTransition(
  command: FireTransition,
  state: TokenStreamState,
  workflow: CompiledWorkflow | null,
  ctx: DecideContext,
): Result<TokenTransitioned> {
  const live = liveToken(state, command);
  if (!live.ok) return live;
  const token = live.value;
  if (workflow === null) return fail(workflowNotFound(command.workflowId));
  const mismatch = wrongDefinition(workflow, token.workflowId, token.definitionVersion);
  if (mismatch !== null) return fail(mismatch);

  const transition = workflow.transition(command.transition);
  if (transition === undefined || !transition.from.includes(token.place)) {
    const message =
      transition === undefined
        ? `workflow "${token.workflowId}" has no transition "${command.transition}"`
        : `transition "${transition.id}" cannot fire from "${token.place}"`;
    return fail(
      new DomainError('TRANSITION_NOT_ENABLED', message, {
        transition: command.transition,
        place: token.place,
        enabledTransitions: enabledTransitionIds(workflow, token),
      }),
    );
  }

  const patched = applyPatches(token, command);
  if (!patched.ok) return patched;
  const { data, metadata } = patched.value;
  const failures = workflow.checkGuard(transition.id, { data, metadata });
  if (failures.length > 0) {
    return fail(
      new DomainError('GUARD_FAILED', `guard of transition "${transition.id}" failed`, {
        transition: transition.id,
        failures,
      }),
    );
  }

  const from = token.place;
  const to = transition.to;
  const lastTransition: LastTransition = {
    id: transition.id,
    from,
    to,
    at: ctx.now,
    ...(ctx.triggeredBy !== undefined && { triggeredBy: ctx.triggeredBy }),
  };
  return ok({
    type: 'token.transitioned.v1',
    ...eventBase(ctx),
    workflowId: token.workflowId,
    tokenId: token.id,
    transition: transition.id,
    from,
    to,
    ...(command.data !== undefined && { dataPatch: command.data }),
    ...(command.metadata !== undefined && { metadataPatch: command.metadata }),
    timeInPlaceMs: elapsedMs(token.placeEnteredAt, ctx.now),
    toFinal: workflow.isFinal(to),
    state: {
      ...token,
      data,
      metadata,
      place: to,
      updatedAt: ctx.now,
      placeEnteredAt: ctx.now,
      lastTransition,
    },
  });
}
