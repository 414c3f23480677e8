/** Everything impure a decision needs, supplied by the caller: the decider reads no clock. */
export interface DecideContext {
  /** ISO timestamp of the decision; becomes `occurredAt` and every timestamp it sets. */
  now: string;
  eventId: string;
  /** Used when CreateToken has no `tokenId`. */
  newTokenId: string;
  triggeredBy?: string;
  requestId?: string;
}

/** Fields every event carries. Optional ones are omitted, never `undefined`. */
export function eventBase(ctx: DecideContext): {
  eventId: string;
  occurredAt: string;
  triggeredBy?: string;
  requestId?: string;
} {
  return {
    eventId: ctx.eventId,
    occurredAt: ctx.now,
    ...(ctx.triggeredBy !== undefined && { triggeredBy: ctx.triggeredBy }),
    ...(ctx.requestId !== undefined && { requestId: ctx.requestId }),
  };
}
