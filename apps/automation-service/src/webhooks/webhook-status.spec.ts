import {
  alreadyDone,
  initialStatus,
  nextAttempt,
  recordAttempt,
  type Attempt,
} from './webhook-status';

const at = (n: number): string => new Date(1_700_000_000_000 + n * 1000).toISOString();
const attempt = (n: number, outcome: Attempt['outcome'], seq = 10): Attempt => ({
  seq,
  eventId: `evt_${seq}`,
  attempt: n,
  outcome,
  at: at(n),
  ...(outcome === 'delivered' ? {} : { error: 'HTTP 500' }),
});

describe('webhook status', () => {
  it('counts the attempts of the event in hand, so a restart goes on counting', () => {
    let s = initialStatus();
    expect(nextAttempt(s, 10)).toBe(1);
    s = recordAttempt(s, attempt(1, 'failed'), 5);
    s = recordAttempt(s, attempt(2, 'refused'), 5);
    expect(s.pending).toEqual({ seq: 10, eventId: 'evt_10', attempts: 2 });
    expect(nextAttempt(s, 10)).toBe(3);
    expect(nextAttempt(s, 11)).toBe(1);
    expect(s).toMatchObject({ state: 'active', consecutiveFailures: 2, lastError: 'HTTP 500' });
  });

  it('marks the webhook failing after failingAfter consecutive failures, active again on a success', () => {
    let s = initialStatus();
    for (let n = 1; n <= 3; n++) s = recordAttempt(s, attempt(n, 'failed'), 3);
    expect(s).toMatchObject({ state: 'failing', consecutiveFailures: 3, failingSince: at(3) });
    s = recordAttempt(s, attempt(4, 'failed'), 3);
    expect(s.failingSince).toBe(at(3));
    s = recordAttempt(s, attempt(5, 'delivered'), 3);
    expect(s).toMatchObject({
      state: 'active',
      consecutiveFailures: 0,
      delivered: 1,
      lastSuccessAt: at(5),
      lastDeliveredSeq: 10,
    });
    expect(s.failingSince).toBeUndefined();
    expect(s.pending).toBeUndefined();
    expect(alreadyDone(s, 10)).toBe(true);
    expect(alreadyDone(s, 11)).toBe(false);
  });

  it('a dead-letter ends the event, counts, and keeps the failure streak', () => {
    let s = recordAttempt(initialStatus(), attempt(1, 'failed'), 5);
    s = recordAttempt(s, attempt(2, 'dead-lettered'), 5);
    expect(s).toMatchObject({ deadLettered: 1, consecutiveFailures: 2, lastDeliveredSeq: 10 });
    expect(s.pending).toBeUndefined();
    expect(nextAttempt(s, 11)).toBe(1);
  });
});
