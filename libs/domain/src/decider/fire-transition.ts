import {
  type FireTransition,
  type JsonObject,
  type LastTransition,
  type TokenState,
  type TokenTransitioned,
  type TransitionDefinition,
} from '@cb/schemas';
import { DomainError, fail, ok, type Result } from '../errors';
import { type GuardRequest, type GuardVerdicts } from '../guards';
import { type CompiledWorkflow, enabledGuardRequests, enabledTransitionIds } from '../workflow';
import { type DecideContext, eventBase } from './context';
import { type TokenStreamState } from './token-stream-state';
import { elapsedMs } from './elapsed-ms';
import { applyPatches, liveToken, workflowNotFound, wrongDefinition } from './token-rules';

/** What firing comes to before any guard runs; both the guard requests and the decision use it. */
type FirePlan =
  | { kind: 'rejected'; error: DomainError }
  | { kind: 'not-enabled'; token: TokenState; workflow: CompiledWorkflow; message: string }
  | {
      kind: 'fire';
      token: TokenState;
      workflow: CompiledWorkflow;
      transition: TransitionDefinition;
      data: JsonObject;
      metadata: JsonObject;
    };

function planFire(
  command: FireTransition,
  state: TokenStreamState,
  workflow: CompiledWorkflow | null,
): FirePlan {
  const live = liveToken(state, command);
  if (!live.ok) return { kind: 'rejected', error: live.error };
  const token = live.value;
  if (workflow === null) return { kind: 'rejected', error: workflowNotFound(command.workflowId) };
  const mismatch = wrongDefinition(workflow, token.workflowId, token.definitionVersion);
  if (mismatch !== null) return { kind: 'rejected', error: mismatch };

  const transition = workflow.transition(command.transition);
  if (transition === undefined || !transition.from.includes(token.place)) {
    const message =
      transition === undefined
        ? `workflow "${token.workflowId}" has no transition "${command.transition}"`
        : `transition "${transition.id}" cannot fire from "${token.place}"`;
    return { kind: 'not-enabled', token, workflow, message };
  }
  const patched = applyPatches(token, command);
  if (!patched.ok) return { kind: 'rejected', error: patched.error };
  return { kind: 'fire', token, workflow, transition, ...patched.value };
}

/**
 * The guards a FireTransition decision needs, with their inputs: the fired transition's guard on
 * the token after the request's patches, or — when the transition cannot fire from the token's
 * place — the guards of the transitions that could, to report which are enabled.
 */
export function fireTransitionGuardRequests(
  command: FireTransition,
  state: TokenStreamState,
  workflow: CompiledWorkflow | null,
): GuardRequest[] {
  const plan = planFire(command, state, workflow);
  switch (plan.kind) {
    case 'rejected':
      return [];
    case 'not-enabled':
      return enabledGuardRequests(plan.workflow, plan.token);
    case 'fire':
      return plan.transition.guard === undefined
        ? []
        : [{ transition: plan.transition.id, input: { data: plan.data, metadata: plan.metadata } }];
    default: {
      const unhandled: never = plan;
      throw new Error(`unhandled plan ${JSON.stringify(unhandled)}`);
    }
  }
}

/**
 * FireTransition against the token's pinned definition. The patches are applied before the
 * guard runs, so a client can supply the data a guard requires in the same request. The guard's
 * verdict is an input (`ctx.guardVerdicts`, for `fireTransitionGuardRequests`).
 */
export function decideFireTransition(
  command: FireTransition,
  state: TokenStreamState,
  workflow: CompiledWorkflow | null,
  ctx: DecideContext,
): Result<TokenTransitioned> {
  const plan = planFire(command, state, workflow);
  const verdicts: GuardVerdicts = ctx.guardVerdicts ?? new Map();
  if (plan.kind === 'rejected') return fail(plan.error);
  if (plan.kind === 'not-enabled') {
    return fail(
      new DomainError('TRANSITION_NOT_ENABLED', plan.message, {
        transition: command.transition,
        place: plan.token.place,
        enabledTransitions: enabledTransitionIds(plan.workflow, plan.token, verdicts),
      }),
    );
  }

  const { token, transition, data, metadata } = plan;
  if (transition.guard !== undefined) {
    const verdict = verdicts.get(transition.id);
    if (verdict === undefined) {
      return fail(
        new DomainError('INTERNAL_ERROR', `the guard of "${transition.id}" was not evaluated`),
      );
    }
    if (verdict.status === 'failed') {
      return fail(
        new DomainError('GUARD_FAILED', `guard of transition "${transition.id}" failed`, {
          transition: transition.id,
          failures: verdict.failures,
          failureCount: verdict.failureCount,
        }),
      );
    }
    if (verdict.status === 'too-expensive') {
      return fail(
        new DomainError(
          'GUARD_TOO_EXPENSIVE',
          `guard of transition "${transition.id}" could not be evaluated: ${verdict.message}`,
          {
            transition: transition.id,
            ...(verdict.quarantinedUntil !== undefined && {
              quarantinedUntil: verdict.quarantinedUntil,
            }),
          },
        ),
      );
    }
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
    toFinal: plan.workflow.isFinal(to),
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
