import { type DisabledReason, type TokenState, type TransitionAvailability } from '@cb/schemas';
import { type CompiledWorkflow } from './compiled-workflow';

/**
 * Every transition of the token's definition, in declaration order, with every reason it cannot
 * fire now: WRONG_PLACE and/or GUARD_FAILED (the guard is evaluated even from the wrong place,
 * so a client sees everything that stands in the way at once).
 */
export function availableTransitions(
  workflow: CompiledWorkflow,
  token: TokenState,
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
    const failures = workflow.checkGuard(t.id, token);
    if (failures.length > 0) {
      reasons.push({ code: 'GUARD_FAILED', message: `guard of "${t.id}" failed`, failures });
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

/** Ids of the transitions that can fire now: from the token's place, guard passing. */
export function enabledTransitionIds(workflow: CompiledWorkflow, token: TokenState): string[] {
  return workflow.definition.transitions
    .filter((t) => t.from.includes(token.place) && workflow.checkGuard(t.id, token).length === 0)
    .map((t) => t.id);
}

function quoteList(values: readonly string[]): string {
  return values.map((v) => `"${v}"`).join(', ');
}
