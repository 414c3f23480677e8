import { type FieldError, type PrincipalRef } from '@cb/schemas';
import { type GuardVerdicts } from '../guards';

/** Everything impure a decision needs, supplied by the caller: the decider reads no clock. */
export interface DecideContext {
  /** ISO timestamp of the decision; becomes `occurredAt` and every timestamp it sets. */
  now: string;
  eventId: string;
  /** Used when CreateToken has no `tokenId`. */
  newTokenId: string;
  triggeredBy?: string;
  requestId?: string;
  /** Who the command was authenticated as: recorded in the event, apart from `triggeredBy`. */
  principal?: PrincipalRef;
  /**
   * Verdicts of the guards the decision needs (`guardRequestsFor`), evaluated by the caller where
   * a time budget holds. A needed guard without a verdict is never taken as passing.
   */
  guardVerdicts?: GuardVerdicts;
  /**
   * DefineWorkflow: the errors of compiling the definition's guards (`compileGuards`), when the
   * caller compiled them where that is bounded in time; reported with every other problem.
   */
  guardErrors?: readonly FieldError[];
}

/** Fields every event carries. Optional ones are omitted, never `undefined`. */
export function eventBase(ctx: DecideContext): {
  eventId: string;
  occurredAt: string;
  principal?: PrincipalRef;
  triggeredBy?: string;
  requestId?: string;
} {
  return {
    eventId: ctx.eventId,
    occurredAt: ctx.now,
    ...(ctx.principal !== undefined && {
      principal: { tenant: ctx.principal.tenant, keyId: ctx.principal.keyId },
    }),
    ...(ctx.triggeredBy !== undefined && { triggeredBy: ctx.triggeredBy }),
    ...(ctx.requestId !== undefined && { requestId: ctx.requestId }),
  };
}
