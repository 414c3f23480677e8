import { type TokenTimer, type TokenTimers } from './plan-timers';

/**
 * What changed between a token's timers before and after an event, for a scheduler: timers to
 * schedule (`armed`) and scheduled timers to drop (`cancelled`). A timer is the same one only
 * with the same transition, `armedBy` and `dueAt`, so a move away and back, or a changed `at`
 * value, cancels the old timer and arms a new one; an update that changes neither leaves it be.
 */
export function diffTimers(
  before: TokenTimers | undefined,
  after: TokenTimers,
): { armed: TokenTimer[]; cancelled: TokenTimer[] } {
  const key = (t: TokenTimer): string => `${t.transition}=${t.armedBy}=${t.dueAt}`;
  const was = new Set((before?.timers ?? []).map(key));
  const is = new Set(after.timers.map(key));
  return {
    armed: after.timers.filter((t) => !was.has(key(t))),
    cancelled: (before?.timers ?? []).filter((t) => !is.has(key(t))),
  };
}
