import {
  type DisabledReason,
  type TokenState,
  type TransitionAvailability,
  type TransitionDefinition,
} from '@cb/schemas';
import { type GuardRequest, type GuardVerdict, type GuardVerdicts } from '../guards';
import { type CompiledWorkflow } from './compiled-workflow';

/** The guards `availableTransitions` reports on: every guarded transition, on the token as it is. */
export function availabilityGuardRequests(
  workflow: CompiledWorkflow,
  token: TokenState,
): GuardRequest[] {
  return guardedRequests(workflow.definition.transitions, token);
}

/**
 * Every transition of the token's definition, in declaration order, with every reason it cannot
 * fire now: WRONG_PLACE, and GUARD_FAILED or GUARD_TOO_EXPENSIVE (the guard is evaluated even
 * from the wrong place, so a client sees everything that stands in the way at once). `verdicts`
 * holds the verdicts of `availabilityGuardRequests`.
 */
export function availableTransitions(
  workflow: CompiledWorkflow,
  token: TokenState,
  verdicts: GuardVerdicts,
): TransitionAvailability[] {
  return workflow.definition.transitions.map((t) => {
    const reasons: DisabledReason[] = [];
    if (!t.from.includes(token.place)) {
      reasons.push({
        code: 'WRONG_PLACE',
        message: `token is in "${token.place}"; "${t.id}" fires from ${quoteList(t.from)}`,
        place: token.place,
        from: t.from,
      });
    }
    const verdict = verdictOf(t, verdicts);
    if (verdict.status === 'failed') {
      reasons.push({
        code: 'GUARD_FAILED',
        message: `guard of "${t.id}" failed`,
        failures: verdict.failures,
        failureCount: verdict.failureCount,
      });
    } else if (verdict.status === 'too-expensive') {
      reasons.push({
        code: 'GUARD_TOO_EXPENSIVE',
        message: `guard of "${t.id}" could not be evaluated: ${verdict.message}`,
        ...(verdict.quarantinedUntil !== undefined && {
          quarantinedUntil: verdict.quarantinedUntil,
        }),
      });
    }
    return {
      id: t.id,
      from: t.from,
      to: t.to,
      ...(t.description !== undefined && { description: t.description }),
      enabled: reasons.length === 0,
      reasons,
    };
  });
}

/** The guards `enabledTransitionIds` needs: those of the transitions from the token's place. */
export function enabledGuardRequests(
  workflow: CompiledWorkflow,
  token: TokenState,
): GuardRequest[] {
  return guardedRequests(
    workflow.definition.transitions.filter((t) => t.from.includes(token.place)),
    token,
  );
}

/** Ids of the transitions that can fire now: from the token's place, guard passing. */
export function enabledTransitionIds(
  workflow: CompiledWorkflow,
  token: TokenState,
  verdicts: GuardVerdicts,
): string[] {
  return workflow.definition.transitions
    .filter((t) => t.from.includes(token.place) && verdictOf(t, verdicts).status === 'passed')
    .map((t) => t.id);
}

/**
 * A transition's guard verdict. A guard with no verdict was not evaluated (a caller bug): it
 * counts as not passing, never as passing.
 */
export function verdictOf(t: TransitionDefinition, verdicts: GuardVerdicts): GuardVerdict {
  if (t.guard === undefined) return { status: 'passed' };
  return (
    verdicts.get(t.id) ?? {
      status: 'too-expensive',
      message: `the guard of "${t.id}" was not evaluated`,
    }
  );
}

function guardedRequests(
  transitions: readonly TransitionDefinition[],
  token: TokenState,
): GuardRequest[] {
  return transitions
    .filter((t) => t.guard !== undefined)
    .map((t) => ({ transition: t.id, input: { data: token.data, metadata: token.metadata } }));
}

function quoteList(values: readonly string[]): string {
  return values.map((v) => `"${v}"`).join(', ');
}
