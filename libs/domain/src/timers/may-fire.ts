import { type TokenTimer, type TokenTimers } from './plan-timers';

/**
 * Whether a timer may fire now, given the token's current timers (its latest event applied):
 * `expectedVersion` is the version the fire must be written on, so that an event that lands in
 * between makes the write fail instead of firing on stale state. Otherwise the reason it may not:
 * - `token-gone`: no such token, or deleted;
 * - `moved`: the token left the place since `armedBy` (even if it came back: a new entry);
 * - `disarmed`: the transition has no timer any more (an `at` value removed or made invalid);
 * - `rescheduled`: its timer is due at another time now (an `at` value changed);
 * - `not-due`: `now` is before `dueAt`.
 */
export type FireVerdict =
  | { fire: true; expectedVersion: number }
  | { fire: false; reason: 'token-gone' | 'moved' | 'disarmed' | 'rescheduled' | 'not-due' };

export function mayFire(
  timer: TokenTimer,
  current: TokenTimers | undefined,
  now: string,
): FireVerdict {
  if (current?.status !== 'live') return { fire: false, reason: 'token-gone' };
  if (current.enteredSeq !== timer.armedBy) return { fire: false, reason: 'moved' };
  const pending = current.timers.find((t) => t.transition === timer.transition);
  if (!pending) return { fire: false, reason: 'disarmed' };
  if (pending.dueAt !== timer.dueAt) return { fire: false, reason: 'rescheduled' };
  if (Date.parse(now) < Date.parse(timer.dueAt)) return { fire: false, reason: 'not-due' };
  return { fire: true, expectedVersion: current.seq };
}
