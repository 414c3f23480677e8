import { mayFire } from './may-fire';
import { type TokenTimer, type TokenTimers } from './plan-timers';

const timer: TokenTimer = { transition: 'escalate', dueAt: '2024-05-03T10:00:00.000Z', armedBy: 7 };

/** The token's current timers: in `review` since seq 7, last event at seq 9. */
const current = (overrides: Partial<TokenTimers> = {}): TokenTimers => ({
  workflowId: 'wf',
  tokenId: 't1',
  definitionVersion: 1,
  status: 'live',
  place: 'review',
  enteredSeq: 7,
  seq: 9,
  timers: [timer],
  unarmed: [],
  ...overrides,
});

describe('mayFire', () => {
  it('given the token in the place since armedBy, when due, then it fires on the current version', () => {
    expect(mayFire(timer, current(), '2024-05-03T10:00:00.000Z')).toEqual({
      fire: true,
      expectedVersion: 9,
    });
    expect(mayFire(timer, current(), '2024-06-01T00:00:00.000Z')).toEqual({
      fire: true,
      expectedVersion: 9,
    });
  });

  it('given a timer due 1 ms later, then it is not due yet', () => {
    expect(mayFire(timer, current(), '2024-05-03T09:59:59.999Z')).toEqual({
      fire: false,
      reason: 'not-due',
    });
  });

  it('given no such token, or a deleted one, then it is gone', () => {
    const now = '2024-06-01T00:00:00.000Z';
    expect(mayFire(timer, undefined, now)).toEqual({ fire: false, reason: 'token-gone' });
    expect(mayFire(timer, current({ status: 'deleted', timers: [] }), now)).toEqual({
      fire: false,
      reason: 'token-gone',
    });
  });

  it('given the token moved away and back since armedBy, then the old timer has moved on', () => {
    const back = current({ enteredSeq: 12, seq: 12, timers: [{ ...timer, armedBy: 12 }] });
    expect(mayFire(timer, back, '2024-06-01T00:00:00.000Z')).toEqual({
      fire: false,
      reason: 'moved',
    });
  });

  it('given an `at` value changed or removed since, then the old timer is rescheduled or disarmed', () => {
    const now = '2024-06-01T00:00:00.000Z';
    const later = current({ timers: [{ ...timer, dueAt: '2024-05-04T10:00:00.000Z' }] });
    expect(mayFire(timer, later, now)).toEqual({ fire: false, reason: 'rescheduled' });
    expect(mayFire(timer, current({ timers: [] }), now)).toEqual({
      fire: false,
      reason: 'disarmed',
    });
  });
});
