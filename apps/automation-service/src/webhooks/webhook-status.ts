import type { WebhookStatus } from '@cb/schemas';

export type AttemptOutcome = 'delivered' | 'failed' | 'refused' | 'dead-lettered';

export interface Attempt {
  seq: number;
  eventId: string;
  /** 1 for the first attempt at this event. */
  attempt: number;
  outcome: AttemptOutcome;
  at: string;
  error?: string;
}

export const initialStatus = (): WebhookStatus => ({
  state: 'active',
  consecutiveFailures: 0,
  delivered: 0,
  deadLettered: 0,
});

/**
 * The number of the next attempt at event `seq`: the status remembers the attempts of the event
 * in hand (`pending`), so a restart or a takeover goes on counting towards WEBHOOK_MAX_ATTEMPTS
 * instead of starting again.
 */
export function nextAttempt(status: WebhookStatus, seq: number): number {
  return status.pending?.seq === seq ? status.pending.attempts + 1 : 1;
}

/** Whether event `seq` was done with (delivered or dead-lettered) before its ack was recorded. */
export function alreadyDone(status: WebhookStatus, seq: number): boolean {
  return status.lastDeliveredSeq !== undefined && status.lastDeliveredSeq >= seq;
}

/**
 * The status after one attempt. A success resets the failures and makes a failing webhook active
 * again; a failure (refused included) counts, and `failingAfter` consecutive ones mark it failing
 * (since the first of them to cross the line); a dead-letter is a failure that also ends the
 * event. `lastDeliveredSeq` is the last event done with, either way.
 */
export function recordAttempt(
  status: WebhookStatus,
  a: Attempt,
  failingAfter: number,
): WebhookStatus {
  const base = { ...status, lastAttemptAt: a.at };
  if (a.outcome === 'delivered') {
    const { pending: _pending, failingSince: _since, ...rest } = base;
    return {
      ...rest,
      state: 'active',
      consecutiveFailures: 0,
      delivered: status.delivered + 1,
      lastSuccessAt: a.at,
      lastDeliveredSeq: a.seq,
    };
  }
  const consecutiveFailures = status.consecutiveFailures + 1;
  const failing = consecutiveFailures >= failingAfter;
  const { pending: _pending, failingSince: _since, ...rest } = base;
  const next: WebhookStatus = {
    ...rest,
    state: failing ? 'failing' : 'active',
    consecutiveFailures,
    ...(a.error !== undefined ? { lastError: a.error.slice(0, 300) } : {}),
    ...(failing ? { failingSince: status.failingSince ?? a.at } : {}),
  };
  if (a.outcome === 'dead-lettered') {
    return { ...next, deadLettered: status.deadLettered + 1, lastDeliveredSeq: a.seq };
  }
  return { ...next, pending: { seq: a.seq, eventId: a.eventId, attempts: a.attempt } };
}
